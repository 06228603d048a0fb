using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains;

/// <summary>What <see cref="QueueBook.Enqueue"/> found.</summary>
public enum EnqueueOutcome
{
    /// <summary>Added to the line: at the back of its priority's line, or back at the place it had before its slot was lost.</summary>
    Added,
    /// <summary>Already waiting: nothing changed, its place is kept.</summary>
    AlreadyWaiting,
    /// <summary>
    /// It holds a slot although it asks for one: the grant never reached it (lost with a silo, say). The slot stays
    /// its own and the grant is to be announced again.
    /// </summary>
    HoldsSlot,
}

/// <summary>
/// The queue's rule, on its state (<see cref="QueueState"/>): higher priority first, first in first out within a priority
/// (by <see cref="QueueItem.Sequence"/>, the order of enqueueing), a cluster-wide and a per-owner limit on slots, and
/// slots as leases that are reclaimed when not renewed.
/// <para>
/// A place in the line is kept until the item ends: an item whose grant or run was lost (its lease reclaimed, its silo
/// dead) and that asks for a slot again goes back to the place its first enqueue gave it, never behind the items
/// enqueued after it (<see cref="QueueState.Places"/>). Ending (<see cref="Release"/>) or leaving the line
/// (<see cref="Remove"/>, a cancel) forgets the place: a later enqueue is a new submission. Changing the priority of a
/// waiting item puts it at the back of its new priority's line, and an item that comes back with another priority than
/// it had is treated the same way.
/// </para>
/// <para>
/// Where an item stands (<see cref="PlaceOf"/>) is answerable while it waits, while it holds a slot, and, once it ended, for
/// a retention period (<see cref="Ended"/>, forgotten by <see cref="Forget"/>): a client polling the place of a backtest
/// granted and ended between two polls finds it ended rather than gone. The ends are the book's own, never in the stored
/// state: the queue grain writes its whole state on every change, and a retention period's ends would weigh on each write;
/// when the queue's activation moves, an end is no longer known.
/// </para>
/// Plain and synchronous: <see cref="BacktestQueueGrain"/> calls it, stores the state and announces the grants.
/// </summary>
public sealed class QueueBook(QueueState state)
{
    public QueueState State { get; } = state;

    /// <summary>Items that ended (released, or taken out of the line), kept answerable until <see cref="Forget"/> drops them.</summary>
    public List<EndedPlace> Ended { get; } = [];

    /// <summary>The waiting items in the order slots go to them (before the per-owner limit).</summary>
    public IEnumerable<QueueItem> Ordered() =>
        State.Queued.OrderByDescending(q => q.Priority).ThenBy(q => q.Sequence);

    public EnqueueOutcome Enqueue(Guid id, string owner, BacktestPriority priority, QueueItemKind kind, DateTime now)
    {
        if (State.Running.Any(r => r.BacktestId == id))
        {
            return EnqueueOutcome.HoldsSlot;
        }

        if (State.Queued.Any(q => q.BacktestId == id))
        {
            return EnqueueOutcome.AlreadyWaiting;
        }

        // Asking again after it ended is a new submission: what is kept of its end goes.
        Ended.RemoveAll(e => e.BacktestId == id);
        var place = State.Places.Find(p => p.BacktestId == id);
        State.Places.RemoveAll(p => p.BacktestId == id);
        State.Queued.Add(place is not null && place.Priority == priority
            ? place with { Owner = owner, Kind = kind }
            : new QueueItem(id, owner, priority, State.NextSequence++, now, kind));
        return EnqueueOutcome.Added;
    }

    /// <summary>A waiting item joins the back of its new priority's line; false when it is not waiting.</summary>
    public bool ChangePriority(Guid id, BacktestPriority priority)
    {
        var index = State.Queued.FindIndex(q => q.BacktestId == id);
        if (index < 0)
        {
            return false;
        }

        State.Queued[index] = State.Queued[index] with { Priority = priority, Sequence = State.NextSequence++ };
        return true;
    }

    /// <summary>
    /// Takes a waiting item out of the line (cancelled while queued) and forgets its place, keeping its end answerable; false
    /// when it was not waiting.
    /// </summary>
    public bool Remove(Guid id, DateTime now)
    {
        var waiting = State.Queued.Find(q => q.BacktestId == id);
        if (waiting is null)
        {
            return false;
        }

        State.Queued.Remove(waiting);
        State.Places.RemoveAll(p => p.BacktestId == id);
        RecordEnd(id, waiting.Priority, now);
        return true;
    }

    /// <summary>
    /// The item ended: frees its slot, drops it from the line, forgets its place, and keeps its end answerable. True when
    /// anything changed (a second release changes nothing).
    /// </summary>
    public bool Release(Guid id, DateTime now)
    {
        var priority = State.Running.Find(r => r.BacktestId == id)?.Priority ?? State.Queued.Find(q => q.BacktestId == id)?.Priority
            ?? State.Places.Find(p => p.BacktestId == id)?.Priority;
        var changed = State.Running.RemoveAll(r => r.BacktestId == id) + State.Queued.RemoveAll(q => q.BacktestId == id)
            + State.Places.RemoveAll(p => p.BacktestId == id) > 0;
        if (priority is { } known)
        {
            RecordEnd(id, known, now);
        }

        return changed;
    }

    private void RecordEnd(Guid id, BacktestPriority priority, DateTime now)
    {
        Ended.RemoveAll(e => e.BacktestId == id);
        Ended.Add(new EndedPlace(id, priority, now));
    }

    /// <summary>Forgets the ends older than <paramref name="retention"/>. The number forgotten.</summary>
    public int Forget(DateTime now, TimeSpan retention) => Ended.RemoveAll(e => now - e.EndedAt >= retention);

    /// <summary>
    /// Where an item stands: waiting (its 1-based position in the order slots go, cluster-wide), holding a slot, or ended
    /// less than <paramref name="retention"/> ago; null when the book does not know it or its end is older.
    /// </summary>
    public QueuePlace? PlaceOf(Guid id, DateTime now, TimeSpan retention)
    {
        var position = 0;
        foreach (var waiting in Ordered())
        {
            position++;
            if (waiting.BacktestId == id)
            {
                return new QueuePlace(id, QueuePlaceKind.Waiting, position, waiting.EnqueuedAt, waiting.Priority);
            }
        }

        if (State.Running.Find(r => r.BacktestId == id) is { } holding)
        {
            return new QueuePlace(id, QueuePlaceKind.Holding, null, holding.GrantedAt, holding.Priority);
        }

        return Ended.Find(e => e.BacktestId == id) is { } ended && now - ended.EndedAt < retention
            ? new QueuePlace(id, QueuePlaceKind.Ended, null, ended.EndedAt, ended.Priority)
            : null;
    }

    /// <summary>
    /// Extends the lease of a held slot and records the silo that runs it. Null when the item holds no slot; otherwise
    /// whether the change must be stored now (the lease more than half used, or the run on another silo: which silo
    /// holds a run decides which runs come back when a silo dies).
    /// </summary>
    public bool? Renew(Guid id, string silo, DateTime now, TimeSpan lease)
    {
        var index = State.Running.FindIndex(r => r.BacktestId == id);
        if (index < 0)
        {
            return null;
        }

        var entry = State.Running[index];
        State.Running[index] = entry with { LeaseExpiresAt = now + lease, Silo = silo };
        return entry.LeaseExpiresAt - now < lease / 2 || !string.Equals(entry.Silo, silo, StringComparison.Ordinal);
    }

    /// <summary>When the slot the item holds was granted (kept through renewals and announcements again); null when it holds none.</summary>
    public DateTime? GrantedAt(Guid id) => State.Running.Find(r => r.BacktestId == id)?.GrantedAt;

    /// <summary>Takes back the slots whose lease ran out; their items keep their places. The number reclaimed.</summary>
    public int Reclaim(DateTime now) => State.Running.RemoveAll(r => r.LeaseExpiresAt < now);

    /// <summary>
    /// Grants free slots in order: the first waiting item whose owner is under its limit, until the cluster's limit is
    /// reached. A granted item's place is remembered until it ends.
    /// </summary>
    public List<QueueItem> Grant(DateTime now, QueueLimits limits, TimeSpan lease)
    {
        var granted = new List<QueueItem>();
        while (State.Running.Count < limits.MaxConcurrent)
        {
            var next = Ordered().FirstOrDefault(q => State.Running.Count(r => r.Owner == q.Owner) < limits.MaxConcurrentPerOwner);
            if (next is null)
            {
                break;
            }

            State.Queued.Remove(next);
            State.Places.RemoveAll(p => p.BacktestId == next.BacktestId);
            State.Places.Add(next);
            State.Running.Add(new RunningEntry(next.BacktestId, next.Owner, next.Priority, now, now + lease, Kind: next.Kind));
            granted.Add(next);
        }

        return granted;
    }

    /// <summary>
    /// Slots granted at least <paramref name="age"/> ago that no silo has taken up (never renewed): their grant may have
    /// been lost, and announcing it again is harmless (a holder that has it already ignores it).
    /// </summary>
    public List<RunningEntry> Unacknowledged(DateTime now, TimeSpan age) =>
        [.. State.Running.Where(r => r.Silo is null && r.GrantedAt <= now - age)];
}
