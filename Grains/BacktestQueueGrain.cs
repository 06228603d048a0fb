using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Options;

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
    [property: Id(4)] DateTime EnqueuedAt);

/// <summary>
/// The cluster's queue: one activation (key 0), its state in PostgreSQL so a silo restart loses no entry.
/// Higher priority first, first-in-first-out within a priority; a cluster-wide and a per-owner limit on
/// running backtests. A granted slot is a lease the backtest renews while it runs (paused runs keep renewing,
/// so they keep their slot and can resume at once); a lease not renewed in time is reclaimed, so a backtest
/// that vanished with its silo never holds a slot for good.
/// </summary>
public sealed class BacktestQueueGrain : Grain, IBacktestQueueGrain
{
    private readonly IPersistentState<QueueState> _state;
    private readonly BacktestClusterOptions _options;

    public BacktestQueueGrain([PersistentState("queue", "Default")] IPersistentState<QueueState> state,
        IOptions<BacktestClusterOptions> options)
    {
        _state = state;
        _options = options.Value;
    }

    private QueueState S => _state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Reclaims expired leases and fills free slots even when nobody calls.
        this.RegisterGrainTimer(Schedule, new GrainTimerCreationOptions(_options.LeaseDuration / 4, _options.LeaseDuration / 4));
        return Task.CompletedTask;
    }

    public async Task Enqueue(Guid backtestId, string owner, BacktestPriority priority)
    {
        if (S.Queued.Any(q => q.BacktestId == backtestId) || S.Running.Any(r => r.BacktestId == backtestId))
        {
            return;
        }

        S.Queued.Add(new QueueItem(backtestId, owner, priority, S.NextSequence++, DateTime.UtcNow));
        await _state.WriteStateAsync();
        await Schedule(CancellationToken.None);
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
        await _state.WriteStateAsync();
        await Schedule(CancellationToken.None);
        return true;
    }

    public async Task<bool> Remove(Guid backtestId)
    {
        var removed = S.Queued.RemoveAll(q => q.BacktestId == backtestId) > 0;
        if (removed)
        {
            await _state.WriteStateAsync();
        }

        return removed;
    }

    public Task<QueueSnapshot> GetSnapshot()
    {
        var ordered = Ordered().Select((q, i) => new QueueEntry(q.BacktestId, q.Owner, q.Priority, q.Sequence, q.EnqueuedAt, i + 1)).ToList();
        return Task.FromResult(new QueueSnapshot(ordered, S.Running.ToList(),
            new QueueLimits(_options.MaxConcurrent, _options.MaxConcurrentPerOwner)));
    }

    public async Task<bool> Renew(Guid backtestId, string silo)
    {
        var index = S.Running.FindIndex(r => r.BacktestId == backtestId);
        if (index < 0)
        {
            return false;
        }

        // Leases live in memory between writes: after a queue failover the persisted expiry is older, which only
        // makes reclaiming earlier, never later. Persist only when the lease is more than half used.
        var entry = S.Running[index];
        var renewed = entry with { LeaseExpiresAt = DateTime.UtcNow + _options.LeaseDuration, Silo = silo };
        S.Running[index] = renewed;
        if (entry.LeaseExpiresAt - DateTime.UtcNow < _options.LeaseDuration / 2 || entry.Silo != silo)
        {
            await _state.WriteStateAsync();
        }

        return true;
    }

    public async Task Release(Guid backtestId)
    {
        var changed = S.Running.RemoveAll(r => r.BacktestId == backtestId) + S.Queued.RemoveAll(q => q.BacktestId == backtestId);
        if (changed > 0)
        {
            await _state.WriteStateAsync();
        }

        await Schedule(CancellationToken.None);
    }

    private IEnumerable<QueueItem> Ordered() =>
        S.Queued.OrderByDescending(q => q.Priority).ThenBy(q => q.Sequence);

    /// <summary>Reclaims expired leases, then grants free slots in priority order within the per-owner limit.</summary>
    private async Task Schedule(CancellationToken cancellation)
    {
        var now = DateTime.UtcNow;
        var changed = S.Running.RemoveAll(r => r.LeaseExpiresAt < now) > 0;
        var granted = new List<Guid>();
        while (S.Running.Count < _options.MaxConcurrent)
        {
            var next = Ordered().FirstOrDefault(q => S.Running.Count(r => r.Owner == q.Owner) < _options.MaxConcurrentPerOwner);
            if (next is null)
            {
                break;
            }

            S.Queued.Remove(next);
            S.Running.Add(new RunningEntry(next.BacktestId, next.Owner, next.Priority, now, now + _options.LeaseDuration));
            granted.Add(next.BacktestId);
            changed = true;
        }

        if (changed)
        {
            // Persist the grants before telling anyone, so a crash cannot hand out a slot twice.
            await _state.WriteStateAsync(cancellation);
        }

        foreach (var id in granted)
        {
            await GrainFactory.GetGrain<IBacktestGrain>(id).OnSlotGranted();
        }
    }
}
