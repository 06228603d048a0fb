namespace Backtesting.Grains.Optimization;

/// <summary>What a running job does once its batches say so: nothing yet, complete, or fail.</summary>
public abstract record JobEnd
{
    private JobEnd()
    {
    }

    /// <summary>Work is still in flight, paused, or still to be proposed.</summary>
    public sealed record None : JobEnd;

    public sealed record Complete(string Detail) : JobEnd;

    public sealed record Fail(string Reason) : JobEnd;
}

/// <summary>
/// The one place that decides whether a queued or running optimization job has ended. A job completes only when every
/// batch it started completed and nothing more is to be proposed (every planned trial proposed, the method exhausted, or
/// the target reached). A batch that failed fails the job, whatever else is in flight (its failure stops the rest); a
/// batch cancelled while the job still runs is what a failure that could not be finished left behind (stopping its
/// batches broke off), so the job fails too, with the reason recorded then. Never a completed job over a failed batch.
/// </summary>
public static class JobEndRule
{
    /// <param name="batches">The job's batches as it knows them.</param>
    /// <param name="failure">The reason of a failure begun earlier (the job's error message), or null.</param>
    public static JobEnd Decide(IReadOnlyList<BatchRecord> batches, bool targetReached, bool exhausted, int proposedTrials, int plannedTrials,
        string? failure)
    {
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.FirstOrDefault(b => b.State == OptimizationBatchState.Failed) is { } failed)
        {
            return new JobEnd.Fail(failure ?? $"batch {failed.Number} failed");
        }

        if (batches.Any(b => OptimizationBatchReport.InFlight(b.State) || b.State == OptimizationBatchState.Paused))
        {
            return new JobEnd.None();
        }

        if (batches.FirstOrDefault(b => b.State == OptimizationBatchState.Cancelled) is { } cancelled)
        {
            return new JobEnd.Fail(failure ?? $"batch {cancelled.Number} was cancelled while the job ran");
        }

        if (!(targetReached || exhausted || proposedTrials >= plannedTrials))
        {
            return new JobEnd.None();
        }

        return new JobEnd.Complete(targetReached ? "the best reached the target" : "every planned trial ran");
    }
}
