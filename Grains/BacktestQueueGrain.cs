using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Backtesting.Grains;

[GenerateSerializer, Alias("queue.grain-state")]
public sealed class QueueState
{
    [Id(0)] public List<QueueItem> Queued { get; set; } = new();
    [Id(1)] public List<RunningEntry> Running { get; set; } = new();
    [Id(2)] public long NextSequence { get; set; }
}

[GenerateSerializer, Immutable, Alias("queue.item")]
public sealed record QueueItem(
    [property: Id(0)] Guid BacktestId,
    [property: Id(1)] string Owner,
    [property: Id(2)] BacktestPriority Priority,
    [property: Id(3)] long Sequence,
    [property: Id(4)] DateTime EnqueuedAt,
    [property: Id(5)] QueueItemKind Kind = QueueItemKind.Backtest);

/// <summary>
/// The cluster's queue: one activation (key 0), its state in PostgreSQL so a silo restart loses no entry.
/// Higher priority first, first-in-first-out within a priority; a cluster-wide and a per-owner limit on
/// running backtests. A granted slot is a lease the backtest renews while it runs (paused runs keep renewing,
/// so they keep their slot and can resume at once); a lease not renewed in time is reclaimed, so a backtest
/// that vanished with its silo never holds a slot for good. Its items are backtests and optimization batches
/// (<see cref="QueueItemKind"/>) under the same priorities and limits: a batch takes one slot like a backtest.
/// </summary>
/// <remarks>
/// Every backtest passes through this one activation several times, so its writes bound the cluster's
/// throughput. Calls interleave (the grain is reentrant) and share writes: each call changes the state in memory
/// without awaiting in between (so checks and changes stay atomic), then waits for a write that began after its
/// change (<see cref="Persist"/>). A call still returns only once its change is stored; a burst of calls costs a
/// few writes instead of one each.
/// </remarks>
[Reentrant]
public sealed class BacktestQueueGrain : Grain, IBacktestQueueGrain
{
    private readonly IPersistentState<QueueState> _state;
    private readonly BacktestClusterOptions _options;
    /// <summary>The live state. The storage gets a copy to write, so changes made while a write is in flight never race it.</summary>
    private QueueState _live = new();
    /// <summary>Counts changes; <see cref="_stored"/> is the count the last finished write included.</summary>
    private long _changes;
    private long _stored;
    private Task? _writing;

    public BacktestQueueGrain([PersistentState("queue", "Default")] IPersistentState<QueueState> state,
        IOptions<BacktestClusterOptions> options)
    {
        _state = state;
        _options = options.Value;
    }

    private QueueState S => _live;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _live = Copy(_state.State);
        // Reclaims expired leases and fills free slots even when nobody calls.
        this.RegisterGrainTimer(Schedule, new GrainTimerCreationOptions(_options.LeaseDuration / 4, _options.LeaseDuration / 4));
        return Task.CompletedTask;
    }

    public Task Enqueue(Guid backtestId, string owner, BacktestPriority priority) =>
        Enqueue(backtestId, owner, priority, QueueItemKind.Backtest);

    public async Task Enqueue(Guid id, string owner, BacktestPriority priority, QueueItemKind kind)
    {
        if (S.Queued.Any(q => q.BacktestId == id) || S.Running.Any(r => r.BacktestId == id))
        {
            // Already here, though perhaps not stored yet: the caller may rely on it only once it is.
            await Persist(changed: false);
            return;
        }

        S.Queued.Add(new QueueItem(id, owner, priority, S.NextSequence++, DateTime.UtcNow, kind));
        await Schedule(changed: true);
    }

    public async Task<bool> ChangePriority(Guid backtestId, BacktestPriority priority)
    {
        var index = S.Queued.FindIndex(q => q.BacktestId == backtestId);
        if (index < 0)
        {
            return false;
        }

        // A changed priority joins the back of its new priority's line: FIFO within a priority stays fair.
        S.Queued[index] = S.Queued[index] with { Priority = priority, Sequence = S.NextSequence++ };
        await Schedule(changed: true);
        return true;
    }

    public async Task<bool> Remove(Guid backtestId)
    {
        var removed = S.Queued.RemoveAll(q => q.BacktestId == backtestId) > 0;
        if (removed)
        {
            await Persist(changed: true);
        }

        return removed;
    }

    public Task<QueueSnapshot> GetSnapshot()
    {
        var ordered = Ordered().Select((q, i) => new QueueEntry(q.BacktestId, q.Owner, q.Priority, q.Sequence, q.EnqueuedAt, i + 1, q.Kind)).ToList();
        return Task.FromResult(new QueueSnapshot(ordered, S.Running.ToList(),
            new QueueLimits(_options.MaxConcurrent, _options.MaxConcurrentPerOwner)));
    }

    public Task<int> FreeSlots(string owner)
    {
        var cluster = _options.MaxConcurrent - S.Running.Count - S.Queued.Count;
        var own = _options.MaxConcurrentPerOwner - S.Running.Count(r => r.Owner == owner) - S.Queued.Count(q => q.Owner == owner);
        return Task.FromResult(Math.Max(0, Math.Min(cluster, own)));
    }

    public async Task<bool> Renew(Guid backtestId, string silo)
    {
        var index = S.Running.FindIndex(r => r.BacktestId == backtestId);
        if (index < 0)
        {
            return false;
        }

        // Leases live in memory between writes: after a queue failover the persisted expiry is older, which only
        // makes reclaiming earlier, never later. Persist only when the lease is more than half used, or when the run
        // moved to another silo: which silo holds a run decides which runs come back when a silo dies
        // (LostSiloRecovery), so it must survive a failover of the queue itself.
        var entry = S.Running[index];
        S.Running[index] = entry with { LeaseExpiresAt = DateTime.UtcNow + _options.LeaseDuration, Silo = silo };
        if (entry.LeaseExpiresAt - DateTime.UtcNow < _options.LeaseDuration / 2 || !string.Equals(entry.Silo, silo, StringComparison.Ordinal))
        {
            await Persist(changed: true);
        }

        return true;
    }

    public async Task Release(Guid backtestId)
    {
        var changed = S.Running.RemoveAll(r => r.BacktestId == backtestId) + S.Queued.RemoveAll(q => q.BacktestId == backtestId);
        // The freed slot is granted in the same write.
        await Schedule(changed > 0);
    }

    private IEnumerable<QueueItem> Ordered() =>
        S.Queued.OrderByDescending(q => q.Priority).ThenBy(q => q.Sequence);

    private Task Schedule(CancellationToken cancellation) => Schedule(changed: false);

    /// <summary>
    /// Reclaims expired leases, then grants free slots in priority order within the per-owner limit, and stores
    /// the result (with <paramref name="changed"/>: the caller's own change) before telling the granted backtests.
    /// </summary>
    private async Task Schedule(bool changed)
    {
        var now = DateTime.UtcNow;
        changed |= S.Running.RemoveAll(r => r.LeaseExpiresAt < now) > 0;
        var granted = new List<QueueItem>();
        while (S.Running.Count < _options.MaxConcurrent)
        {
            var next = Ordered().FirstOrDefault(q => S.Running.Count(r => r.Owner == q.Owner) < _options.MaxConcurrentPerOwner);
            if (next is null)
            {
                break;
            }

            S.Queued.Remove(next);
            S.Running.Add(new RunningEntry(next.BacktestId, next.Owner, next.Priority, now, now + _options.LeaseDuration, Kind: next.Kind));
            granted.Add(next);
            changed = true;
        }

        // Persist the grants before telling anyone, so a crash cannot hand out a slot twice.
        await Persist(changed);
        foreach (var item in granted)
        {
            await (item.Kind == QueueItemKind.OptimizationBatch
                ? GrainFactory.GetGrain<IOptimizationBatchGrain>(item.BacktestId).OnSlotGranted()
                : GrainFactory.GetGrain<IBacktestGrain>(item.BacktestId).OnSlotGranted());
        }
    }

    /// <summary>
    /// Returns once a write that includes every change made so far has finished (with <paramref name="changed"/>
    /// false: once any change made so far is stored). One write at a time; calls that arrive while one is in flight
    /// share the next.
    /// </summary>
    private async Task Persist(bool changed)
    {
        if (changed)
        {
            _changes++;
        }

        var needed = _changes;
        while (_stored < needed)
        {
            if (_writing is { } inFlight)
            {
                try
                {
                    await inFlight;
                }
                catch (Exception)
                {
                    // Its own callers get that failure; this call's change goes into the next write.
                }

                continue;
            }

            var including = _changes;
            _state.State = Copy(_live);
            var write = _state.WriteStateAsync();
            _writing = write;
            try
            {
                await write;
                _stored = Math.Max(_stored, including);
            }
            finally
            {
                _writing = null;
            }
        }
    }

    private static QueueState Copy(QueueState state) => new()
    {
        // The entries are immutable records: new lists are a full copy.
        Queued = state.Queued.ToList(),
        Running = state.Running.ToList(),
        NextSequence = state.NextSequence,
    };
}
