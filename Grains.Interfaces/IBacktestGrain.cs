using Orleans.Concurrency;
using Backtesting.Engine.Results;

namespace Backtesting.Grains.Interfaces;

/// <summary>
/// One backtest (keyed by its id). It owns the lifecycle, persists every transition before acknowledging it,
/// supervises the worker run through a runner, and publishes events on the stream keyed by its id.
/// </summary>
[Alias("backtest.grain")]
public interface IBacktestGrain : IGrainWithGuidKey
{
    /// <summary>Validates and queues the backtest (or completes it at once from the result cache).</summary>
    /// <exception cref="BacktestValidationException">With every rule the config breaks; nothing is stored.</exception>
    [Alias("submit")]
    Task<BacktestStatus> Submit(BacktestSubmission submission);

    [Alias("status")]
    Task<BacktestStatus> GetStatus();

    /// <summary>Freezes a running backtest; it keeps its concurrency slot.</summary>
    [Alias("pause")]
    Task<BacktestStatus> Pause();

    [Alias("resume")]
    Task<BacktestStatus> Resume();

    /// <summary>Moves a queued backtest to another priority (in the queue, its own state and its stored row).</summary>
    /// <exception cref="IllegalTransitionException">The backtest is not waiting in the queue.</exception>
    [Alias("change-priority")]
    Task<BacktestStatus> ChangePriority(BacktestPriority priority);

    /// <summary>Stops a queued, running or paused backtest; partial results are kept.</summary>
    [Alias("cancel")]
    Task<BacktestStatus> Cancel();

    /// <summary>Cancels when needed, then removes the backtest and all its stored rows.</summary>
    [Alias("delete")]
    Task Delete();

    /// <summary>The stored results once completed (or partial after cancel/timeout), else null.</summary>
    [Alias("results")]
    Task<BacktestResult?> GetResults();

    /// <summary>
    /// Brings back a run whose silo died (what the recovery reminder does, asked at once when the cluster declares
    /// that silo dead); does nothing when the backtest has a live run, is terminal, or is just queued.
    /// </summary>
    [Alias("recover-lost-run")]
    Task RecoverLostRun();

    /// <summary>Called by the queue when a slot is granted: start (or restart) the run.</summary>
    [Alias("slot-granted"), OneWay]
    Task OnSlotGranted();
}

/// <summary>What waits in the queue or holds a slot: a backtest, or a batch of an optimization job's trials.</summary>
[GenerateSerializer, Alias("queue.kind")]
public enum QueueItemKind
{
    Backtest = 0,
    OptimizationBatch = 1,
}

/// <summary>An entry of the queue.</summary>
/// <param name="BacktestId">The backtest's id, or the optimization batch's (<see cref="Kind"/>).</param>
[GenerateSerializer, Immutable, Alias("queue.entry")]
public sealed record QueueEntry(
    [property: Id(0)] Guid BacktestId,
    [property: Id(1)] string Owner,
    [property: Id(2)] BacktestPriority Priority,
    [property: Id(3)] long Sequence,
    [property: Id(4)] DateTime EnqueuedAt,
    [property: Id(5)] int Position,
    [property: Id(6)] QueueItemKind Kind = QueueItemKind.Backtest);

[GenerateSerializer, Immutable, Alias("queue.running")]
public sealed record RunningEntry(
    [property: Id(0)] Guid BacktestId,
    [property: Id(1)] string Owner,
    [property: Id(2)] BacktestPriority Priority,
    [property: Id(3)] DateTime GrantedAt,
    [property: Id(4)] DateTime LeaseExpiresAt,
    [property: Id(5)] string? Silo = null,
    [property: Id(6)] QueueItemKind Kind = QueueItemKind.Backtest);

/// <summary>Where an item stands in the queue (<see cref="QueuePlace"/>).</summary>
public enum QueuePlaceKind
{
    /// <summary>Waiting for a slot, at its position.</summary>
    Waiting = 0,
    /// <summary>Granted a slot it holds (its run starting, running or paused).</summary>
    Holding = 1,
    /// <summary>Ended (its slot given back, or taken out of the line), within the queue's retention of ended places.</summary>
    Ended = 2,
}

/// <summary>An item's place in the queue, answerable while it waits, while it holds a slot, and for a while after it ended.</summary>
/// <param name="Position">1-based among the waiting, cluster-wide; null unless waiting.</param>
/// <param name="Since">When it was enqueued (waiting), granted its slot (holding) or ended.</param>
[GenerateSerializer, Immutable, Alias("queue.place")]
public sealed record QueuePlace(
    [property: Id(0)] Guid BacktestId,
    [property: Id(1)] QueuePlaceKind Kind,
    [property: Id(2)] int? Position,
    [property: Id(3)] DateTime Since,
    [property: Id(4)] BacktestPriority Priority);

[GenerateSerializer, Immutable, Alias("queue.limits")]
public sealed record QueueLimits(
    [property: Id(0)] int MaxConcurrent,
    [property: Id(1)] int MaxConcurrentPerOwner);

[GenerateSerializer, Immutable, Alias("queue.snapshot")]
public sealed record QueueSnapshot(
    [property: Id(0)] IReadOnlyList<QueueEntry> Queued,
    [property: Id(1)] IReadOnlyList<RunningEntry> Running,
    [property: Id(2)] QueueLimits Limits);

/// <summary>
/// The cluster's one queue (key 0): priorities (FIFO within one), a cluster-wide and a per-owner concurrency
/// limit, and leased slots so a slot whose holder vanished is reclaimed.
/// </summary>
[Alias("queue.grain")]
public interface IBacktestQueueGrain : IGrainWithIntegerKey
{
    [Alias("enqueue")]
    Task Enqueue(Guid backtestId, string owner, BacktestPriority priority);

    /// <summary>Queues an item of any kind; a granted slot is announced to the grain of that kind (a backtest's or a batch's).</summary>
    [Alias("enqueue-kind")]
    Task Enqueue(Guid id, string owner, BacktestPriority priority, QueueItemKind kind);

    /// <returns>False when the backtest is not waiting in the queue.</returns>
    [Alias("priority")]
    Task<bool> ChangePriority(Guid backtestId, BacktestPriority priority);

    /// <returns>False when the backtest was not queued.</returns>
    [Alias("remove")]
    Task<bool> Remove(Guid backtestId);

    [Alias("snapshot")]
    Task<QueueSnapshot> GetSnapshot();

    /// <summary>
    /// Where an item stands: waiting (with its position), holding a slot, or ended within the queue's retention of ended
    /// places (<c>Backtesting:QueuePlaceRetention</c>); null when the queue does not know it (never queued, or ended longer ago).
    /// </summary>
    [Alias("place")]
    Task<QueuePlace?> GetPlace(Guid id);

    /// <summary>Keeps a granted slot alive and says which silo runs it; false when the slot was reclaimed.</summary>
    [Alias("renew")]
    Task<bool> Renew(Guid backtestId, string silo);

    /// <summary>
    /// Takes up a granted slot before a run starts in it: renews it as <see cref="Renew"/> does and returns the time the
    /// queue granted it (what orders the runs, <see cref="RunAttempt.GrantedAt"/>); null when the slot is not the item's.
    /// </summary>
    [Alias("take-up")]
    Task<DateTime?> TakeUp(Guid backtestId, string silo);

    /// <summary>
    /// The slots an entry of <paramref name="owner"/> enqueued now would find free: under both the cluster-wide and the
    /// owner's limit, after every entry already waiting (0 when none). A hint for sizing work, not a reservation.
    /// </summary>
    [Alias("free-slots")]
    Task<int> FreeSlots(string owner);

    /// <summary>Frees the slot (every terminal state calls it; calling it twice is harmless).</summary>
    [Alias("release")]
    Task Release(Guid backtestId);
}

/// <summary>One silo of the cluster and its load.</summary>
[GenerateSerializer, Immutable, Alias("cluster.silo")]
public sealed record SiloLoad(
    [property: Id(0)] string Address,
    [property: Id(1)] string Status,
    [property: Id(2)] double? CpuUsage,
    [property: Id(3)] long? MemoryUsage,
    [property: Id(4)] int Activations,
    [property: Id(5)] int RunningBacktests);

/// <summary>The cluster at a glance: its silos and their load, and how many backtests run and wait.</summary>
[GenerateSerializer, Immutable, Alias("cluster.status")]
public sealed record ClusterStatus(
    [property: Id(0)] IReadOnlyList<SiloLoad> Silos,
    [property: Id(1)] int Running,
    [property: Id(2)] int Queued,
    [property: Id(3)] QueueLimits Limits);

[Alias("cluster.status-grain")]
public interface IClusterStatusGrain : IGrainWithIntegerKey
{
    [Alias("status")]
    Task<ClusterStatus> GetStatus();
}

/// <summary>The deployment settings clients must know to offer what the cluster admits.</summary>
/// <param name="MaxDurationYears">The longest date range admitted, in calendar years; null for no limit (Backtesting:MaxDurationYears).</param>
[GenerateSerializer, Immutable, Alias("cluster.settings")]
public sealed record ClusterSettings([property: Id(0)] int? MaxDurationYears);

/// <summary>The one place a client (the API) reads the cluster's settings, so it never keeps a copy that could disagree.</summary>
[Alias("cluster.settings-grain")]
public interface IClusterSettingsGrain : IGrainWithIntegerKey
{
    [Alias("get")]
    Task<ClusterSettings> Get();
}

/// <summary>Cross-run analysis of stored backtests.</summary>
[Alias("comparison.grain")]
public interface IComparisonGrain : IGrainWithStringKey
{
    [Alias("compare")]
    Task<Engine.Metrics.ComparisonResult> Compare(IReadOnlyList<Guid> backtestIds, double riskFreeRate);
}
