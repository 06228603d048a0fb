using Backtesting.Engine.Data;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// A grant lost on its way (a one-way call to a backtest whose silo dies at that moment; here dropped by a call filter) must
/// not let later submissions start first: the chaos run once saw the second of an owner's backtests start 149 s before
/// the first, whose grant was lost, whose slot the queue kept until its lease ran out, and which then went to the back
/// of the line. One slot, one owner, three backtests of one priority.
/// </summary>
[Collection("cluster")]
public sealed class LostGrantTests
{
    [Fact]
    public async Task A_backtest_whose_grant_was_lost_keeps_its_slot_is_told_again_and_starts_before_later_submissions()
    {
        Guid first = Guid.NewGuid(), second = Guid.NewGuid(), third = Guid.NewGuid();
        var dropper = new GrantDropper(first, times: 1);
        // The default lease (two minutes): only telling the holder again gets it going within the test's minute.
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.MaxConcurrent = 1;
            o.MaxConcurrentPerOwner = 1;
        }, services: s => s.AddSingleton<IIncomingGrainCallFilter>(dropper));

        Assert.Equal(BacktestState.Queued, (await host.Backtest(first).Submit(ClusterTests.Submission(ClusterTests.Daily))).State);
        await dropper.FirstDropped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await host.Backtest(second).Submit(ClusterTests.Submission(ClusterTests.Daily));
        await host.Backtest(third).Submit(ClusterTests.Submission(ClusterTests.Daily));

        var ended = new List<BacktestStatus>();
        foreach (var id in new[] { first, second, third })
        {
            ended.Add(await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromSeconds(60)));
        }

        Assert.All(ended, s => Assert.Equal(BacktestState.Completed, s.State));
        Assert.Equal([first, second, third], ended.OrderBy(s => s.Attempts[0].StartedAt).Select(s => s.Id));
        Assert.All(ended, s => Assert.Single(s.Attempts));
        // The first started in the slot of its first grant, announced again: the grant's time is that first grant's.
        ClusterTests.AssertGrantedBetweenEnqueueAndStart(ended);
        Assert.Equal([first, second, third], ended.OrderBy(s => s.Attempts[0].GrantedAt).Select(s => s.Id));
        await host.WaitForFreeSlots();
        Assert.Empty((await host.Queue.GetSnapshot()).Queued);
    }

    [Fact]
    public async Task A_backtest_whose_slot_was_reclaimed_before_its_grant_arrived_comes_back_ahead_of_later_submissions()
    {
        Guid first = Guid.NewGuid(), second = Guid.NewGuid(), third = Guid.NewGuid();
        // Every grant to the first is lost until its lease has run out and the slot has gone to the second.
        var dropper = new GrantDropper(first, times: int.MaxValue);
        var runner = new GatedRunner(second);
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.MaxConcurrent = 1;
            o.MaxConcurrentPerOwner = 1;
            o.LeaseDuration = TimeSpan.FromSeconds(10);
        }, services: s =>
        {
            s.AddSingleton<IIncomingGrainCallFilter>(dropper);
            s.AddSingleton<IBacktestRunner>(sp => runner.With(new InProcessRunner(sp.GetRequiredService<IMarketDataProvider>())));
        });

        await host.Backtest(first).Submit(ClusterTests.Submission(ClusterTests.Daily));
        await dropper.FirstDropped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await host.Backtest(second).Submit(ClusterTests.Submission(ClusterTests.Daily));
        await host.Backtest(third).Submit(ClusterTests.Submission(ClusterTests.Daily));

        // The first's lease runs out: the second gets the slot (and is held at its start by the runner).
        await runner.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(60));
        dropper.Stop();
        // The first asks again (its recovery reminder) and stands where it was: before the third.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        QueueSnapshot snapshot;
        while (!(snapshot = await host.Queue.GetSnapshot()).Queued.Any(q => q.BacktestId == first))
        {
            Assert.True(DateTime.UtcNow < deadline, "the first backtest never asked for a slot again");
            await Task.Delay(100);
        }

        Assert.Equal([first, third], snapshot.Queued.Select(q => q.BacktestId));
        Assert.Equal([second], snapshot.Running.Select(r => r.BacktestId));
        runner.Open();

        var ended = new List<BacktestStatus>();
        foreach (var id in new[] { first, second, third })
        {
            ended.Add(await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromSeconds(60)));
        }

        Assert.All(ended, s => Assert.Equal(BacktestState.Completed, s.State));
        Assert.Equal([second, first, third], ended.OrderBy(s => s.Attempts[0].StartedAt).Select(s => s.Id));
        ClusterTests.AssertGrantedBetweenEnqueueAndStart(ended);
        Assert.Equal([second, first, third], ended.OrderBy(s => s.Attempts[0].GrantedAt).Select(s => s.Id));
        await host.WaitForFreeSlots();
    }

    /// <summary>Drops the slot grants to one backtest (<paramref name="times"/> of them, or until stopped), as a dying silo loses them.</summary>
    private sealed class GrantDropper(Guid target, int times) : IIncomingGrainCallFilter
    {
        private int _left = times;

        public TaskCompletionSource FirstDropped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Stop() => Volatile.Write(ref _left, 0);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.MethodName == nameof(IBacktestGrain.OnSlotGranted) && context.TargetId.GetGuidKey() == target
                && Interlocked.Decrement(ref _left) >= 0)
            {
                FirstDropped.TrySetResult();
                return Task.CompletedTask;
            }

            return context.Invoke();
        }
    }

    /// <summary>Holds the start of one backtest until opened; starts every other with the inner runner at once.</summary>
    private sealed class GatedRunner(Guid gated) : IBacktestRunner
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private IBacktestRunner? _inner;

        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Kind => "inProcess";

        public GatedRunner With(IBacktestRunner inner)
        {
            _inner = inner;
            return this;
        }

        public void Open() => _gate.TrySetResult();

        public async Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
        {
            if (request.BacktestId == gated)
            {
                Waiting.TrySetResult();
                await _gate.Task;
            }

            return await _inner!.StartAsync(request, cancellation);
        }
    }
}
