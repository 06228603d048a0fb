using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Orleans.Storage;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// Which faults met while a run is started, supervised or wound up are the cluster's passing faults rather than the run's:
/// PostgreSQL away for a moment (<see cref="DatabaseFaults"/>), a silo of the cluster unreachable (a call to the queue
/// grain whose silo was just killed: a rejected message, an unavailable silo, a failed connection, a call that timed out,
/// any fault of the Orleans runtime while membership churns), or the runner's daemon restarting
/// (<see cref="RunnerInterruptedException"/>). Such a fault never fails a backtest or a batch: the run is taken up again
/// once the cluster answers. An unreachable cluster is waited for a grace (<see cref="StillWaited"/>,
/// <c>Backtesting:ClusterUnreachableGrace</c>), after which the backtest gives up. Any other fault is the run's own. The
/// exception is looked through (inner and aggregated exceptions), since callers wrap it.
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

        string? found = null;
        for (var (depth, e) = (0, exception); depth < 8 && e is not null; depth++, e = e.InnerException)
        {
            switch (e)
            {
                case RunnerInterruptedException:
                    return RunEndRule.RunnerInterruptedOutcome;
                case InconsistentStateException:
                    // Another activation wrote this grain's state: no wait for the cluster changes that.
                    return null;
                case AggregateException aggregate:
                    return found ?? aggregate.InnerExceptions.Select(Of).FirstOrDefault(o => o is not null);
                case OrleansException or TimeoutException:
                    // A rejected message, an unavailable silo, a connection that failed, a directory in the middle of a
                    // membership change: the Orleans runtime's faults are the cluster's (the grace bounds the wait). What
                    // it wraps may say more (the runner's daemon, another activation's write): looked through first.
                    found ??= ClusterUnreachableOutcome;
                    break;
            }
        }

        return found;
    }

    /// <summary>
    /// Whether a run interrupted by <paramref name="outcome"/> is still waited for (taken up again), the cluster having been
    /// unreachable for <paramref name="unreachableFor"/> since the first fault of an unbroken run of them: an unreachable
    /// cluster within <paramref name="grace"/> (it is over exactly at its end), and the database or the runner's daemon
    /// always (the runner bounds its own wait: <see cref="DockerDaemonErrors.Unanswered"/>). Past the grace, the backtest
    /// gives up: it fails with the fault.
    /// </summary>
    public static bool StillWaited(string outcome, TimeSpan unreachableFor, TimeSpan grace) =>
        outcome != ClusterUnreachableOutcome || unreachableFor < grace;

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
