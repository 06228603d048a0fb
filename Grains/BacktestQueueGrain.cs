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
    /// <summary>
    /// The place in the line (sequence, priority) of every item granted a slot and not ended yet, kept so that an item
    /// whose slot was lost comes back to it (<see cref="QueueBook"/>).
    /// </summary>
    [Id(3)] public List<QueueItem> Places { get; set; } = new();
}

/// <summary>An item that ended, and when: its place stays answerable for the queue's retention (<see cref="QueueBook.PlaceOf"/>).</summary>
public sealed record EndedPlace(Guid BacktestId, BacktestPriority Priority, DateTime EndedAt);

[GenerateSerializer, Immutable, Alias("queue.item")]
public sealed record QueueItem(
    [property: Id(0)] Guid BacktestId,
    [property: Id(1)] string Owner,
    [property: Id(2)] BacktestPriority Priority,
    [property: Id(3)] long Sequence,
    [property: Id(4)] DateTime EnqueuedAt,
    [property: Id(5)] QueueItemKind Kind = QueueItemKind.Backtest);

/// <summary>
/// The cluster's queue: one activation (key 0), its state in PostgreSQL so a silo restart loses no entry. The rule
/// (priority, then first in first out, a place kept while a lost slot comes back, the cluster-wide and per-owner limits,
/// leases) is <see cref="QueueBook"/>'s; this grain stores the state and announces the grants. A granted slot is a lease
/// the backtest renews while it runs (paused runs keep renewing, so they keep their slot and can resume at once); a
/// lease not renewed in time is reclaimed, so a backtest that vanished with its silo never holds a slot for good. A
/// grant no silo took up is announced again on the timer. Its items are backtests and optimization batches
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
    /// <summary>The rule, on the live state.</summary>
    private QueueBook Book { get; set; } = new(new QueueState());
    private TimeSpan TimerPeriod => _options.LeaseDuration / 4;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _live = Copy(_state.State);
        Book = new QueueBook(_live);
        // Reclaims expired leases, fills free slots and announces grants again even when nobody calls.
        this.RegisterGrainTimer(OnTimer, new GrainTimerCreationOptions(TimerPeriod, TimerPeriod));
        return Task.CompletedTask;
    }

    public Task Enqueue(Guid backtestId, string owner, BacktestPriority priority) =>
        Enqueue(backtestId, owner, priority, QueueItemKind.Backtest);

    public async Task Enqueue(Guid id, string owner, BacktestPriority priority, QueueItemKind kind)
    {
        switch (Book.Enqueue(id, owner, priority, kind, DateTime.UtcNow))
        {
            case EnqueueOutcome.Added:
                await Schedule(changed: true);
                break;
            case EnqueueOutcome.HoldsSlot:
                // It asks for a slot it holds: the grant never reached it. Announced again once the grant is stored.
                await Persist(changed: false);
                await Announce(id, kind);
                break;
            default:
                // Already here, though perhaps not stored yet: the caller may rely on it only once it is.
                await Persist(changed: false);
                break;
        }
    }

    public async Task<bool> ChangePriority(Guid backtestId, BacktestPriority priority)
    {
        if (!Book.ChangePriority(backtestId, priority))
        {
            return false;
        }

        await Schedule(changed: true);
        return true;
    }

    public async Task<bool> Remove(Guid backtestId)
    {
        var removed = Book.Remove(backtestId, DateTime.UtcNow);
        if (removed)
        {
            await Persist(changed: true);
        }

        return removed;
    }

    public Task<QueueSnapshot> GetSnapshot()
    {
        var ordered = Book.Ordered().Select((q, i) => new QueueEntry(q.BacktestId, q.Owner, q.Priority, q.Sequence, q.EnqueuedAt, i + 1, q.Kind)).ToList();
        return Task.FromResult(new QueueSnapshot(ordered, S.Running.ToList(), Limits));
    }

    public Task<QueuePlace?> GetPlace(Guid id) => Task.FromResult(Book.PlaceOf(id, DateTime.UtcNow, _options.QueuePlaceRetention));

    public Task<int> FreeSlots(string owner)
    {
        var cluster = _options.MaxConcurrent - S.Running.Count - S.Queued.Count;
        var own = _options.MaxConcurrentPerOwner - S.Running.Count(r => r.Owner == owner) - S.Queued.Count(q => q.Owner == owner);
        return Task.FromResult(Math.Max(0, Math.Min(cluster, own)));
    }

    public async Task<bool> Renew(Guid backtestId, string silo)
    {
        // Leases live in memory between writes: after a queue failover the persisted expiry is older, which only
        // makes reclaiming earlier, never later.
        switch (Book.Renew(backtestId, silo, DateTime.UtcNow, _options.LeaseDuration))
        {
            case null:
                return false;
            case true:
                await Persist(changed: true);
                break;
        }

        return true;
    }

    public async Task<DateTime?> TakeUp(Guid backtestId, string silo)
    {
        // Read before the renewal's first wait: the slot it renews is the one granted then.
        var grantedAt = Book.GrantedAt(backtestId);
        return await Renew(backtestId, silo) ? grantedAt : null;
    }

    public async Task Release(Guid backtestId)
    {
        // The freed slot is granted in the same write.
        await Schedule(Book.Release(backtestId, DateTime.UtcNow));
    }

    private QueueLimits Limits => new(_options.MaxConcurrent, _options.MaxConcurrentPerOwner);

    /// <summary>
    /// The timer: besides reclaiming and granting, announces again the grants no silo has taken up for a timer period
    /// (a grant is a one-way call, lost when the silo of its receiver dies at that moment).
    /// </summary>
    private async Task OnTimer(CancellationToken cancellation)
    {
        await Schedule(changed: false);
        foreach (var entry in Book.Unacknowledged(DateTime.UtcNow, TimerPeriod))
        {
            await Announce(entry.BacktestId, entry.Kind);
        }
    }

    /// <summary>
    /// Reclaims expired leases, then grants free slots by <see cref="QueueBook.Grant"/>, and stores the result (with
    /// <paramref name="changed"/>: the caller's own change) before telling the granted items.
    /// </summary>
    private async Task Schedule(bool changed)
    {
        var now = DateTime.UtcNow;
        changed |= Book.Reclaim(now) > 0;
        Book.Forget(now, _options.QueuePlaceRetention);
        var granted = Book.Grant(now, Limits, _options.LeaseDuration);
        changed |= granted.Count > 0;

        // Persist the grants before telling anyone, so a crash cannot hand out a slot twice.
        await Persist(changed);
        foreach (var item in granted)
        {
            await Announce(item.BacktestId, item.Kind);
        }
    }

    /// <summary>Tells an item it holds a slot (a one-way call: it returns at once).</summary>
    private Task Announce(Guid id, QueueItemKind kind) => kind == QueueItemKind.OptimizationBatch
        ? GrainFactory.GetGrain<IOptimizationBatchGrain>(id).OnSlotGranted()
        : GrainFactory.GetGrain<IBacktestGrain>(id).OnSlotGranted();

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
        Places = state.Places.ToList(),
    };
}
