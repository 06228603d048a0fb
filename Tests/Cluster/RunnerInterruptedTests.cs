using Backtesting.Engine.Data;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// A runner that cannot start a run for a while (its Docker daemon restarting) must not fail the backtest: the chaos run's
/// daemon restart would otherwise fail every backtest whose start or retry fell in it. Here the runner refuses the first
/// starts as interrupted, then runs it.
/// </summary>
[Collection("cluster")]
public sealed class RunnerInterruptedTests
{
    [Fact]
    public async Task A_backtest_whose_runner_is_interrupted_waits_it_out_and_completes_with_the_same_results()
    {
        const int Refusals = 3;
        var runner = new InterruptedRunner(Refusals);
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o => o.MaxAttempts = 1,
            services: s => s.AddSingleton<IBacktestRunner>(sp => runner.With(new InProcessRunner(sp.GetRequiredService<IMarketDataProvider>()))));
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));

        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromSeconds(90));
        Assert.Equal(BacktestState.Completed, done.State);
        // Each refusal left an attempt that never ran and counts for nothing (one attempt allowed, and it completed).
        Assert.Equal(Refusals + 1, done.Attempts.Count);
        Assert.All(done.Attempts.Take(Refusals), a => Assert.Equal(RunEndRule.RunnerInterruptedOutcome, a.Outcome));
        Assert.Equal("completed", done.Attempts[^1].Outcome);
        Assert.Single(done.History, h => Lifecycle.IsTerminal(h.State));
        ClusterTests.AssertSameResult(ClusterTests.Direct(ClusterTests.Daily), (await host.Backtest(id).GetResults())!);
        Assert.Equal("completed", (await host.Store.GetAsync(id))!.Status);
        await host.WaitForFreeSlots();
    }

    /// <summary>Refuses the first starts as a restarting daemon would; then starts with the inner runner.</summary>
    private sealed class InterruptedRunner(int refusals) : IBacktestRunner
    {
        private int _left = refusals;
        private IBacktestRunner? _inner;

        public string Kind => "inProcess";

        public InterruptedRunner With(IBacktestRunner inner)
        {
            _inner = inner;
            return this;
        }

        public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation) =>
            Interlocked.Decrement(ref _left) >= 0
                ? Task.FromException<IRunHandle>(new RunnerInterruptedException("the daemon is restarting (test)"))
                : _inner!.StartAsync(request, cancellation);
    }
}
