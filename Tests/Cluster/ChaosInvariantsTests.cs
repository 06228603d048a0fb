using Backtesting.Grains.Interfaces;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// The chaos run's order checks on hand-built statuses. The queue's order shows in grant times: a run at scale once failed
/// the check with "#45 started 21 ms before #44", two runs the queue had granted in one step, in order, that started on
/// their silos in the other order after the grant's round trip.
/// </summary>
public sealed class ChaosInvariantsTests
{
    private static readonly DateTime T0 = new(2026, 12, 7, 5, 0, 0, DateTimeKind.Utc);

    private static DateTime At(int ms) => T0.AddMilliseconds(ms);

    private static RunAttempt Attempt(int number, int startedMs, int? grantedMs) =>
        new(number, "docker", At(startedMs), null, null, null, 0, "silo", null, GrantedAt: grantedMs is { } g ? At(g) : null);

    private static BacktestStatus Status(Guid id, int queuedMs, params RunAttempt[] attempts) => new(id, BacktestState.Completed, "alice",
        BacktestPriority.Normal, "MovingAverageCross", T0, T0, T0, null, null, null, attempts,
        [new StateChange(BacktestState.Created, At(queuedMs), null), new StateChange(BacktestState.Queued, At(queuedMs), null)], false, null);

    /// <summary>Two backtests of one owner and priority, submitted in this order, each with one attempt (start, grant in ms).</summary>
    private static List<string> StartOrder((int Started, int? Granted) earlier, (int Started, int? Granted) later,
        string laterOwner = "alice", BacktestPriority laterPriority = BacktestPriority.Normal)
    {
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        var backtests = new[]
        {
            new ChaosBacktest(first, "alice", BacktestPriority.Normal, "{}", 44),
            new ChaosBacktest(second, laterOwner, laterPriority, "{}", 45),
        };
        var statuses = new Dictionary<Guid, BacktestStatus>
        {
            [first] = Status(first, 0, Attempt(1, earlier.Started, earlier.Granted)),
            [second] = Status(second, 0, Attempt(1, later.Started, later.Granted)),
        };
        return ChaosInvariants.StartOrder(backtests, statuses);
    }

    [Theory]
    [InlineData(100, 100)] // granted in one step (the same time): the tie is in order
    [InlineData(100, 101)] // granted one after the other
    public void Starts_out_of_order_with_grants_in_order_pass(int earlierGrant, int laterGrant)
    {
        Assert.Empty(StartOrder((Started: 150, Granted: earlierGrant), (Started: 129, Granted: laterGrant)));
    }

    [Fact]
    public void Grants_out_of_order_fail_even_with_starts_in_order()
    {
        var inversion = Assert.Single(StartOrder((Started: 150, Granted: 120), (Started: 160, Granted: 100)));
        Assert.Equal("alice/Normal: #45 was granted its slot 20 ms before #44", inversion);
    }

    [Fact]
    public void Without_grant_times_the_start_times_are_compared()
    {
        Assert.Single(StartOrder((Started: 150, Granted: null), (Started: 129, Granted: null)));
        Assert.Empty(StartOrder((Started: 129, Granted: null), (Started: 150, Granted: null)));
        // Only one has a grant time: its grant against the other's start.
        Assert.Single(StartOrder((Started: 150, Granted: null), (Started: 160, Granted: 120)));
        Assert.Empty(StartOrder((Started: 150, Granted: 100), (Started: 129, Granted: null)));
    }

    [Theory]
    [InlineData("bob", BacktestPriority.Normal)]
    [InlineData("alice", BacktestPriority.High)]
    public void Backtests_of_another_owner_or_priority_are_not_compared(string owner, BacktestPriority priority)
    {
        Assert.Empty(StartOrder((Started: 150, Granted: 120), (Started: 160, Granted: 100), owner, priority));
    }

    [Fact]
    public void The_first_attempt_decides_not_a_later_one()
    {
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        var backtests = new[] { new ChaosBacktest(first, "alice", BacktestPriority.Normal, "{}", 1), new ChaosBacktest(second, "alice", BacktestPriority.Normal, "{}", 2) };
        // The earlier was granted first; its second attempt (a new grant after its slot was lost) comes after the later's.
        var statuses = new Dictionary<Guid, BacktestStatus>
        {
            [first] = Status(first, 0, Attempt(1, 20, 10), Attempt(2, 500, 400)),
            [second] = Status(second, 0, Attempt(1, 40, 30)),
        };
        Assert.Empty(ChaosInvariants.StartOrder(backtests, statuses));
    }

    public static TheoryData<int, int?, int, bool> Grants => new()
    {
        // queued at, granted at, started at, holds
        { 0, 10, 20, true },
        { 0, 0, 0, true }, // the bounds are inclusive
        { 0, 20, 20, true },
        { 10, 5, 20, false }, // granted before the enqueue it answers
        { 0, 30, 20, false }, // granted after its attempt started
        { 0, null, 20, false }, // no grant time recorded
    };

    [Theory]
    [MemberData(nameof(Grants))]
    public void Every_attempt_is_granted_between_its_enqueue_and_its_start(int queued, int? granted, int started, bool holds)
    {
        var status = Status(Guid.NewGuid(), queued, Attempt(1, started, granted));
        Assert.Equal(holds, ChaosInvariants.GrantedBetweenEnqueueAndStart([status]).Count == 0);
    }

    [Fact]
    public void A_later_attempt_is_measured_from_the_last_enqueue_before_it()
    {
        var once = Status(Guid.NewGuid(), 0, Attempt(1, 20, 10), Attempt(2, 300, 250));
        var requeued = once with { History = [.. once.History, new StateChange(BacktestState.Queued, At(200), "its slot was reclaimed")] };
        Assert.Empty(ChaosInvariants.GrantedBetweenEnqueueAndStart([requeued]));
        // The second attempt with its first grant's time: before the enqueue that led to it.
        var stale = requeued with { Attempts = [Attempt(1, 20, 10), Attempt(2, 300, 10)] };
        Assert.Single(ChaosInvariants.GrantedBetweenEnqueueAndStart([stale]));
    }
}
