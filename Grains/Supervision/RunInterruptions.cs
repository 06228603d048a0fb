using Backtesting.Grains.Runners;
using Backtesting.Storage;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// Which faults met while a run is started, supervised or wound up are the cluster's passing faults rather than the run's:
/// PostgreSQL away for a moment (<see cref="DatabaseFaults"/>), a silo of the cluster unreachable (a call to the queue
/// grain whose silo was just killed: a rejected message, an unavailable silo, a call that timed out), or the runner's
/// daemon restarting (<see cref="RunnerInterruptedException"/>). Such a fault never fails a backtest or a batch: the run is
/// taken up again once the cluster answers. Any other fault is the run's own. The exception is looked through (inner and
/// aggregated exceptions), since callers wrap it.
/// </summary>
public static class RunInterruptions
{
    /// <summary>The outcome of an attempt a silo of the cluster could not be reached for (its run is started again).</summary>
    public const string ClusterUnreachableOutcome = "cluster unreachable for now";

    /// <summary>
    /// The attempt's outcome when <paramref name="exception"/> is the cluster's passing fault (<see cref="RunEndRule.DatabaseUnavailableOutcome"/>,
    /// <see cref="RunEndRule.RunnerInterruptedOutcome"/> or <see cref="ClusterUnreachableOutcome"/>); null when it is the run's own.
    /// </summary>
    public static string? Of(Exception exception)
    {
        if (DatabaseFaults.IsUnavailable(exception))
        {
            return RunEndRule.DatabaseUnavailableOutcome;
        }

        for (var (depth, e) = (0, exception); depth < 8 && e is not null; depth++, e = e.InnerException)
        {
            switch (e)
            {
                case RunnerInterruptedException:
                    return RunEndRule.RunnerInterruptedOutcome;
                case OrleansMessageRejectionException or TimeoutException:
                    return ClusterUnreachableOutcome;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Select(Of).FirstOrDefault(o => o is not null);
            }
        }

        return null;
    }

    /// <summary>How a log says what interrupted a run, from its outcome (null: its silo was lost).</summary>
    public static string Describe(string? outcome) => outcome switch
    {
        RunEndRule.DatabaseUnavailableOutcome => "the database was away",
        RunEndRule.RunnerInterruptedOutcome => "its runner's daemon did not answer",
        ClusterUnreachableOutcome => "a silo of the cluster could not be reached",
        null => "its silo was lost",
        _ => outcome,
    };
}
