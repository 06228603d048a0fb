namespace Backtesting.Grains;

/// <summary>How the cluster runs optimization jobs (section "Backtesting:Optimization" of the silo's configuration).</summary>
public sealed class OptimizationRunOptions
{
    /// <summary>
    /// Trials per batch: one worker run, one slot of the queue. Enough for a few seconds of work at the usual trial rate
    /// (a year of daily bars runs at tens of trials a second), so a batch amortizes the worker's start and data load yet
    /// gives its slot back often, and a pause takes effect within one trial. TPE proposes each batch from the ones
    /// before it, so its results depend on this number: a job keeps the value it was submitted with.
    /// </summary>
    public int BatchTrials { get; set; } = 32;

    /// <summary>Batches of one job queued or running at once (grid and random; TPE runs one at a time).</summary>
    public int BatchesInFlight { get; set; } = 2;

    /// <summary>Trials a batch stores at most in one write.</summary>
    public int SaveTrials { get; set; } = 64;

    /// <summary>How long a batch keeps finished trials before it stores them (and its job publishes them).</summary>
    public TimeSpan SaveInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a job publishes its progress while it runs (and persists its counts when they changed).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a stopped batch may take to finish its current trial before its worker is killed (the trial then runs again).</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(20);
}
