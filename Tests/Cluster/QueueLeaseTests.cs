using Backtesting.Engine.Data;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Cluster;

/// <summary>A slot whose holder stops renewing its lease goes back to the queue: slots never leak.</summary>
[Collection("cluster")]
public sealed class QueueLeaseTests
{
    [Fact]
    public async Task A_slot_whose_holder_stops_renewing_is_reclaimed_for_the_next_backtest()
    {
        var stuck = Guid.NewGuid();
        var next = Guid.NewGuid();
        var runner = new StuckStartRunner(stuck);
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.MaxConcurrent = 1;
            o.LeaseDuration = TimeSpan.FromSeconds(2);
        }, services: s => s.AddSingleton<IBacktestRunner>(sp => runner.With(new InProcessRunner(sp.GetRequiredService<IMarketDataProvider>()))));

        // The first backtest takes the only slot, and its start never returns: it never renews the lease. (Its
        // Submit waits on that start, so it is not awaited here.)
        _ = host.Backtest(stuck).Submit(ClusterTests.Submission(ClusterTests.Daily));
        await runner.Holding.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([stuck], (await host.Queue.GetSnapshot()).Running.Select(r => r.BacktestId));
        Assert.Equal(BacktestState.Queued, (await host.Backtest(next).Submit(ClusterTests.Submission(ClusterTests.Daily))).State);

        // Once the lease runs out, the queue takes the slot back and the next backtest runs to the end.
        var done = await host.WaitFor(next, s => s.IsTerminal, TimeSpan.FromSeconds(60));
        Assert.Equal(BacktestState.Completed, done.State);
        Assert.DoesNotContain(stuck, (await host.Queue.GetSnapshot()).Running.Select(r => r.BacktestId));
        runner.Release();
    }

    /// <summary>Never finishes starting the one backtest; starts every other with the inner runner.</summary>
    private sealed class StuckStartRunner(Guid stuck) : IBacktestRunner
    {
        private readonly TaskCompletionSource<IRunHandle> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private IBacktestRunner? _inner;

        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Kind => "inProcess";

        public StuckStartRunner With(IBacktestRunner inner)
        {
            _inner = inner;
            return this;
        }

        public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
        {
            if (request.BacktestId != stuck)
            {
                return _inner!.StartAsync(request, cancellation);
            }

            Holding.TrySetResult();
            return _never.Task;
        }

        public void Release() => _never.TrySetCanceled();
    }
}
