using Orleans.Concurrency;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains;

// The cluster's own calls between an optimization job and its batches (never the API's): a batch holds a slot of the
// queue, runs one worker `optimize-batch` at a time over its run folder, stores its trials and reports them to its job.

/// <summary>A batch as its job creates it.</summary>
/// <param name="BatchJson">The worker's batch.json (<c>OptimizationBatch</c>): the job and the trials to run.</param>
/// <param name="Trials">The trial numbers of the batch, ascending.</param>
/// <param name="StrategyId">The owner's custom strategy the job runs (null: a template); each run reads its source from the store.</param>
/// <param name="StrategyVersion">The version the job pinned.</param>
/// <param name="Cpus">The CPU cores the batch's container may use (<see cref="Optimization.BatchShape"/>); null: the runner's own limit.</param>
[GenerateSerializer, Immutable, Alias("optimization.batch-order")]
public sealed record OptimizationBatchOrder(
    [property: Id(0)] Guid OptimizationId,
    [property: Id(1)] int Batch,
    [property: Id(2)] string Owner,
    [property: Id(3)] BacktestPriority Priority,
    [property: Id(4)] string BatchJson,
    [property: Id(5)] IReadOnlyList<int> Trials,
    [property: Id(6)] Guid? StrategyId = null,
    [property: Id(7)] int? StrategyVersion = null,
    [property: Id(8)] double? Cpus = null);

/// <summary>The states of a batch.</summary>
[GenerateSerializer, Alias("optimization.batch-state")]
public enum OptimizationBatchState
{
    /// <summary>Not started by its job yet.</summary>
    None = 0,
    /// <summary>Waiting for a slot.</summary>
    Queued = 1,
    /// <summary>Holding a slot, its worker running (or about to be restarted after a lost run).</summary>
    Running = 2,
    /// <summary>Stopped between trials by its job's pause; its run folder keeps the checkpoint.</summary>
    Paused = 3,
    Completed = 4,
    Cancelled = 5,
    Failed = 6,
}

/// <summary>One stored trial as its job needs it: for the best, the counts and the next proposals.</summary>
[GenerateSerializer, Immutable, Alias("optimization.stored-trial")]
public sealed record StoredTrial(
    [property: Id(0)] int Trial,
    [property: Id(1)] string ParametersJson,
    [property: Id(2)] string? MetricsJson,
    [property: Id(3)] int? TradeCount,
    [property: Id(4)] bool Feasible,
    [property: Id(5)] string? InfeasibleReason,
    [property: Id(6)] double? Objective,
    [property: Id(7)] string? ContentHash);

/// <summary>A batch's state as it tells its job; a report older than one the job has (<see cref="Version"/>) is stale.</summary>
/// <param name="Version">Counts the batch's changes of state.</param>
/// <param name="Error">Why it failed; null otherwise.</param>
/// <param name="DroppedLines">Worker lines that were not a message of the contract or named another job: dropped, counted.</param>
/// <param name="Attempts">Runs of the batch's worker so far.</param>
[GenerateSerializer, Immutable, Alias("optimization.batch-report")]
public sealed record OptimizationBatchReport(
    [property: Id(0)] int Batch,
    [property: Id(1)] OptimizationBatchState State,
    [property: Id(2)] long Version,
    [property: Id(3)] string? Error = null,
    [property: Id(4)] int DroppedLines = 0,
    [property: Id(5)] int Attempts = 0)
{
    /// <summary>Queued, running, or not started: the batch still has work to do.</summary>
    public static bool InFlight(OptimizationBatchState state) =>
        state is OptimizationBatchState.None or OptimizationBatchState.Queued or OptimizationBatchState.Running;

    public static bool IsTerminal(OptimizationBatchState state) =>
        state is OptimizationBatchState.Completed or OptimizationBatchState.Cancelled or OptimizationBatchState.Failed;
}

/// <summary>One batch of an optimization job (key: <see cref="OptimizationBatchIds.Of"/>).</summary>
[Alias("optimization.batch-grain")]
public interface IOptimizationBatchGrain : IGrainWithGuidKey
{
    /// <summary>Stores the order and queues the batch (idempotent: a batch started before is left as it is).</summary>
    [Alias("start")]
    Task<OptimizationBatchReport> Start(OptimizationBatchOrder order);

    /// <summary>Called by the queue when a slot is granted: start (or restart) the worker.</summary>
    [Alias("slot-granted"), OneWay]
    Task OnSlotGranted();

    /// <summary>
    /// Stops the batch between trials (the current trial finishes and is stored) and frees its slot: paused (it can
    /// be resumed) or cancelled. Returns once the worker has stopped.
    /// </summary>
    [Alias("stop")]
    Task<OptimizationBatchReport> Stop(bool cancel);

    /// <summary>Queues a paused batch again; its worker goes on from the checkpoint of its run folder.</summary>
    [Alias("resume")]
    Task<OptimizationBatchReport> Resume();

    /// <summary>
    /// The recovery check: a batch that should be running and is not (its silo died) is restarted or queued again.
    /// A batch never started (no order) reports <see cref="OptimizationBatchState.None"/>.
    /// </summary>
    [Alias("ensure")]
    Task<OptimizationBatchReport> Ensure();

    /// <summary>Stops the batch if needed, then removes its state and run folder (its job is being deleted).</summary>
    [Alias("forget")]
    Task Forget();
}

/// <summary>What a job's batches tell it, one way (a batch never waits on its job); the same activation as <see cref="IOptimizationGrain"/>.</summary>
[Alias("optimization.job-callbacks")]
public interface IOptimizationJobCallbacks : IGrainWithGuidKey
{
    /// <summary>Trials the batch stored (new rows only, each once).</summary>
    [Alias("trials-stored"), OneWay]
    Task OnTrialsStored(int batch, IReadOnlyList<StoredTrial> trials);

    /// <summary>The batch changed state (running, or ended: completed, paused, cancelled, failed).</summary>
    [Alias("batch-changed"), OneWay]
    Task OnBatchChanged(OptimizationBatchReport report);
}

/// <summary>The ids of a job's batch grains: deterministic, so a recovered job finds its batches again.</summary>
public static class OptimizationBatchIds
{
    public static Guid Of(Guid optimizationId, int batch) => Storage.DeterministicGuid.Create(optimizationId, $"batch:{batch}");
}
