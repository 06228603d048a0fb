using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using static Backtesting.Grains.Supervision.RunEndDecision;

namespace Backtesting.Tests.Rules;

/// <summary>The decision after a run ends, for every exit code the worker defines, every requested stop and every flag.</summary>
public class RunEndRuleTests
{
    private const long Mb = 1048576;
    private const long Cap = 4096 * Mb;
    private const int MaxAttempts = 3;

    /// <summary>Codes the worker never returns: a kill (137), a crash (134, 139), a wrapper's own error (255, -1).</summary>
    private static readonly int[] DeathCodes = [134, 137, 139, 255, -1];

    public static TheoryData<int> Deaths() => new(DeathCodes);

    public static TheoryData<int> DefinedCodes() => new(ExitCodes.All);

    public static TheoryData<int> EveryCode() => new(ExitCodes.All.Concat(DeathCodes));

    public static TheoryData<int> EveryCodeButCompleted() => new(ExitCodes.All.Concat(DeathCodes).Where(c => c != ExitCodes.Completed));

    /// <summary>What each code the protocol defines comes to when the silo asked for no stop and memory was not the cause.</summary>
    private static readonly Dictionary<int, Type> Unrequested = new()
    {
        [ExitCodes.Completed] = typeof(Complete),
        [ExitCodes.Failed] = typeof(FailAsReported),
        [ExitCodes.InvalidConfig] = typeof(FailAsReported),
        [ExitCodes.Usage] = typeof(FailAsReported),
        [ExitCodes.Stopped] = typeof(Retry),
        [ExitCodes.CheckpointMismatch] = typeof(FailAsReported),
        [ExitCodes.CompileFailed] = typeof(Retry),
        [ExitCodes.TimedOut] = typeof(Stop),
    };

    private static RunAttempt Attempt(int number, string? outcome = "died (exit code 137)", long? memory = null) =>
        new(number, "docker", DateTime.UnixEpoch, DateTime.UnixEpoch, 137, outcome, 0, "silo", null, memory);

    private static RunEndDecision Decide(RunExit exit, BacktestState? stop = null, string? reason = null, string? reported = null,
        IReadOnlyList<RunAttempt>? attempts = null) =>
        RunEndRule.Decide(new RunEndFacts(exit, stop, reason, reported, attempts ?? [Attempt(1, RunEndRule.Outcome(exit))], MaxAttempts, Cap));

    // ---- Every code the protocol defines ----------------------------------------------------------------

    [Fact]
    public void Every_exit_code_the_protocol_defines_has_an_expected_decision() =>
        Assert.Equal(ExitCodes.All.Order(), Unrequested.Keys.Order());

    [Theory, MemberData(nameof(DefinedCodes))]
    public void Every_defined_exit_code_without_a_stop_comes_to_its_own_decision(int code) =>
        Assert.IsType(Unrequested[code], Decide(new RunExit(code)));

    [Theory, MemberData(nameof(Deaths))]
    public void A_code_the_protocol_does_not_define_is_a_death_retried_from_the_checkpoint(int code) =>
        Assert.Equal(new Retry($"attempt 1 died (exit code {code}); retrying from the checkpoint"), Decide(new RunExit(code)));

    [Fact]
    public void A_completed_run_completes() => Assert.Equal(new Complete(), Decide(new RunExit(ExitCodes.Completed)));

    [Theory]
    [InlineData(ExitCodes.Failed, "the worker failed")]
    [InlineData(ExitCodes.InvalidConfig, "the worker invalid config")]
    [InlineData(ExitCodes.CheckpointMismatch, "the worker checkpoint mismatch")]
    [InlineData(ExitCodes.Usage, "the worker died (exit code 3)")]
    public void A_failure_the_worker_reports_fails_without_a_retry_with_its_outcome_as_the_fallback(int code, string fallback) =>
        Assert.Equal(new FailAsReported(fallback), Decide(new RunExit(code)));

    [Theory]
    [InlineData(ExitCodes.Failed)]
    [InlineData(ExitCodes.InvalidConfig)]
    [InlineData(ExitCodes.CheckpointMismatch)]
    [InlineData(ExitCodes.Usage)]
    public void A_reported_failure_wins_over_an_oom_kill_and_a_fatal_crash(int code) =>
        Assert.IsType<FailAsReported>(Decide(new RunExit(code, OutOfMemory: true, Fatal: "stack overflow"), attempts: [Attempt(1, memory: 512 * Mb)]));

    [Fact]
    public void The_workers_own_timeout_ends_the_run_timed_out_with_the_error_it_reported() =>
        Assert.Equal(new Stop(BacktestState.TimedOut, "stalled for 120 s"),
            Decide(new RunExit(ExitCodes.TimedOut), reported: "stalled for 120 s"));

    [Fact]
    public void The_workers_own_timeout_without_a_reported_error_names_the_workers_watchdog() =>
        Assert.Equal(new Stop(BacktestState.TimedOut, "the worker's watchdog stopped the run"), Decide(new RunExit(ExitCodes.TimedOut)));

    [Fact]
    public void The_workers_own_timeout_is_not_retried_even_when_killed_for_memory() =>
        Assert.IsType<Stop>(Decide(new RunExit(ExitCodes.TimedOut, OutOfMemory: true), attempts: [Attempt(1, memory: 512 * Mb)]));

    // ---- Stops the silo asked for -----------------------------------------------------------------------

    [Theory, MemberData(nameof(EveryCodeButCompleted))]
    public void A_cancelled_run_ends_cancelled_whatever_its_exit_code(int code) =>
        Assert.Equal(new Stop(BacktestState.Cancelled, "cancelled by request"),
            Decide(new RunExit(code, OutOfMemory: true, Fatal: "crash"), BacktestState.Cancelled, "cancelled by request", "an error"));

    [Theory, MemberData(nameof(EveryCodeButCompleted))]
    public void A_run_the_silo_timed_out_ends_timed_out_with_the_silos_reason(int code) =>
        Assert.Equal(new Stop(BacktestState.TimedOut, "ran past 30 min"),
            Decide(new RunExit(code), BacktestState.TimedOut, "ran past 30 min", "the worker's own reason"));

    [Theory, MemberData(nameof(EveryCodeButCompleted))]
    public void A_run_whose_slot_was_reclaimed_is_queued_again_whatever_its_exit_code(int code) =>
        Assert.Equal(new Requeue("slot reclaimed"), Decide(new RunExit(code, OutOfMemory: true), BacktestState.Queued, "slot reclaimed"));

    [Theory]
    [InlineData(BacktestState.Cancelled)]
    [InlineData(BacktestState.TimedOut)]
    [InlineData(BacktestState.Queued)]
    public void A_run_that_completed_before_its_stop_reached_it_completes(BacktestState stop) =>
        Assert.Equal(new Complete(), Decide(new RunExit(ExitCodes.Completed), stop, "too late"));

    // ---- Deaths -----------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Deaths))]
    public void A_fatal_crash_fails_at_once_with_what_killed_it_and_keeps_no_checkpoint(int code) =>
        Assert.Equal(new Fail(ErrorTypes.Execution, "stack overflow", SyncCheckpoint: false),
            Decide(new RunExit(code, Fatal: "stack overflow"), attempts: [Attempt(1)]));

    [Theory, MemberData(nameof(Deaths))]
    public void A_death_is_retried_while_attempts_remain(int code) =>
        Assert.IsType<Retry>(Decide(new RunExit(code), attempts: [Attempt(1), Attempt(2)]));

    [Theory, MemberData(nameof(Deaths))]
    public void A_death_on_the_last_attempt_fails_naming_the_attempts(int code) =>
        Assert.Equal(new Fail(ErrorTypes.Execution, $"the run died (exit code {code}) on 3 attempts", SyncCheckpoint: true),
            Decide(new RunExit(code), attempts: [Attempt(1), Attempt(2), Attempt(3)]));

    /// <summary>
    /// Attempts the cluster ended before or around the worker (the database away, the runner's daemon restarting: an end
    /// with no exit code) never use up the backtest's attempts, however many there were; lost with a silo (never ended)
    /// and deaths do; out-of-memory retries do not.
    /// </summary>
    [Theory, MemberData(nameof(Deaths))]
    public void Only_deaths_of_the_worker_and_runs_lost_with_their_silo_use_up_the_attempts(int code)
    {
        var interrupted = new[] { RunEndRule.DatabaseUnavailableOutcome, RunEndRule.RunnerInterruptedOutcome }
            .Select((outcome, i) => new RunAttempt(i + 1, "docker", DateTime.UnixEpoch, DateTime.UnixEpoch, null, outcome, 0, "silo", null))
            .ToList();
        var lost = new RunAttempt(1, "docker", DateTime.UnixEpoch, null, null, null, 0, "silo", null);
        Assert.All(interrupted, a => Assert.False(RunEndRule.CountsAgainstLimit(a)));
        Assert.True(RunEndRule.CountsAgainstLimit(lost));
        Assert.True(RunEndRule.CountsAgainstLimit(Attempt(1)));
        Assert.False(RunEndRule.CountsAgainstLimit(Attempt(1, RunEndRule.OutOfMemoryOutcome)));

        // Ten interruptions, then two deaths (the second the one being decided): retried, as after two deaths alone.
        var many = Enumerable.Range(0, 5).SelectMany(_ => interrupted).Append(Attempt(11)).Append(Attempt(12)).ToList();
        Assert.IsType<Retry>(Decide(new RunExit(code), attempts: many));
        // Two runs lost with their silos and a death: the attempts are used up.
        Assert.IsType<Fail>(Decide(new RunExit(code), attempts: [lost, lost with { Number = 2 }, Attempt(3)]));
    }

    /// <summary>
    /// A run the runner lost contact with while its daemon restarted (its containers stopped under it) is the cluster's
    /// fault: retried whatever attempts were used, and never counted, whatever code the lost run showed. The chaos run
    /// failed a backtest "the run died (lost contact with container ...) on 3 attempts" after a container kill, a silo
    /// kill and a daemon restart.
    /// </summary>
    [Theory, MemberData(nameof(Deaths))]
    public void A_run_lost_to_its_daemon_restarting_is_retried_past_the_attempts_and_never_counted(int code)
    {
        var lostContact = new RunExit(code, Detail: "lost contact with container abc: connection refused", Interrupted: true);
        Assert.Equal(RunEndRule.RunnerInterruptedOutcome, RunEndRule.Outcome(lostContact));
        var recorded = new RunAttempt(3, "docker", DateTime.UnixEpoch, DateTime.UnixEpoch, code, RunEndRule.Outcome(lostContact), 0, "silo", null);
        Assert.False(RunEndRule.CountsAgainstLimit(recorded));
        // After two deaths, on the third attempt: the attempts would be used up by a death, not by this.
        var decision = Decide(lostContact, attempts: [Attempt(1), Attempt(2), recorded]);
        Assert.Equal(new Retry("attempt 3 runner unreachable for now: lost contact with container abc: connection refused; retrying from the checkpoint"), decision);
        // A stop the silo asked for still wins, and a run that completed before the contact was lost completed.
        Assert.IsType<Stop>(Decide(lostContact, BacktestState.Cancelled, "cancelled by request"));
        Assert.IsType<Complete>(Decide(lostContact with { ExitCode = ExitCodes.Completed }));
        // Without the flag the same code is a death, counted as before.
        Assert.IsType<Fail>(Decide(lostContact with { Interrupted = false }, attempts: [Attempt(1), Attempt(2), Attempt(3)]));
    }

    [Fact]
    public void A_stop_nobody_asked_for_is_a_death_and_retried() =>
        Assert.Equal(new Retry("attempt 1 stopped with partial results; retrying from the checkpoint"), Decide(new RunExit(ExitCodes.Stopped)));

    [Fact]
    public void A_death_says_what_the_runner_saw_when_it_saw_something() =>
        Assert.Equal(new Retry("attempt 1 died (killed by signal 9); retrying from the checkpoint"),
            Decide(new RunExit(137, Detail: "killed by signal 9")));

    // ---- Out of memory ----------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Deaths))]
    public void An_oom_kill_doubles_the_memory_up_to_the_cap(int code) =>
        Assert.Equal(new Retry("attempt 1 ran out of memory at 512 MB; retrying from the checkpoint with 1024 MB"),
            Decide(new RunExit(code, OutOfMemory: true), attempts: [Attempt(1, RunEndRule.OutOfMemoryOutcome, 512 * Mb)]));

    [Fact]
    public void An_oom_kill_just_below_the_cap_retries_with_the_cap_and_not_more() =>
        Assert.Equal(new Retry("attempt 1 ran out of memory at 3072 MB; retrying from the checkpoint with 4096 MB"),
            Decide(new RunExit(137, OutOfMemory: true), attempts: [Attempt(1, RunEndRule.OutOfMemoryOutcome, 3072 * Mb)]));

    [Fact]
    public void An_oom_kill_at_the_cap_fails_with_a_memory_error_naming_the_setting() =>
        Assert.Equal(new Fail(ErrorTypes.Memory, "the run ran out of memory at the cap of 4096 MB (Backtesting:Docker:MaxMemoryBytes)", SyncCheckpoint: true),
            Decide(new RunExit(137, OutOfMemory: true), attempts: [Attempt(1, RunEndRule.OutOfMemoryOutcome, Cap)]));

    [Fact]
    public void An_oom_kill_of_a_run_without_a_memory_limit_fails_with_a_memory_error() =>
        Assert.Equal(new Fail(ErrorTypes.Memory, "the run ran out of memory at the cap of 0 MB (Backtesting:Docker:MaxMemoryBytes)", SyncCheckpoint: true),
            Decide(new RunExit(137, OutOfMemory: true), attempts: [Attempt(1, RunEndRule.OutOfMemoryOutcome)]));

    [Fact]
    public void Oom_retries_do_not_count_against_the_attempts()
    {
        IReadOnlyList<RunAttempt> attempts =
        [
            .. Enumerable.Range(1, 5).Select(n => Attempt(n, RunEndRule.OutOfMemoryOutcome, 512 * Mb)),
            Attempt(6, memory: 1024 * Mb), Attempt(7, memory: 1024 * Mb),
        ];

        Assert.IsType<Retry>(Decide(new RunExit(137), attempts: attempts));
    }

    [Fact]
    public void An_oom_kill_is_retried_even_after_the_other_attempts_ran_out() =>
        Assert.IsType<Retry>(Decide(new RunExit(137, OutOfMemory: true),
            attempts: [Attempt(1), Attempt(2), Attempt(3), Attempt(4, RunEndRule.OutOfMemoryOutcome, 512 * Mb)]));

    // ---- Outcomes ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData(ExitCodes.Completed, "completed")]
    [InlineData(ExitCodes.Failed, "failed")]
    [InlineData(ExitCodes.InvalidConfig, "invalid config")]
    [InlineData(ExitCodes.Usage, "died (exit code 3)")]
    [InlineData(ExitCodes.Stopped, "stopped with partial results")]
    [InlineData(ExitCodes.CheckpointMismatch, "checkpoint mismatch")]
    [InlineData(ExitCodes.CompileFailed, "died (exit code 6)")]
    [InlineData(ExitCodes.TimedOut, "died (exit code 7)")]
    [InlineData(137, "died (exit code 137)")]
    public void Every_exit_code_has_its_outcome_word(int code, string outcome) =>
        Assert.Equal(outcome, RunEndRule.Outcome(new RunExit(code)));

    [Theory, MemberData(nameof(EveryCode))]
    public void An_oom_kill_is_the_outcome_only_of_a_code_that_names_no_end_of_its_own(int code) =>
        Assert.Equal(code is ExitCodes.Completed or ExitCodes.Stopped or ExitCodes.Failed or ExitCodes.InvalidConfig or ExitCodes.CheckpointMismatch
            ? RunEndRule.Outcome(new RunExit(code)) : RunEndRule.OutOfMemoryOutcome, RunEndRule.Outcome(new RunExit(code, OutOfMemory: true)));

    // ---- The next attempt's memory ----------------------------------------------------------------------

    [Fact]
    public void A_runner_that_limits_no_memory_gets_no_limit() =>
        Assert.Null(RunEndRule.NextMemoryLimit(false, [Attempt(1, RunEndRule.OutOfMemoryOutcome, 512 * Mb)], 512 * Mb, Cap));

    [Fact]
    public void The_first_attempt_gets_the_configured_memory() =>
        Assert.Equal(512 * Mb, RunEndRule.NextMemoryLimit(true, [], 512 * Mb, Cap));

    [Fact]
    public void An_attempt_after_an_oom_kill_gets_twice_the_memory() =>
        Assert.Equal(1024 * Mb, RunEndRule.NextMemoryLimit(true, [Attempt(1, RunEndRule.OutOfMemoryOutcome, 512 * Mb)], 512 * Mb, Cap));

    [Fact]
    public void An_attempt_after_an_oom_kill_never_gets_more_than_the_cap() =>
        Assert.Equal(Cap, RunEndRule.NextMemoryLimit(true, [Attempt(1, RunEndRule.OutOfMemoryOutcome, 3072 * Mb)], 512 * Mb, Cap));

    [Fact]
    public void An_attempt_after_any_other_end_keeps_the_last_memory() =>
        Assert.Equal(2048 * Mb, RunEndRule.NextMemoryLimit(true, [Attempt(1, "died (exit code 137)", 2048 * Mb)], 512 * Mb, Cap));

    [Fact]
    public void The_last_attempt_with_a_limit_decides_when_later_ones_had_none() =>
        Assert.Equal(1024 * Mb, RunEndRule.NextMemoryLimit(true,
            [Attempt(1, RunEndRule.OutOfMemoryOutcome, 512 * Mb), Attempt(2, "runner unavailable")], 512 * Mb, Cap));
}
