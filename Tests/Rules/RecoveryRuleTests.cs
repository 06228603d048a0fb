using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using Npgsql;

namespace Backtesting.Tests.Rules;

/// <summary>
/// What a backtest's recovery does in every state, and which faults are the cluster's passing ones (the run is taken up
/// again) rather than the run's (it fails).
/// </summary>
public class RecoveryRuleTests
{
    public static TheoryData<BacktestState> EveryState() => new(Enum.GetValues<BacktestState>());

    /// <summary>
    /// An ended backtest settles its end in every terminal state, with or without a run here, deleted or not: its slot goes
    /// back even when the release at its end was lost (the chaos run found a slot held after every backtest had ended, by a
    /// release lost with the queue's silo; the recovery only dropped the reminder).
    /// </summary>
    [Theory, MemberData(nameof(EveryState))]
    public void Every_state_has_its_step_and_every_ended_or_deleted_backtest_settles_its_end(BacktestState state)
    {
        foreach (var hasRun in new[] { false, true })
        {
            Assert.Equal(RecoveryStep.SettleEnd, RecoveryRule.Next(state, deleted: true, hasRun));
            var expected = Lifecycle.IsTerminal(state) ? RecoveryStep.SettleEnd
                : hasRun ? RecoveryStep.None
                : state switch
                {
                    BacktestState.Created => RecoveryStep.None,
                    BacktestState.Queued => RecoveryStep.AskForSlot,
                    BacktestState.Starting or BacktestState.Running => RecoveryStep.RestartRun,
                    BacktestState.Paused => RecoveryStep.KeepPausedSlot,
                    _ => throw new InvalidOperationException($"{state} has no expected step"),
                };
            Assert.Equal(expected, RecoveryRule.Next(state, deleted: false, hasRun));
        }
    }

    /// <summary>The quick retries stop once nothing is missing: only a backtest that should be running and has no run goes on.</summary>
    [Theory, MemberData(nameof(EveryState))]
    public void The_quick_retries_go_on_only_while_a_run_that_should_exist_does_not(BacktestState state)
    {
        Assert.True(RecoveryRule.Settled(state, deleted: false, hasRun: true));
        Assert.True(RecoveryRule.Settled(state, deleted: true, hasRun: false));
        Assert.Equal(state is not (BacktestState.Starting or BacktestState.Running), RecoveryRule.Settled(state, deleted: false, hasRun: false));
    }

    public static TheoryData<string, string?> Faults() => new()
    {
        { "57P01", RunEndRule.DatabaseUnavailableOutcome },
        { "08006", RunEndRule.DatabaseUnavailableOutcome },
        { "silo unavailable", RunInterruptions.ClusterUnreachableOutcome },
        { "message rejected", RunInterruptions.ClusterUnreachableOutcome },
        { "call timed out", RunInterruptions.ClusterUnreachableOutcome },
        { "daemon restarting", RunEndRule.RunnerInterruptedOutcome },
        // Membership churn after kills (issue 18): what a call to the queue grain or another silo met besides a rejection.
        { "connection failed", RunInterruptions.ClusterUnreachableOutcome },
        { "directory churning", RunInterruptions.ClusterUnreachableOutcome },
        { "daemon restarting behind a silo", RunEndRule.RunnerInterruptedOutcome },
        { "another activation wrote", null },
        { "daemon unavailable", null },
        // Orleans faults of the run's own: they fail it at once with their real error, no wait for the cluster.
        { "no codec", null },
        { "configuration", null },
        { "own timeout", null },
        { "a bug", null },
        { "illegal move", null },
        { "unique violation", null },
    };

    /// <summary>
    /// Each fault, bare, wrapped as a caller wraps it (an inner exception, an aggregate beside an unrelated one): the cluster's
    /// passing faults are told by what they are, wherever they sit; a fault of the run is never one.
    /// </summary>
    [Theory, MemberData(nameof(Faults))]
    public void The_clusters_passing_faults_are_told_apart_from_the_runs_own_however_wrapped(string fault, string? outcome)
    {
        var e = Fault(fault);
        Assert.Equal(outcome, RunInterruptions.Of(e));
        Assert.Equal(outcome, RunInterruptions.Of(new InvalidOperationException("persisting the move to Running failed", e)));
        Assert.Equal(outcome, RunInterruptions.Of(new AggregateException(new InvalidOperationException("unrelated"), e)));
        Assert.NotEmpty(RunInterruptions.Describe(outcome));
    }

    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    /// <summary>Seconds the cluster has been unreachable, and whether a run interrupted by each passing fault is still waited for.</summary>
    public static TheoryData<double, bool> UnreachableFor() => new()
    {
        { 0, true },
        { 20, true },          // a silo killed every 20 s
        { 299.999, true },
        { 300, false },        // the grace is over exactly at its end
        { 3600, false },
    };

    /// <summary>
    /// An unreachable cluster is waited for its grace, then given up on; the database and the runner's daemon are always
    /// waited for (the runner bounds its own wait), however long the cluster was unreachable.
    /// </summary>
    [Theory, MemberData(nameof(UnreachableFor))]
    public void An_unreachable_cluster_is_waited_for_its_grace_and_no_longer(double seconds, bool waited)
    {
        var unreachableFor = TimeSpan.FromSeconds(seconds);
        Assert.Equal(waited, RunInterruptions.StillWaited(RunInterruptions.ClusterUnreachableOutcome, unreachableFor, Grace));
        Assert.True(RunInterruptions.StillWaited(RunEndRule.DatabaseUnavailableOutcome, unreachableFor, Grace));
        Assert.True(RunInterruptions.StillWaited(RunEndRule.RunnerInterruptedOutcome, unreachableFor, Grace));
    }

    /// <summary>The default grace is five minutes: more than a lease, far more than a kill every 20 s.</summary>
    [Fact]
    public void The_default_grace_outlasts_membership_churn()
    {
        var options = new Backtesting.Grains.BacktestClusterOptions();
        Assert.Equal(TimeSpan.FromMinutes(5), options.ClusterUnreachableGrace);
        Assert.True(options.ClusterUnreachableGrace > options.LeaseDuration);
    }

    private static Exception Fault(string fault) => fault switch
    {
        "57P01" or "08006" => new PostgresException("terminating connection", "FATAL", "FATAL", fault),
        "silo unavailable" => new SiloUnavailableException("The target silo became unavailable"),
        "message rejected" => new OrleansException("Exception while sending message", new SiloUnavailableException("Unable to connect to S127.0.0.2:11111")),
        "call timed out" => new TimeoutException(RunInterruptions.ResponseTimeoutPrefix + "00:00:30 for message: Request IBacktestQueueGrain.Renew(). "),
        "daemon restarting" => new RunnerInterruptedException("the Docker daemon is unreachable (it answered 3 s ago: restarting?)"),
        "connection failed" => new Orleans.Runtime.Messaging.ConnectionFailedException("Unable to connect to endpoint S127.0.0.2:11111"),
        // What a call meets while an activation's directory entry is invalidated by a membership change: a rejection.
        "directory churning" => RunInterruptionsTests.Make(typeof(OrleansMessageRejectionException),
            "Forwarding failed: tried to forward message Request IBacktestQueueGrain.Renew() for 2 times after \"Failed to register activation in grain directory.\" to invalid activation. Rejecting now."),
        "daemon restarting behind a silo" => new OrleansException("Exception while sending message",
            new RunnerInterruptedException("the Docker daemon is unreachable (it answered 2 s ago: restarting?)")),
        "another activation wrote" => new Orleans.Storage.InconsistentStateException("ETag mismatch", "a", "b"),
        "daemon unavailable" => new RunnerUnavailableException("the Docker daemon is unreachable"),
        "a bug" => new NullReferenceException(),
        "illegal move" => new IllegalTransitionException(BacktestState.Completed, "move to Failed"),
        "no codec" => new Orleans.Serialization.CodecNotFoundException("Could not find a codec for type Backtesting.Grains.Interfaces.BacktestSummary"),
        "configuration" => new OrleansConfigurationException("No storage provider named Default"),
        "own timeout" => new TimeoutException("the market data did not arrive within 30 s"),
        "unique violation" => new PostgresException("duplicate key", "ERROR", "ERROR", "23505"),
        _ => throw new ArgumentOutOfRangeException(nameof(fault)),
    };
}
