using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using Npgsql;

namespace Backtesting.Tests.Rules;

/// <summary>
/// How long a backtest or a batch waits for an unreachable cluster (<see cref="UnreachableWait"/>): timed from the first
/// fault of an unbroken run of them, over exactly at the grace, broken only by the cluster answering; the database and the
/// runner's daemon are waited for by their own rules and neither start nor stop the clock.
/// </summary>
public class UnreachableWaitTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);
    private static readonly DateTime Start = new(2026, 12, 7, 9, 0, 0, DateTimeKind.Utc);

    private static Exception Unreachable() => new SiloUnavailableException("The target silo became unavailable");
    private static Exception DatabaseAway() => new PostgresException("terminating connection", "FATAL", "FATAL", "57P01");
    private static Exception DaemonRestarting() => new RunnerInterruptedException("the Docker daemon is unreachable (restarting?)");
    private static Exception OwnFault() => new Orleans.Serialization.CodecNotFoundException("Could not find a codec");

    /// <summary>Seconds since the first unreachable fault, and whether the run still waits for the cluster.</summary>
    public static TheoryData<double, bool> Since() => new()
    {
        { 0, true },
        { 3, true },        // the first retry
        { 299.999, true },
        { 300, false },     // over exactly at its end
        { 300.001, false },
        { 3600, false },
    };

    /// <summary>Within the grace an unreachable cluster is waited for; at and after its end the run gives up with the fault.</summary>
    [Theory, MemberData(nameof(Since))]
    public void An_unbroken_run_of_unreachable_faults_is_waited_for_its_grace_from_its_first(double seconds, bool waited)
    {
        var wait = new UnreachableWait(Grace);
        Assert.Equal(RunInterruptions.ClusterUnreachableOutcome, wait.Interruption(Unreachable(), Start));
        Assert.Equal(Start, wait.Since);
        var now = Start + TimeSpan.FromSeconds(seconds);
        Assert.Equal(waited ? RunInterruptions.ClusterUnreachableOutcome : null, wait.Interruption(Unreachable(), now));
        Assert.Equal(!waited, wait.GivesUp(Unreachable(), now));
        // The later faults do not move its start.
        Assert.Equal(Start, wait.Since);
    }

    /// <summary>Once the cluster answered, the next unreachable fault starts a run of its own, with a whole grace before it.</summary>
    [Fact]
    public void The_cluster_answering_breaks_the_run_and_the_next_is_timed_from_its_own_first()
    {
        var wait = new UnreachableWait(Grace);
        wait.Interruption(Unreachable(), Start);
        wait.Answered();
        Assert.Null(wait.Since);
        var later = Start + TimeSpan.FromMinutes(4.9);
        Assert.Equal(RunInterruptions.ClusterUnreachableOutcome, wait.Interruption(Unreachable(), later));
        Assert.Equal(later, wait.Since);
        Assert.Equal(RunInterruptions.ClusterUnreachableOutcome, wait.Interruption(Unreachable(), later + Grace - TimeSpan.FromTicks(1)));
        Assert.False(wait.GivesUp(Unreachable(), Start + Grace + TimeSpan.FromMinutes(1)));
        Assert.True(wait.GivesUp(Unreachable(), later + Grace));
    }

    public static TheoryData<string> Passing() => new() { "database", "daemon" };

    private static Exception Fault(string what) => what switch
    {
        "database" => DatabaseAway(),
        "daemon" => DaemonRestarting(),
        _ => throw new ArgumentOutOfRangeException(nameof(what)),
    };

    /// <summary>
    /// A database or daemon fault alone never starts the clock, is waited for however long, and never gives the run up;
    /// one in the middle of an unreachable run does not break it either (only the cluster answering does).
    /// </summary>
    [Theory, MemberData(nameof(Passing))]
    public void A_database_or_daemon_fault_is_no_unreachable_cluster_and_does_not_break_a_run_of_them(string what)
    {
        var expected = what == "database" ? RunEndRule.DatabaseUnavailableOutcome : RunEndRule.RunnerInterruptedOutcome;

        var alone = new UnreachableWait(Grace);
        Assert.Equal(expected, alone.Interruption(Fault(what), Start));
        Assert.Null(alone.Since);
        Assert.Equal(expected, alone.Interruption(Fault(what), Start + TimeSpan.FromHours(2)));
        Assert.False(alone.GivesUp(Fault(what), Start + TimeSpan.FromHours(3)));
        // The first unreachable fault after it starts the clock then, not at the database's or daemon's fault.
        var first = Start + TimeSpan.FromHours(3);
        Assert.Equal(RunInterruptions.ClusterUnreachableOutcome, alone.Interruption(Unreachable(), first));
        Assert.Equal(first, alone.Since);

        var between = new UnreachableWait(Grace);
        between.Interruption(Unreachable(), Start);
        Assert.Equal(expected, between.Interruption(Fault(what), Start + TimeSpan.FromMinutes(4)));
        Assert.Equal(Start, between.Since);
        Assert.True(between.GivesUp(Unreachable(), Start + Grace));
        // Past the grace the database and the daemon are still waited for: the runner and the database bound their own waits.
        Assert.Equal(expected, between.Interruption(Fault(what), Start + Grace + TimeSpan.FromMinutes(1)));
    }

    /// <summary>The run's own fault is no interruption, never starts the clock and is not a giving up (the run fails with it by its own rule).</summary>
    [Fact]
    public void The_runs_own_fault_neither_waits_nor_starts_the_clock()
    {
        var wait = new UnreachableWait(Grace);
        Assert.Null(wait.Interruption(OwnFault(), Start));
        Assert.False(wait.GivesUp(OwnFault(), Start + TimeSpan.FromHours(1)));
        Assert.Null(wait.Since);

        wait.Interruption(Unreachable(), Start);
        Assert.Null(wait.Interruption(OwnFault(), Start + TimeSpan.FromMinutes(1)));
        Assert.Equal(Start, wait.Since);
    }

    /// <summary>The reason a run fails with says how long it waited (in minutes, or seconds under one) and what the cluster's fault said.</summary>
    [Theory]
    [InlineData(300, "5 minutes")]
    [InlineData(90, "1.5 minutes")]
    [InlineData(60, "1 minutes")]
    [InlineData(59.5, "59.5 seconds")]
    [InlineData(4, "4 seconds")]
    public void The_reason_names_the_grace_and_the_fault(double seconds, string said)
    {
        var wait = new UnreachableWait(TimeSpan.FromSeconds(seconds));
        var reason = wait.GiveUpReason(new OrleansException("Exception while sending message", new SiloUnavailableException("S127.0.0.2:11111 is dead")));
        Assert.Equal($"the cluster could not be reached for {said} (S127.0.0.2:11111 is dead)", reason);
        Assert.Equal(TimeSpan.FromSeconds(seconds), wait.Grace);
    }
}
