namespace Backtesting.Grains;

/// <summary>How the cluster runs optimization jobs (section "Backtesting:Optimization" of the silo's configuration).</summary>
public sealed class OptimizationRunOptions
{
    /// <summary>
    /// A fixed number of trials per batch of a grid or random job; null (the default): sized per job by
    /// <see cref="Optimization.BatchSizing"/> from the plan's estimated work and the owner's free slots.
    /// </summary>
    public int? BatchTrials { get; set; }

    /// <summary>
    /// The most estimated work one batch of a grid or random job is given (on one core): a batch holds a slot of the queue
    /// for that long, so it bounds how long a backtest waits behind it and what a lost run costs.
    /// </summary>
    public TimeSpan MaxBatchWork { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The least estimated work a batch is split down to when the owner has slots free: below it, a second worker's start
    /// and cold code cost more than the parallel run saves (docs/benchmarks.md, "Batch sizing").
    /// </summary>
    public TimeSpan MinBatchWork { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// The CPU cores a batch's container may use (Docker); null: the runner's own limit (Backtesting:Docker:Cpus). A batch
    /// runs its trials on one thread, but the JIT's background compiles and the GC run beside it; under contention the
    /// kernel shares the cores between containers by weight, not by this limit (docs/benchmarks.md, "Batch sizing").
    /// </summary>
    public double? BatchCpus { get; set; } = 2.0;

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
