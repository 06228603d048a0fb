namespace Backtesting.Grains;

/// <summary>How the cluster runs optimization jobs (section "Backtesting:Optimization" of the silo's configuration).</summary>
public sealed class OptimizationRunOptions
{
    /// <summary>
    /// Trials per batch of a grid or random job: one worker run, one slot of the queue. A worker's start and data load
    /// cost about what a few thousand daily-bar trials do (docs/benchmarks.md, "The optimization benchmark": 570-755
    /// trials/s start to exit against 689-951 as it reports, over 10,000 trials), so a batch is large enough to amortize
    /// them and still gives its slot back every few seconds; a pause takes effect within one trial whatever the size.
    /// </summary>
    public int BatchTrials { get; set; } = 2000;

    /// <summary>
    /// Trials per batch of a TPE job. TPE proposes each batch from every trial finished before it, so smaller batches
    /// follow the model more closely, and its results depend on this number: a job keeps the value it was submitted with.
    /// </summary>
    public int TpeBatchTrials { get; set; } = 10;

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
