using Backtesting.Engine;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;

namespace Backtesting.Grains.Supervision;

/// <summary>What is known when a run of the worker has ended, for <see cref="RunEndRule.Decide"/>.</summary>
/// <param name="Exit">How the run ended: exit code, out-of-memory kill, fatal crash.</param>
/// <param name="StopRequested">The end the silo asked for while the run lasted (a cancel, a timeout, a reclaimed slot), or null.</param>
/// <param name="StopReason">Why the silo asked for it.</param>
/// <param name="ReportedError">The message of the last error the worker reported, or null.</param>
/// <param name="Attempts">Every attempt so far, the one that ended last, its outcome recorded.</param>
/// <param name="MaxAttempts">Attempts per backtest when runs die (out-of-memory retries not counted).</param>
/// <param name="MaxMemoryBytes">The cap of the memory limit an out-of-memory retry doubles.</param>
public sealed record RunEndFacts(
    RunExit Exit,
    BacktestState? StopRequested,
    string? StopReason,
    string? ReportedError,
    IReadOnlyList<RunAttempt> Attempts,
    int MaxAttempts,
    long MaxMemoryBytes);

/// <summary>What to do after a run ended; the grain does just that.</summary>
public abstract record RunEndDecision
{
    private RunEndDecision()
    {
    }

    /// <summary>The slot was reclaimed: keep the checkpoint and queue again for a new slot.</summary>
    public sealed record Requeue(string? Reason) : RunEndDecision;

    /// <summary>Stopped by the silo or its own watchdog: keep what partial results there are and end as <paramref name="EndAs"/>.</summary>
    public sealed record Stop(BacktestState EndAs, string? Reason) : RunEndDecision;

    /// <summary>The worker completed: store its validated results.</summary>
    public sealed record Complete : RunEndDecision;

    /// <summary>A failure the worker found itself (no retry would change it): fail with its error, or this one if it reported none.</summary>
    public sealed record FailAsReported(string Fallback) : RunEndDecision;

    /// <summary>Fail with this error, published (after syncing the checkpoint, when <paramref name="SyncCheckpoint"/>).</summary>
    public sealed record Fail(string ErrorType, string Message, bool SyncCheckpoint) : RunEndDecision;

    /// <summary>Sync the checkpoint and start another attempt from it.</summary>
    public sealed record Retry(string Detail) : RunEndDecision;
}

/// <summary>
/// The rule after a run ends: complete, fail, stop, queue again, or retry from the checkpoint (with twice the memory
/// after an out-of-memory kill, up to the cap). Deterministic failures the worker reports are not retried; deaths are,
/// while attempts remain.
/// </summary>
public static class RunEndRule
{
    /// <summary>The outcome of an attempt killed for using more memory than its limit.</summary>
    public const string OutOfMemoryOutcome = "out of memory";

    /// <summary>The outcome of an attempt whose supervision the database's going away ended (its run is started again).</summary>
    public const string DatabaseUnavailableOutcome = "database unavailable";

    /// <summary>The outcome of an attempt that could not start because the runner's daemon was restarting (started again).</summary>
    public const string RunnerInterruptedOutcome = "runner unreachable for now";

    /// <summary>
    /// Whether an attempt counts against <see cref="RunEndFacts.MaxAttempts"/>: one whose worker died (it has an exit code),
    /// other than of memory, and one lost with its silo (it never ended: a run that takes its silo down with it must not
    /// come back for ever). An attempt the database, a silo of the cluster or the runner's daemon interrupted (an end with
    /// no exit code, or a run the runner lost contact with while its daemon restarted) is the cluster's fault, not the
    /// run's, and does not.
    /// </summary>
    public static bool CountsAgainstLimit(RunAttempt attempt) =>
        attempt.Outcome is not (OutOfMemoryOutcome or RunnerInterruptedOutcome)
        && (attempt.ExitCode is not null || attempt.EndedAt is null);

    /// <summary>The ended attempt's outcome, as its record shows it.</summary>
    public static string Outcome(RunExit exit) => exit.Interrupted ? RunnerInterruptedOutcome : exit.ExitCode switch
    {
        ExitCodes.Completed => "completed",
        ExitCodes.Stopped => "stopped with partial results",
        ExitCodes.Failed => "failed",
        ExitCodes.InvalidConfig => "invalid config",
        ExitCodes.CheckpointMismatch => "checkpoint mismatch",
        _ when exit.OutOfMemory => OutOfMemoryOutcome,
        _ => exit.Detail is { } detail ? $"died ({detail})" : $"died (exit code {exit.ExitCode})",
    };

    public static RunEndDecision Decide(RunEndFacts facts)
    {
        var exit = facts.Exit;
        var stopAs = facts.StopRequested;
        var stopReason = facts.StopReason;
        if (stopAs is null && exit.ExitCode == ExitCodes.TimedOut)
        {
            // The worker's own watchdog (the limits the grain gave it) stopped the run: it ends timed out, like one
            // the silo stops, with its partial results, and is not retried.
            stopAs = BacktestState.TimedOut;
            stopReason = facts.ReportedError ?? "the worker's watchdog stopped the run";
        }

        if (stopAs is not null && exit.ExitCode == ExitCodes.Completed)
        {
            // The run finished before the stop reached it: its results are whole, so it completed.
            stopAs = null;
        }

        if (stopAs == BacktestState.Queued)
        {
            return new RunEndDecision.Requeue(stopReason);
        }

        if (stopAs is { } endAs)
        {
            return new RunEndDecision.Stop(endAs, stopReason);
        }

        var outcome = Outcome(exit);
        switch (exit.ExitCode)
        {
            case ExitCodes.Completed:
                return new RunEndDecision.Complete();
            case ExitCodes.Failed or ExitCodes.InvalidConfig or ExitCodes.CheckpointMismatch or ExitCodes.Usage:
                return new RunEndDecision.FailAsReported($"the worker {outcome}");
        }

        if (exit.Interrupted)
        {
            // The runner's daemon went away under the run: the cluster's fault, retried whatever attempts were used (a daemon
            // that stays away fails the start of the next attempt once its grace is over).
            return new RunEndDecision.Retry($"attempt {facts.Attempts.Count} {outcome}: {exit.Detail}; retrying from the checkpoint");
        }

        if (exit.Fatal is { } fatal)
        {
            // A death every retry would repeat (a stack overflow): the backtest fails now, saying what killed it.
            return new RunEndDecision.Fail(ErrorTypes.Execution, fatal, SyncCheckpoint: false);
        }

        // The run died (killed, crashed, out of memory): retry from the checkpoint while attempts remain.
        var attempts = facts.Attempts.Count;
        if (exit.OutOfMemory)
        {
            // More memory, up to the cap: these retries do not count against MaxAttempts, the cap bounds them.
            var memory = facts.Attempts[^1].MemoryLimitBytes;
            if (memory is { } limit && limit < facts.MaxMemoryBytes)
            {
                return new RunEndDecision.Retry($"attempt {attempts} ran out of memory at {limit / ByteSize.MiB} MB; " +
                    $"retrying from the checkpoint with {Math.Min(limit * 2, facts.MaxMemoryBytes) / ByteSize.MiB} MB");
            }

            return new RunEndDecision.Fail(ErrorTypes.Memory,
                $"the run ran out of memory at the cap of {(memory ?? 0) / ByteSize.MiB} MB (Backtesting:Docker:MaxMemoryBytes)",
                SyncCheckpoint: true);
        }

        if (facts.Attempts.Count(CountsAgainstLimit) < facts.MaxAttempts)
        {
            return new RunEndDecision.Retry($"attempt {attempts} {outcome}; retrying from the checkpoint");
        }

        return new RunEndDecision.Fail(ErrorTypes.Execution, $"the run {outcome} on {attempts} attempts", SyncCheckpoint: true);
    }

    /// <summary>
    /// The memory limit of the next attempt, where the runner enforces one: the configured one at first, twice the
    /// last one after an out-of-memory kill (never above the cap: <see cref="Decide"/> fails the backtest past it).
    /// </summary>
    public static long? NextMemoryLimit(bool runnerLimitsMemory, IReadOnlyList<RunAttempt> attempts, long configured, long cap)
    {
        if (!runnerLimitsMemory)
        {
            return null;
        }

        var last = attempts.LastOrDefault(a => a.MemoryLimitBytes is not null);
        if (last?.MemoryLimitBytes is not { } limit)
        {
            return configured;
        }

        return last.Outcome == OutOfMemoryOutcome ? Math.Min(limit * 2, cap) : limit;
    }
}
