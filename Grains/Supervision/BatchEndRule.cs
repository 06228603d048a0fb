using Backtesting.Engine.Protocol;

namespace Backtesting.Grains.Supervision;

/// <summary>What a batch does when its worker's run ended: the next state, or another run over the same folder.</summary>
/// <param name="Next">The state the batch moves to; null: run again (the worker goes on from its checkpoint).</param>
/// <param name="Error">Why it failed, for its job.</param>
/// <param name="Fresh">Run again from an empty checkpoint: trials the worker finished were never stored.</param>
/// <param name="Uncounted">Run again, and this run is not one of the batch's attempts: the runner lost it (its daemon went away).</param>
public sealed record BatchEnd(OptimizationBatchState? Next, string? Error = null, bool Fresh = false, bool Uncounted = false)
{
    public bool Retry => Next is null;
}

/// <summary>
/// The one place that decides how a batch's run ended. A run that stopped because its job asked (pause or cancel) takes
/// the state asked for, whatever killed it in the end; a refused batch, any other end the worker chose itself (an exit
/// code of its protocol) and a broken protocol are final (running them again would repeat them); every trial done is completion. When trials the worker finished were
/// never stored (their lines were missed: printed while no silo read them, or dropped), the batch runs again from an
/// empty checkpoint, and what was stored already is not stored again. Missed lines are what the cluster's faults leave
/// (a silo killed or a daemon restarted while the worker printed), not a death of the run: such fresh runs have a budget
/// of their own (<c>maxAttempts</c> of them), spent by nothing else, and a batch that keeps missing them fails. Any other
/// end (a killed or crashed worker, a stop nobody asked for) runs the batch again in the same folder, from its
/// checkpoint, so no finished trial runs twice. A custom strategy's trial that ran past its limit was recorded as failed
/// by the worker, which then ended its run (<see cref="ExitCodes.TimedOut"/>: a stuck thread cannot be stopped otherwise):
/// the batch runs again from its checkpoint, past that trial, so each timed-out trial costs one run. Runs are bounded
/// by the cluster's attempts, counting the runs that did not end in a fresh run (a run that completed is no death). A run
/// the runner lost rather than saw end (its daemon stopped answering while it lasted: <see cref="Runners.RunExit.Interrupted"/>)
/// is the cluster's fault, as for a backtest (<see cref="RunEndRule"/>): run again from its checkpoint and not counted.
/// </summary>
public static class BatchEndRule
{
    /// <param name="exitCode">The worker's exit code (<see cref="ExitCodes"/>; 137 and the like for a kill).</param>
    /// <param name="stopAs">The state the job asked the batch to stop in (paused, cancelled), or null.</param>
    /// <param name="protocolError">Why the silo ended the run (a line past the limit, silence past its watchdog's limit), or null.</param>
    /// <param name="workerError">The error the worker reported, or null.</param>
    /// <param name="missingTrials">Trials of the batch not stored after the run.</param>
    /// <param name="attempts">Runs of the batch so far, this one included.</param>
    /// <param name="freshRuns">Runs started over from an empty checkpoint so far (each after a run that completed with trials missing).</param>
    /// <param name="interrupted">The runner lost the run (<see cref="Runners.RunExit.Interrupted"/>).</param>
    public static BatchEnd Decide(int exitCode, OptimizationBatchState? stopAs, string? protocolError, string? workerError, int missingTrials,
        int attempts, int freshRuns, int maxAttempts, bool interrupted = false)
    {
        // Runs that ended some other way than in a fresh run: the deaths and stops the limit is about.
        var counted = attempts - freshRuns;
        if (protocolError is not null)
        {
            return new BatchEnd(OptimizationBatchState.Failed, protocolError);
        }

        if (exitCode == ExitCodes.Completed)
        {
            return missingTrials == 0 ? new BatchEnd(OptimizationBatchState.Completed)
                : freshRuns < maxAttempts ? new BatchEnd(null, Fresh: true)
                : new BatchEnd(OptimizationBatchState.Failed,
                    $"{missingTrials} trial(s) of the batch finished but were never stored in {freshRuns + 1} runs: the worker's lines for them were dropped");
        }

        if (stopAs is { } asked)
        {
            return new BatchEnd(asked);
        }

        if (exitCode == ExitCodes.TimedOut)
        {
            return counted < maxAttempts
                ? new BatchEnd(null)
                : new BatchEnd(OptimizationBatchState.Failed,
                    $"{workerError ?? "a trial timed out"}: the strategy's trials timed out in {counted} runs of the batch");
        }

        if (exitCode != ExitCodes.Stopped && ExitCodes.All.Contains(exitCode))
        {
            return new BatchEnd(OptimizationBatchState.Failed, workerError ?? $"the worker failed (exit code {exitCode})");
        }

        if (interrupted)
        {
            return new BatchEnd(null, Uncounted: true);
        }

        return counted < maxAttempts
            ? new BatchEnd(null)
            : new BatchEnd(OptimizationBatchState.Failed, $"the batch's worker ended {counted} times without finishing (last exit code {exitCode})");
    }
}
