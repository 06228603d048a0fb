using Backtesting.Engine.Protocol;
using Backtesting.Grains;
using Backtesting.Grains.Supervision;

namespace Backtesting.Tests.Rules;

/// <summary>What a batch does when its worker's run ended: for every exit code, every requested stop, missing trials and attempts.</summary>
public class BatchEndRuleTests
{
    private const int MaxAttempts = 3;

    /// <summary>Codes the worker never returns: a kill (137), a crash (134, 139), a wrapper's own error (255, -1).</summary>
    private static readonly int[] DeathCodes = [134, 137, 139, 255, -1];

    private static readonly OptimizationBatchState?[] Stops = [null, OptimizationBatchState.Paused, OptimizationBatchState.Cancelled];

    public static TheoryData<int> EveryCode() => new(ExitCodes.All.Concat(DeathCodes));

    /// <summary>Every end the worker chooses but completing, stopping and a trial's timeout (a custom strategy's trial it recorded as failed).</summary>
    public static TheoryData<int> WorkerEnds() => new(ExitCodes.All.Where(c => c is not (ExitCodes.Completed or ExitCodes.Stopped or ExitCodes.TimedOut)));

    public static TheoryData<int> Unfinished() => new(DeathCodes.Append(ExitCodes.Stopped));

    [Theory]
    [MemberData(nameof(EveryCode))]
    public void A_stop_the_job_asked_for_ends_in_the_state_asked_unless_every_trial_was_done(int code)
    {
        foreach (var asked in new[] { OptimizationBatchState.Paused, OptimizationBatchState.Cancelled })
        {
            for (var attempts = 1; attempts <= MaxAttempts; attempts++)
            {
                var end = BatchEndRule.Decide(code, asked, null, "the worker said so", 0, attempts, 0, MaxAttempts);
                Assert.Equal(code == ExitCodes.Completed ? OptimizationBatchState.Completed : asked, end.Next);
                Assert.Null(end.Error);
                Assert.False(end.Fresh);
            }
        }
    }

    [Fact]
    public void Every_trial_done_and_stored_completes_whatever_was_asked()
    {
        foreach (var asked in Stops)
        {
            Assert.Equal(new BatchEnd(OptimizationBatchState.Completed), BatchEndRule.Decide(ExitCodes.Completed, asked, null, null, 0, 1, 0, MaxAttempts));
        }
    }

    /// <summary>
    /// Trials the worker finished whose lines no silo read (a silo killed or a daemon restarted while it printed) run the batch
    /// again from an empty checkpoint, on a budget of their own: the runs the cluster's faults used up before do not take
    /// it away. The chaos run failed a job "44 trial(s) of the batch finished but were never stored" on its third run, the
    /// first two lost to a silo kill and a daemon restart.
    /// </summary>
    [Fact]
    public void Trials_done_but_never_stored_run_again_from_an_empty_checkpoint_whatever_runs_came_before_until_their_own_budget_is_spent()
    {
        foreach (var asked in Stops)
        {
            for (var fresh = 0; fresh < MaxAttempts; fresh++)
            {
                // However many runs died before (up to the limit and past it), each fresh run is still allowed.
                for (var deaths = 1; deaths <= MaxAttempts + 1; deaths++)
                {
                    Assert.Equal(new BatchEnd(null, null, Fresh: true),
                        BatchEndRule.Decide(ExitCodes.Completed, asked, null, null, 3, deaths + fresh, fresh, MaxAttempts));
                }
            }

            var last = BatchEndRule.Decide(ExitCodes.Completed, asked, null, null, 3, MaxAttempts + 1, MaxAttempts, MaxAttempts);
            Assert.Equal(OptimizationBatchState.Failed, last.Next);
            Assert.Contains("3 trial(s)", last.Error, StringComparison.Ordinal);
            Assert.Contains($"{MaxAttempts + 1} runs", last.Error, StringComparison.Ordinal);
        }
    }

    /// <summary>A fresh run is no death: the deaths after it are counted without it, up to the limit.</summary>
    [Theory]
    [MemberData(nameof(Unfinished))]
    public void Fresh_runs_do_not_use_up_the_attempts_deaths_have(int code)
    {
        for (var fresh = 0; fresh <= MaxAttempts; fresh++)
        {
            for (var deaths = 1; deaths < MaxAttempts; deaths++)
            {
                Assert.Equal(new BatchEnd(null), BatchEndRule.Decide(code, null, null, null, 5, deaths + fresh, fresh, MaxAttempts));
            }

            var last = BatchEndRule.Decide(code, null, null, null, 5, MaxAttempts + fresh, fresh, MaxAttempts);
            Assert.Equal(OptimizationBatchState.Failed, last.Next);
            Assert.Contains($"{MaxAttempts} times", last.Error, StringComparison.Ordinal);
        }
    }

    /// <summary>A run the runner lost (its daemon went away) is retried from its checkpoint at any attempt count, and not counted.</summary>
    [Theory]
    [MemberData(nameof(Unfinished))]
    public void A_run_the_runner_lost_runs_again_uncounted_even_past_the_last_attempt(int code)
    {
        for (var attempts = 1; attempts <= MaxAttempts + 2; attempts++)
        {
            Assert.Equal(new BatchEnd(null, Uncounted: true), BatchEndRule.Decide(code, null, null, null, 5, attempts, 0, MaxAttempts, interrupted: true));
        }

        // What the worker chose, a stop asked for and a finished run keep their meaning when the runner lost sight of it.
        Assert.Equal(new BatchEnd(OptimizationBatchState.Paused), BatchEndRule.Decide(code, OptimizationBatchState.Paused, null, null, 5, 1, 0, MaxAttempts, interrupted: true));
        Assert.Equal(new BatchEnd(OptimizationBatchState.Completed), BatchEndRule.Decide(ExitCodes.Completed, null, null, null, 0, 1, 0, MaxAttempts, interrupted: true));
        Assert.Equal(OptimizationBatchState.Failed, BatchEndRule.Decide(ExitCodes.InvalidConfig, null, null, "refused", 0, 1, 0, MaxAttempts, interrupted: true).Next);
    }

    [Theory]
    [MemberData(nameof(WorkerEnds))]
    public void An_end_the_worker_chose_fails_the_batch_with_its_reason_and_is_never_retried(int code)
    {
        for (var attempts = 1; attempts <= MaxAttempts; attempts++)
        {
            Assert.Equal(new BatchEnd(OptimizationBatchState.Failed, "refused: 2 errors"),
                BatchEndRule.Decide(code, null, null, "refused: 2 errors", 0, attempts, 0, MaxAttempts));
            var silent = BatchEndRule.Decide(code, null, null, null, 0, attempts, 0, MaxAttempts);
            Assert.Equal(OptimizationBatchState.Failed, silent.Next);
            Assert.Contains($"exit code {code}", silent.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Unfinished))]
    public void A_killed_crashed_or_unasked_stopped_worker_runs_again_from_its_checkpoint_until_the_last_attempt(int code)
    {
        for (var attempts = 1; attempts < MaxAttempts; attempts++)
        {
            var end = BatchEndRule.Decide(code, null, null, null, 5, attempts, 0, MaxAttempts);
            Assert.True(end.Retry);
            Assert.False(end.Fresh);
        }

        var last = BatchEndRule.Decide(code, null, null, null, 5, MaxAttempts, 0, MaxAttempts);
        Assert.Equal(OptimizationBatchState.Failed, last.Next);
        Assert.Contains($"last exit code {code}", last.Error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(EveryCode))]
    public void A_broken_protocol_fails_the_batch_whatever_the_code_or_the_stop(int code)
    {
        foreach (var asked in Stops)
        {
            Assert.Equal(new BatchEnd(OptimizationBatchState.Failed, "a line past the limit"),
                BatchEndRule.Decide(code, asked, "a line past the limit", "worker error", 0, 1, 0, MaxAttempts));
        }
    }

    [Fact]
    public void A_trial_timeout_runs_the_batch_again_from_its_checkpoint_until_the_last_attempt_then_fails_naming_the_timeout()
    {
        for (var attempts = 1; attempts < MaxAttempts; attempts++)
        {
            Assert.Equal(new BatchEnd(null), BatchEndRule.Decide(ExitCodes.TimedOut, null, null, "trial 4 timed out", 2, attempts, 0, MaxAttempts));
        }

        var last = BatchEndRule.Decide(ExitCodes.TimedOut, null, null, "trial 4 timed out", 2, MaxAttempts, 0, MaxAttempts);
        Assert.Equal(OptimizationBatchState.Failed, last.Next);
        Assert.Contains("trial 4 timed out", last.Error, StringComparison.Ordinal);
        Assert.Contains($"{MaxAttempts} runs", last.Error, StringComparison.Ordinal);
        // A stop the job asked for still wins, and the silo's own watchdog (a protocol end) fails at once.
        Assert.Equal(new BatchEnd(OptimizationBatchState.Paused), BatchEndRule.Decide(ExitCodes.TimedOut, OptimizationBatchState.Paused, null, null, 2, 1, 0, MaxAttempts));
        Assert.Equal(new BatchEnd(OptimizationBatchState.Failed, "stalled"), BatchEndRule.Decide(137, null, "stalled", null, 2, 1, 0, MaxAttempts));
    }
}
