using Backtesting.Grains;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Tests.Rules;

/// <summary>
/// The queue's rule: priority, then first in first out, the cluster-wide and per-owner limits, leases, and the place an
/// item keeps while a slot it lost (its grant or its run: a dead silo, a reclaimed lease, a lost paused run resumed)
/// comes back. Every order is checked against an independent one: priority descending, then the first enqueue.
/// </summary>
public class QueueBookTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly DateTime T0 = new(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc);
    private static readonly string[] Owners = ["alice", "bob", "carol"];

    /// <summary>One submission: its id, owner, priority and the order it was first enqueued in.</summary>
    private sealed record Item(Guid Id, string Owner, BacktestPriority Priority, int First);

    /// <summary>n items: owners in turn, priorities from a fixed scramble (every priority, repeated, never sorted).</summary>
    private static List<Item> Items(int n) =>
        [.. Enumerable.Range(0, n).Select(i => new Item(Guid.NewGuid(), Owners[i % Owners.Length], (BacktestPriority)(i * 7 / 3 % 4), i))];

    private static QueueBook Enqueued(IEnumerable<Item> items, DateTime at)
    {
        var book = new QueueBook(new QueueState());
        foreach (var item in items)
        {
            Assert.Equal(EnqueueOutcome.Added, book.Enqueue(item.Id, item.Owner, item.Priority, QueueItemKind.Backtest, at));
        }

        return book;
    }

    /// <summary>The independent order: higher priority first, then the first enqueue.</summary>
    private static List<Guid> Expected(IEnumerable<Item> waiting) =>
        [.. waiting.OrderByDescending(i => i.Priority).ThenBy(i => i.First).Select(i => i.Id)];

    private static List<Guid> Line(QueueBook book) => [.. book.Ordered().Select(q => q.BacktestId)];

    private static QueueLimits Limits(int cluster, int owner) => new(cluster, owner);

    public static TheoryData<int, bool> EveryPositionAndWay()
    {
        var data = new TheoryData<int, bool>();
        for (var k = 0; k < 12; k++)
        {
            data.Add(k, false);
            data.Add(k, true);
        }

        return data;
    }

    /// <summary>
    /// 12 items, 4 slots with no per-owner limit; the k-th granted loses its slot (its lease runs out: a run or a grant
    /// lost with a silo) while the others renew; the freed slot goes to the next in line; then the lost one asks again
    /// (its reminder, its recovery, a resume). It must stand where its first enqueue put it, ahead of every later
    /// submission of its priority, and the whole line must equal the independent order.
    /// With <paramref name="grantedMeanwhile"/> false, it asks again before anything else is granted.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryPositionAndWay))]
    public void An_item_whose_slot_was_lost_comes_back_to_the_place_of_its_first_enqueue(int k, bool grantedMeanwhile)
    {
        var items = Items(12);
        var book = Enqueued(items, T0);
        var byId = items.ToDictionary(i => i.Id);
        var order = new List<Item>();
        // Grant the whole line, a slot at a time (releasing each), up to the k-th: the k-th keeps its slot.
        while (order.Count <= k)
        {
            var granted = book.Grant(T0, Limits(1, 12), Lease);
            var next = Assert.Single(granted);
            order.Add(byId[next.BacktestId]);
            if (order.Count <= k)
            {
                Assert.True(book.Release(next.BacktestId, T0));
            }
        }

        var lost = order[^1];
        Assert.Equal(Expected(items).Take(k + 1), order.Select(i => i.Id));
        // Its lease runs out.
        Assert.Equal(1, book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1)));
        Assert.Empty(book.State.Running);
        var released = order.Take(k).Select(i => i.Id).ToHashSet();
        if (grantedMeanwhile && k < 11)
        {
            // The freed slot goes to the next in line meanwhile, which is then running: not in the line.
            var next = byId[Assert.Single(book.Grant(T0 + Lease, Limits(1, 12), Lease)).BacktestId];
            Assert.Equal(Expected(items.Where(i => !released.Contains(i.Id) && i != lost))[0], next.Id);
            released.Add(next.Id);
        }

        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(lost.Id, lost.Owner, lost.Priority, QueueItemKind.Backtest, T0 + Lease + Lease));
        var waiting = items.Where(i => !released.Contains(i.Id)).ToList();
        Assert.Equal(Expected(waiting), Line(book));
        var entry = book.State.Queued.Single(q => q.BacktestId == lost.Id);
        Assert.Equal(T0, entry.EnqueuedAt);
        Assert.All(waiting.Where(w => w.Priority == lost.Priority && w.First > lost.First),
            later => Assert.True(Line(book).IndexOf(lost.Id) < Line(book).IndexOf(later.Id), $"#{lost.First} is behind the later #{later.First}"));
        // It keeps that place when asked again, and takes no new sequence number.
        var next0 = book.State.NextSequence;
        Assert.Equal(EnqueueOutcome.AlreadyWaiting, book.Enqueue(lost.Id, lost.Owner, lost.Priority, QueueItemKind.Backtest, T0 + Lease + Lease));
        Assert.Equal(next0, book.State.NextSequence);
    }

    [Fact]
    public void Several_items_whose_slots_were_lost_all_come_back_in_their_first_order_whatever_order_they_ask_again_in()
    {
        var items = Items(12);
        var book = Enqueued(items, T0);
        var held = book.Grant(T0, Limits(4, 4), Lease).Select(g => items.Single(i => i.Id == g.BacktestId)).ToList();
        Assert.Equal(Expected(items).Take(4), held.Select(i => i.Id));
        Assert.Equal(4, book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1)));
        // Four more are granted meanwhile, then the lost ones come back, the last granted first.
        var meanwhile = book.Grant(T0 + Lease, Limits(4, 4), Lease).Select(g => g.BacktestId).ToList();
        Assert.Equal(Expected(items).Skip(4).Take(4), meanwhile);
        foreach (var item in held.AsEnumerable().Reverse())
        {
            Assert.Equal(EnqueueOutcome.Added, book.Enqueue(item.Id, item.Owner, item.Priority, QueueItemKind.Backtest, T0 + Lease + Lease));
        }

        Assert.Equal(Expected(items.Where(i => !meanwhile.Contains(i.Id))), Line(book));
    }

    [Fact]
    public void An_item_whose_grant_never_reached_it_still_holds_its_slot_and_is_told_again_rather_than_queued_again()
    {
        var items = Items(3);
        var book = Enqueued(items, T0);
        var granted = Assert.Single(book.Grant(T0, Limits(1, 1), Lease));
        var sequence = book.State.NextSequence;

        // The backtest, still queued in its own state, asks for a slot (its reminder): it has one.
        Assert.Equal(EnqueueOutcome.HoldsSlot, book.Enqueue(granted.BacktestId, granted.Owner, granted.Priority, QueueItemKind.Backtest, T0 + Lease / 8));
        Assert.Equal([granted.BacktestId], book.State.Running.Select(r => r.BacktestId));
        Assert.DoesNotContain(book.State.Queued, q => q.BacktestId == granted.BacktestId);
        Assert.Equal(sequence, book.State.NextSequence);

        // No silo took it up: after the given age it is listed for announcing again, until a silo renews it.
        Assert.Empty(book.Unacknowledged(T0 + Lease / 8, Lease / 4));
        Assert.Equal([granted.BacktestId], book.Unacknowledged(T0 + Lease / 4, Lease / 4).Select(r => r.BacktestId));
        Assert.Equal(true, book.Renew(granted.BacktestId, "S1", T0 + Lease / 4, Lease));
        Assert.Empty(book.Unacknowledged(T0 + Lease, Lease / 4));
    }

    [Fact]
    public void A_cancelled_item_forgets_its_place_and_a_new_enqueue_is_a_new_submission()
    {
        var items = Items(6).Select(i => i with { Priority = BacktestPriority.Normal }).ToList();
        var book = Enqueued(items, T0);
        // Cancelled while waiting.
        Assert.True(book.Remove(items[1].Id, T0));
        Assert.False(book.Remove(items[1].Id, T0));
        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(items[1].Id, items[1].Owner, items[1].Priority, QueueItemKind.Backtest, T0));
        Assert.Equal(items[1].Id, Line(book)[^1]);

        // Cancelled after its slot was lost and before it asked again: its place is gone too.
        var granted = Assert.Single(book.Grant(T0, Limits(1, 6), Lease));
        Assert.Equal(items[0].Id, granted.BacktestId);
        book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1));
        Assert.True(book.Release(granted.BacktestId, T0));
        Assert.Empty(book.State.Places);
        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(items[0].Id, items[0].Owner, items[0].Priority, QueueItemKind.Backtest, T0));
        Assert.Equal(items[0].Id, Line(book)[^1]);
    }

    [Fact]
    public void An_item_that_ended_forgets_its_place_and_releasing_twice_changes_nothing()
    {
        var items = Items(4).Select(i => i with { Priority = BacktestPriority.High }).ToList();
        var book = Enqueued(items, T0);
        var granted = Assert.Single(book.Grant(T0, Limits(1, 4), Lease));
        Assert.True(book.Release(granted.BacktestId, T0));
        Assert.False(book.Release(granted.BacktestId, T0));
        Assert.Empty(book.State.Places);
        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(granted.BacktestId, granted.Owner, granted.Priority, QueueItemKind.Backtest, T0));
        Assert.Equal(granted.BacktestId, Line(book)[^1]);
    }

    public static TheoryData<BacktestPriority, BacktestPriority> EveryPair()
    {
        var data = new TheoryData<BacktestPriority, BacktestPriority>();
        foreach (var from in Enum.GetValues<BacktestPriority>())
        {
            foreach (var to in Enum.GetValues<BacktestPriority>())
            {
                data.Add(from, to);
            }
        }

        return data;
    }

    /// <summary>
    /// A lost item that comes back with its own priority keeps its place; with another, it joins the back of that
    /// priority's line, as a priority change of a waiting item does. Priorities stay strict either way.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryPair))]
    public void A_returning_item_keeps_its_place_only_within_its_own_priority(BacktestPriority from, BacktestPriority to)
    {
        var lost = new Item(Guid.NewGuid(), "alice", from, 0);
        var others = Enum.GetValues<BacktestPriority>().SelectMany((p, j) => new[]
        {
            new Item(Guid.NewGuid(), "bob", p, 1 + 2 * j),
            new Item(Guid.NewGuid(), "carol", p, 2 + 2 * j),
        }).ToList();
        var book = Enqueued([lost], T0);
        Assert.Equal(lost.Id, Assert.Single(book.Grant(T0, Limits(1, 1), Lease)).BacktestId);
        foreach (var other in others)
        {
            book.Enqueue(other.Id, other.Owner, other.Priority, QueueItemKind.Backtest, T0);
        }

        book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(lost.Id, lost.Owner, to, QueueItemKind.Backtest, T0 + Lease));
        var returned = lost with { Priority = to, First = from == to ? lost.First : others.Count + 1 };
        Assert.Equal(Expected(others.Append(returned)), Line(book));
    }

    [Fact]
    public void A_priority_change_puts_a_waiting_item_at_the_back_of_its_new_line_and_an_item_not_waiting_cannot_change()
    {
        var items = Items(8).Select(i => i with { Priority = i.First % 2 == 0 ? BacktestPriority.Normal : BacktestPriority.High }).ToList();
        var book = Enqueued(items, T0);
        Assert.True(book.ChangePriority(items[0].Id, BacktestPriority.High));
        var changed = items.Select(i => i == items[0] ? i with { Priority = BacktestPriority.High, First = items.Count } : i);
        Assert.Equal(Expected(changed), Line(book));
        var granted = Assert.Single(book.Grant(T0, Limits(1, 8), Lease));
        Assert.False(book.ChangePriority(granted.BacktestId, BacktestPriority.Low));
        Assert.False(book.ChangePriority(Guid.NewGuid(), BacktestPriority.Low));
    }

    public static TheoryData<int, int> EveryLimit()
    {
        var data = new TheoryData<int, int>();
        for (var cluster = 1; cluster <= 5; cluster++)
        {
            for (var owner = 1; owner <= 3; owner++)
            {
                data.Add(cluster, owner);
            }
        }

        return data;
    }

    /// <summary>
    /// Whatever the limits: slots go in the independent order skipping an owner at its limit, never over either limit;
    /// and when every holder loses its slot and asks again, the next grants are the same as if nothing had been lost.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryLimit))]
    public void Slots_follow_the_order_within_both_limits_and_a_lost_slot_changes_no_later_grant(int cluster, int owner)
    {
        var items = Items(15);
        var limits = Limits(cluster, owner);
        var book = Enqueued(items, T0);
        var granted = book.Grant(T0, limits, Lease).Select(g => g.BacktestId).ToList();
        Assert.Equal(ExpectedGrants(Expected(items), items, [], limits), granted);

        // Every holder loses its slot, and asks again before anything else is granted.
        book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1));
        foreach (var id in granted)
        {
            var item = items.Single(i => i.Id == id);
            book.Enqueue(id, item.Owner, item.Priority, QueueItemKind.Backtest, T0 + Lease);
        }

        Assert.Equal(Expected(items), Line(book));
        Assert.Equal(granted, book.Grant(T0 + Lease, limits, Lease).Select(g => g.BacktestId));
        Assert.True(book.State.Running.Count <= cluster);
        Assert.All(book.State.Running.GroupBy(r => r.Owner), g => Assert.True(g.Count() <= owner));
    }

    [Fact]
    public void A_returning_item_whose_owner_is_at_its_limit_waits_and_comes_first_of_that_owner_when_a_slot_frees()
    {
        // alice: a0 a1 a2; bob: b0 (same priority), enqueued a0 a1 b0 a2.
        var a0 = new Item(Guid.NewGuid(), "alice", BacktestPriority.Normal, 0);
        var a1 = new Item(Guid.NewGuid(), "alice", BacktestPriority.Normal, 1);
        var b0 = new Item(Guid.NewGuid(), "bob", BacktestPriority.Normal, 2);
        var a2 = new Item(Guid.NewGuid(), "alice", BacktestPriority.Normal, 3);
        var limits = Limits(2, 1);
        var book = Enqueued([a0, a1, b0, a2], T0);
        Assert.Equal([a0.Id, b0.Id], book.Grant(T0, limits, Lease).Select(g => g.BacktestId));
        // b0 renews, a0 does not: its slot is reclaimed and alice's next (a1) takes it.
        book.Renew(b0.Id, "S1", T0 + Lease, Lease);
        book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1));
        Assert.Equal([a1.Id], book.Grant(T0 + Lease, limits, Lease).Select(g => g.BacktestId));
        // a0 comes back ahead of a2, but alice is at her limit: nothing is granted.
        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(a0.Id, a0.Owner, a0.Priority, QueueItemKind.Backtest, T0 + Lease));
        Assert.Equal([a0.Id, a2.Id], Line(book));
        Assert.Empty(book.Grant(T0 + Lease, limits, Lease));
        // bob's run ends: alice is still at her limit. Then a1 ends: a0 gets the slot before a2.
        book.Release(b0.Id, T0);
        Assert.Empty(book.Grant(T0 + Lease, limits, Lease));
        book.Release(a1.Id, T0);
        Assert.Equal([a0.Id], book.Grant(T0 + Lease, limits, Lease).Select(g => g.BacktestId));
    }

    [Fact]
    public void A_slot_keeps_the_time_of_its_grant_through_renewals_and_asks_again_and_a_slot_granted_anew_has_a_new_one()
    {
        var items = Items(3);
        var book = Enqueued(items, T0);
        var step = T0 + TimeSpan.FromSeconds(1);
        // Granted in one step: one time for both, in the queue's order.
        var granted = book.Grant(step, Limits(2, 3), Lease);
        Assert.Equal(2, granted.Count);
        Assert.All(granted, g => Assert.Equal(step, book.GrantedAt(g.BacktestId)));
        var waiting = items.Single(i => granted.All(g => g.BacktestId != i.Id)).Id;
        Assert.Null(book.GrantedAt(waiting));

        // Taken up, renewed, asked for again (the grant never arrived): the grant's time stays.
        var (held, lost) = (granted[0], granted[1]);
        book.Renew(held.BacktestId, "S1", step + Lease / 4, Lease);
        book.Renew(held.BacktestId, "S2", step + Lease, Lease);
        Assert.Equal(EnqueueOutcome.HoldsSlot, book.Enqueue(held.BacktestId, held.Owner, held.Priority, QueueItemKind.Backtest, step + Lease));
        Assert.Equal(step, book.GrantedAt(held.BacktestId));

        // The other is never taken up: reclaimed, it holds no slot; granted again, its time is the new grant's.
        var reclaimed = step + Lease + TimeSpan.FromSeconds(1);
        Assert.Equal(1, book.Reclaim(reclaimed));
        Assert.Null(book.GrantedAt(lost.BacktestId));
        book.Release(held.BacktestId, reclaimed);
        Assert.Null(book.GrantedAt(held.BacktestId));
        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(lost.BacktestId, lost.Owner, lost.Priority, QueueItemKind.Backtest, reclaimed));
        var again = book.Grant(reclaimed, Limits(2, 3), Lease);
        Assert.Contains(again, g => g.BacktestId == lost.BacktestId);
        Assert.Equal(reclaimed, book.GrantedAt(lost.BacktestId));
    }

    [Fact]
    public void A_lease_is_renewed_only_by_its_holder_and_stored_at_once_only_when_half_used_or_moved()
    {
        var items = Items(2);
        var book = Enqueued(items, T0);
        var granted = Assert.Single(book.Grant(T0, Limits(1, 1), Lease)).BacktestId;
        Assert.Null(book.Renew(items.Single(i => i.Id != granted).Id, "S1", T0, Lease));
        Assert.Equal(true, book.Renew(granted, "S1", T0, Lease)); // taken up: the silo is new
        Assert.Equal(false, book.Renew(granted, "S1", T0 + Lease / 4, Lease)); // fresh, same silo
        Assert.Equal(true, book.Renew(granted, "S1", T0 + Lease, Lease)); // more than half used
        Assert.Equal(true, book.Renew(granted, "S2", T0 + Lease, Lease)); // moved
        Assert.Equal(0, book.Reclaim(T0 + Lease + Lease));
        Assert.Equal(1, book.Reclaim(T0 + Lease + Lease + TimeSpan.FromTicks(1)));
        Assert.Null(book.Renew(granted, "S2", T0 + Lease + Lease, Lease));
    }

    [Fact]
    public void Items_of_both_kinds_share_one_line_and_keep_their_kind_when_they_come_back()
    {
        var batch = Guid.NewGuid();
        var backtest = Guid.NewGuid();
        var book = new QueueBook(new QueueState());
        book.Enqueue(batch, "alice", BacktestPriority.Normal, QueueItemKind.OptimizationBatch, T0);
        book.Enqueue(backtest, "bob", BacktestPriority.Normal, QueueItemKind.Backtest, T0);
        var granted = Assert.Single(book.Grant(T0, Limits(1, 1), Lease));
        Assert.Equal((batch, QueueItemKind.OptimizationBatch), (granted.BacktestId, granted.Kind));
        Assert.Equal(QueueItemKind.OptimizationBatch, Assert.Single(book.State.Running).Kind);
        book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1));
        book.Enqueue(batch, "alice", BacktestPriority.Normal, QueueItemKind.OptimizationBatch, T0 + Lease);
        Assert.Equal([batch, backtest], Line(book));
        Assert.Equal(QueueItemKind.OptimizationBatch, book.Ordered().First().Kind);
    }

    /// <summary>The grants the rule must make, computed apart from it: walk the order, skip owners at their limit.</summary>
    private static List<Guid> ExpectedGrants(List<Guid> order, List<Item> items, List<Guid> holding, QueueLimits limits)
    {
        var owners = holding.Select(h => items.Single(i => i.Id == h).Owner).ToList();
        var grants = new List<Guid>();
        foreach (var id in order)
        {
            if (owners.Count >= limits.MaxConcurrent)
            {
                break;
            }

            var owner = items.Single(i => i.Id == id).Owner;
            if (owners.Count(o => o == owner) < limits.MaxConcurrentPerOwner)
            {
                owners.Add(owner);
                grants.Add(id);
            }
        }

        return grants;
    }

    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Every item's place through its whole life: waiting at its position (cluster-wide, in the independent order), holding
    /// its slot once granted, and ended, answerable for the retention after its end, forgotten at its end exactly (issue 18:
    /// a client polling a just-granted backtest's place saw it vanish). A cancelled waiting item is ended the same way, and
    /// its new submission waits again.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void An_items_place_is_answerable_while_it_waits_holds_its_slot_and_for_the_retention_after_it_ended(int slots)
    {
        var items = Items(9);
        var book = Enqueued(items, T0);
        var expected = Expected(items);
        foreach (var item in items)
        {
            var place = book.PlaceOf(item.Id, T0, Retention);
            Assert.NotNull(place);
            Assert.Equal((QueuePlaceKind.Waiting, expected.IndexOf(item.Id) + 1, item.Priority), (place.Kind, place.Position, place.Priority));
        }

        var granted = book.Grant(T0.AddSeconds(1), Limits(slots, slots), Lease);
        Assert.Equal(Math.Min(slots, items.Count), granted.Count);
        foreach (var g in granted)
        {
            var place = book.PlaceOf(g.BacktestId, T0.AddSeconds(1), Retention);
            Assert.Equal((QueuePlaceKind.Holding, (int?)null, T0.AddSeconds(1)), (place!.Kind, place.Position, place.Since));
        }

        // The ones still waiting moved up.
        var waiting = Expected(items.Where(i => granted.All(g => g.BacktestId != i.Id)));
        Assert.All(waiting, id => Assert.Equal(waiting.IndexOf(id) + 1, book.PlaceOf(id, T0.AddSeconds(1), Retention)!.Position));

        var ended = granted[0].BacktestId;
        var endedAt = T0.AddSeconds(2);
        Assert.True(book.Release(ended, endedAt));
        var cancelled = waiting.FirstOrDefault();
        if (cancelled != Guid.Empty)
        {
            Assert.True(book.Remove(cancelled, endedAt));
        }

        foreach (var id in new[] { ended, cancelled }.Where(id => id != Guid.Empty))
        {
            foreach (var after in new[] { TimeSpan.Zero, TimeSpan.FromMinutes(1), Retention - TimeSpan.FromTicks(1) })
            {
                Assert.Equal(0, book.Forget(endedAt + after, Retention));
                var place = book.PlaceOf(id, endedAt + after, Retention);
                Assert.Equal((QueuePlaceKind.Ended, (int?)null, endedAt), (place!.Kind, place.Position, place.Since));
            }

            Assert.Null(book.PlaceOf(id, endedAt + Retention, Retention));
        }

        // Forgotten for good once the retention is over; a later release of the same item keeps nothing new.
        Assert.Equal(cancelled == Guid.Empty ? 1 : 2, book.Forget(endedAt + Retention, Retention));
        Assert.Null(book.PlaceOf(ended, endedAt, Retention));
        Assert.False(book.Release(ended, endedAt + Retention));
        Assert.Null(book.PlaceOf(ended, endedAt + Retention, Retention));
        Assert.Null(book.PlaceOf(Guid.NewGuid(), T0, Retention));

        // Asked again after its end: a new submission, waiting at the back, no longer ended.
        Assert.Equal(EnqueueOutcome.Added, book.Enqueue(ended, granted[0].Owner, granted[0].Priority, QueueItemKind.Backtest, endedAt));
        Assert.Equal(QueuePlaceKind.Waiting, book.PlaceOf(ended, endedAt, Retention)!.Kind);
    }

    /// <summary>An item whose slot was reclaimed (its silo died) and that ends before asking again is ended too, with its priority.</summary>
    [Fact]
    public void An_item_ended_after_its_slot_was_reclaimed_is_answerable_as_ended()
    {
        var item = new Item(Guid.NewGuid(), "alice", BacktestPriority.Urgent, 0);
        var book = Enqueued([item], T0);
        Assert.Single(book.Grant(T0, Limits(1, 1), Lease));
        Assert.Equal(1, book.Reclaim(T0 + Lease + TimeSpan.FromSeconds(1)));
        Assert.True(book.Release(item.Id, T0 + Lease));
        var place = book.PlaceOf(item.Id, T0 + Lease, Retention);
        Assert.Equal((QueuePlaceKind.Ended, BacktestPriority.Urgent), (place!.Kind, place.Priority));
    }
}
