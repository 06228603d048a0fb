using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Cluster;

/// <summary>One user's endless compiles hold at most their own share of a silo's compile slots.</summary>
[Collection("cluster")]
public sealed class CompileFairnessTests
{
    [Fact]
    public async Task Another_users_compile_runs_while_one_user_has_slow_compiles_running_and_queued_and_a_further_one_gets_busy()
    {
        var runner = new GatedCompileRunner();
        var scheduler = new Grains.CompileScheduler(concurrency: 2, perOwner: 1, queuedPerOwner: 2);
        await using var host = await TestClusterHost.StartAsync(silos: 1, services: s =>
        {
            s.AddSingleton<IBacktestRunner>(runner);
            s.AddSingleton(scheduler);
        });
        var compile = host.Client.GetGrain<IStrategyCompileGrain>(0);

        // Alice: one compile that never ends on its own, two waiting behind it.
        var alice = new List<Task<StrategyUploadResult>>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                alice.Add(compile.Upload("alice", $"// alice {i}\nclass Endless {{ }}"));
                await Until(() => scheduler.Running + scheduler.Waiting == i + 1);
            }

            var refused = await compile.Upload("alice", "// alice 3\nclass Endless { }").WaitAsync(TimeSpan.FromSeconds(60));
            var bob = await compile.Upload("bob", "// bob\nclass Quick { }").WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(StrategyUploadOutcome.Busy, refused.Outcome);
            Assert.Equal(75, refused.RetryAfterSeconds); // the default compile timeout (60 s) plus the kill slack (15 s)
            Assert.NotEqual(StrategyUploadOutcome.Busy, bob.Outcome);
            Assert.Contains(runner.Started, s => s.Contains("bob", StringComparison.Ordinal));
            Assert.Single(runner.Started, s => s.Contains("alice", StringComparison.Ordinal));
            Assert.All(alice, a => Assert.False(a.IsCompleted));
        }
        finally
        {
            runner.Open();
        }

        Assert.All(await Task.WhenAll(alice).WaitAsync(TimeSpan.FromSeconds(60)), a => Assert.NotEqual(StrategyUploadOutcome.Busy, a.Outcome));
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the compile did not reach the scheduler");
            await Task.Delay(20);
        }
    }

    /// <summary>Compiles that return nothing (the grain answers Unavailable); alice's wait until the gate opens.</summary>
    private sealed class GatedCompileRunner : IBacktestRunner
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<string> _started = [];

        public string Kind => "gated";

        public IReadOnlyList<string> Started
        {
            get
            {
                lock (_started)
                {
                    return _started.ToList();
                }
            }
        }

        public void Open() => _gate.TrySetResult();


        public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation) => throw new NotSupportedException();

        public async Task<CompileOutput> CompileStrategyAsync(CompileRequest request, CancellationToken cancellation)
        {
            lock (_started)
            {
                _started.Add(request.Source);
            }

            if (request.Source.Contains("alice", StringComparison.Ordinal))
            {
                await _gate.Task;
            }

            return new CompileOutput(1, "", "no compiler here", false);
        }
    }
}
