using Backtesting.Engine.Optimization;

namespace Backtesting.Grains.Optimization;

/// <summary>What a job's batch sizing looks at: its method, its planned trials and the points one trial reads.</summary>
/// <param name="PointsPerTrial">From the plan (<see cref="TrialWork.PointsPerTrial"/>).</param>
public sealed record BatchJob(SearchMethodKind Method, long Trials, long PointsPerTrial);

/// <summary>A job's batches: trials per batch, and the CPU cores a batch's container may use (null: the runner's own limit).</summary>
public sealed record BatchShape(int Trials, double? Cpus);

/// <summary>
/// How many trials a batch of a job holds and what CPU its container gets. A batch is one worker run that holds one slot
/// of the queue: each pays the worker's start, its data load and its cold code once (about 1.5-2 s with a container), so a
/// job of cheap trials (a daily grid) runs best in few large batches, while a job of costly trials (minute bars, ticks)
/// needs batches short enough to give their slot back to the backtests and other jobs waiting behind them. The work of a
/// trial is estimated from the plan, <see cref="TrialSeconds"/>, and:
/// <list type="bullet">
/// <item>no batch holds more estimated work than <see cref="OptimizationRunOptions.MaxBatchWork"/> (one trial is the least);</item>
/// <item>when the owner has more than one slot free now (at most <see cref="OptimizationRunOptions.BatchesInFlight"/>),
/// the work is split over that many batches, as long as each still has <see cref="OptimizationRunOptions.MinBatchWork"/>
/// of work;</item>
/// <item>the count of batches is then rounded up to a multiple of those parallel slots (before the trials are shared out
/// evenly), so the last wave is not half empty;</item>
/// <item>TPE keeps <see cref="OptimizationRunOptions.TpeBatchTrials"/> (its proposals depend on the batch size), and a
/// fixed <see cref="OptimizationRunOptions.BatchTrials"/> overrides the rule for grid and random.</item>
/// </list>
/// Measured in docs/benchmarks.md ("Batch sizing").
/// </summary>
public static class BatchSizing
{
    /// <summary>
    /// The cost of one trial over and above its points, in seconds: building the strategy, engine and portfolio, the
    /// metrics and the result. Fitted to the worker's own rates at load 5 (docs/benchmarks.md, "The optimization
    /// benchmark"): about 2,000 trials/s over 1,258 daily bars and 145 trials/s over 98,670 minute bars.
    /// </summary>
    public const double TrialOverheadSeconds = 0.00042;

    /// <summary>The cost of one point (a bar or a tick) of a trial, in seconds (the same fit: about 67 ns).</summary>
    public const double PointSeconds = 0.000000067;

    /// <summary>The estimated seconds one trial takes on one core.</summary>
    public static double TrialSeconds(long pointsPerTrial) => TrialOverheadSeconds + Math.Max(1, pointsPerTrial) * PointSeconds;

    /// <summary>The batches of <paramref name="job"/> when <paramref name="freeSlots"/> slots of the queue are free for its owner now.</summary>
    public static BatchShape Of(BatchJob job, int freeSlots, OptimizationRunOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(job.Trials);
        double? cpus = options.BatchCpus is { } grant && grant > 0 ? grant : null;
        if (job.Method == SearchMethodKind.Tpe)
        {
            return new BatchShape(Math.Max(1, options.TpeBatchTrials), cpus);
        }

        if (options.BatchTrials is { } fixedSize)
        {
            return new BatchShape(Math.Max(1, fixedSize), cpus);
        }

        var trials = Math.Max(1, job.Trials);
        var perTrial = TrialSeconds(job.PointsPerTrial);
        var work = trials * perTrial;
        // The most trials a batch may hold, and so the fewest batches.
        var most = Math.Max(1L, (long)Math.Floor(options.MaxBatchWork.TotalSeconds / perTrial));
        var batches = (trials + most - 1) / most;
        var parallel = Math.Max(1, Math.Min(freeSlots, options.BatchesInFlight));
        if (parallel > 1)
        {
            var worthSplitting = (long)Math.Floor(work / Math.Max(1e-3, options.MinBatchWork.TotalSeconds));
            batches = Math.Max(batches, Math.Min(parallel, worthSplitting));
            if (batches > 1)
            {
                batches = (batches + parallel - 1) / parallel * parallel;
            }
        }

        batches = Math.Min(batches, trials);
        var size = (trials + batches - 1) / batches;
        return new BatchShape((int)Math.Min(size, int.MaxValue), cpus);
    }
}
