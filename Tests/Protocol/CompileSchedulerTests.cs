using Backtesting.Grains;

namespace Backtesting.Tests.Protocol;

/// <summary>The silo's compile slots: shared fairly between users, one user's flood bounded and refused past its queue.</summary>
public sealed class CompileSchedulerTests
{
    [Fact]
    public async Task Another_users_compile_starts_at_once_while_one_user_floods_the_queue()
    {
        var scheduler = new CompileScheduler(concurrency: 2, perOwner: 1, queuedPerOwner: 2);
        using var first = await scheduler.TryEnter("alice")!;
        var queued = new[] { scheduler.TryEnter("alice")!, scheduler.TryEnter("alice")! };

        var bob = scheduler.TryEnter("bob");

        Assert.NotNull(bob);
        Assert.True(bob.IsCompletedSuccessfully);
        Assert.All(queued, q => Assert.False(q.IsCompleted));
        Assert.Equal(2, scheduler.Running);
    }

    [Fact]
    public void A_user_past_their_running_and_waiting_limits_is_refused_and_others_are_not()
    {
        var scheduler = new CompileScheduler(concurrency: 2, perOwner: 1, queuedPerOwner: 2);
        Assert.NotNull(scheduler.TryEnter("alice"));
        Assert.NotNull(scheduler.TryEnter("alice"));
        Assert.NotNull(scheduler.TryEnter("alice"));

        Assert.Null(scheduler.TryEnter("alice"));
        Assert.NotNull(scheduler.TryEnter("bob"));
    }

    [Fact]
    public async Task With_every_slot_busy_the_next_free_slot_goes_to_the_user_waiting_longest_not_the_flooding_one()
    {
        var scheduler = new CompileScheduler(concurrency: 1, perOwner: 1, queuedPerOwner: 3);
        var running = await scheduler.TryEnter("alice")!;
        var aliceNext = scheduler.TryEnter("alice")!;
        var aliceThird = scheduler.TryEnter("alice")!;
        var bob = scheduler.TryEnter("bob")!;
        var carol = scheduler.TryEnter("carol")!;

        running.Dispose();
        Assert.True(aliceNext.IsCompletedSuccessfully); // alice waited first
        Assert.False(bob.IsCompleted);

        (await aliceNext).Dispose();
        Assert.True(bob.IsCompletedSuccessfully); // then bob, not alice's third: one turn per user
        Assert.False(aliceThird.IsCompleted);

        (await bob).Dispose();
        Assert.True(carol.IsCompletedSuccessfully);
        Assert.False(aliceThird.IsCompleted);

        (await carol).Dispose();
        Assert.True(aliceThird.IsCompletedSuccessfully);
        (await aliceThird).Dispose();
        Assert.Equal(0, scheduler.Running);
    }

    [Fact]
    public async Task A_freed_slot_is_not_given_to_a_user_at_their_own_limit()
    {
        var scheduler = new CompileScheduler(concurrency: 2, perOwner: 1, queuedPerOwner: 2);
        var alice = await scheduler.TryEnter("alice")!;
        var bob = await scheduler.TryEnter("bob")!;
        var aliceWaiting = scheduler.TryEnter("alice")!;

        bob.Dispose();

        Assert.False(aliceWaiting.IsCompleted); // alice still runs one: her limit, whatever is free
        alice.Dispose();
        Assert.True(aliceWaiting.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Disposing_a_slot_twice_frees_it_once()
    {
        var scheduler = new CompileScheduler(concurrency: 1, perOwner: 1, queuedPerOwner: 1);
        var slot = await scheduler.TryEnter("alice")!;

        slot.Dispose();
        slot.Dispose();

        Assert.Equal(0, scheduler.Running);
    }
}
