using System.Threading.Channels;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Cluster;

/// <summary>A worker death that a retry would repeat ends the backtest at once; other deaths are retried.</summary>
[Collection("cluster")]
public sealed class FatalCrashTests
{
    // What the .NET runtime writes before it aborts on a stack overflow (the frames as the worker printed them).
    private const string StackOverflowOutput = """
        Stack overflow.
        Repeated 261624 times:
        --------------------------------
           at Probe.Recurse(Int32)
        --------------------------------
           at Probe.OnBar(Backtesting.Engine.Data.MarketData ByRef)
           at Backtesting.Engine.Core.BacktestEngine.Deliver(Backtesting.Engine.Data.MarketData ByRef)
        """;

    [Fact]
    public async Task A_stack_overflow_fails_the_backtest_on_its_first_attempt_naming_the_method()
    {
        var (status, stored, starts) = await RunWithWorkerDying(StackOverflowOutput);

        Assert.Equal(BacktestState.Failed, status.State);
        Assert.Equal(1, starts);
        Assert.Single(status.Attempts);
        Assert.Equal(134, status.Attempts[0].ExitCode);
        Assert.Equal("execution", status.Error?.ErrorType);
        Assert.Contains("overflowed its stack in Probe.Recurse(Int32)", status.Error?.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("failed", stored);
    }

    [Fact]
    public async Task Any_other_death_is_retried_until_the_attempts_run_out()
    {
        var (status, _, starts) = await RunWithWorkerDying("Segmentation fault");

        Assert.Equal(BacktestState.Failed, status.State);
        Assert.Equal(3, starts);
        Assert.Contains("on 3 attempts", status.Error?.ErrorMessage, StringComparison.Ordinal);
    }

    /// <summary>A backtest on a one-silo cluster (3 attempts allowed) whose every worker dies with this stderr.</summary>
    private static async Task<(BacktestStatus Status, string? StoredStatus, int Starts)> RunWithWorkerDying(string stderr)
    {
        var runner = new DyingRunner(stderr);
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o => o.MaxAttempts = 3,
            services: s => s.AddSingleton<IBacktestRunner>(runner));
        var id = Guid.NewGuid();

        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));
        var status = await host.WaitFor(id, s => s.IsTerminal);
        await host.WaitForFreeSlots(); // a failed backtest gives its slot back
        return (status, (await host.Store.GetAsync(id))?.Status, runner.Starts);
    }

    [Fact]
    public void Only_a_stack_overflow_in_a_dead_worker_is_fatal()
    {
        Assert.Null(WorkerCrash.Fatal(0, StackOverflowOutput));
        Assert.Null(WorkerCrash.Fatal(137, "Killed"));
        Assert.Null(WorkerCrash.Fatal(1, "total return 12.3%"));
        Assert.StartsWith("the run overflowed its stack (unbounded recursion?)", WorkerCrash.Fatal(134, "Stack overflow.\n"));
        var fatal = RunExit.Of(134, "some output first\n" + StackOverflowOutput);
        Assert.Contains("in Probe.Recurse(Int32)", fatal.Fatal, StringComparison.Ordinal);
        Assert.Equal(fatal.Fatal, fatal.Detail);
        Assert.Null(RunExit.Of(139, "Segmentation fault").Fatal);
    }

    /// <summary>A worker that starts, reports once and dies with the given stderr and exit code 134.</summary>
    private sealed class DyingRunner(string stderr) : IBacktestRunner
    {
        private int _starts;

        public int Starts => _starts;

        public string Kind => "dying";

        public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
        {
            Interlocked.Increment(ref _starts);
            return Task.FromResult<IRunHandle>(new Handle(request, RunExit.Of(134, stderr)));
        }

        private sealed class Handle : IRunHandle
        {
            private const string ProgressData = """
                {"progress":{"percentage":1,"currentDate":"2019-01-03T21:00:00Z","processedBars":2,"totalBars":252,
                "estimatedTimeRemaining":0,"processingRate":1},"statistics":{"tradesExecuted":0,"currentBalance":100000,
                "unrealizedPnl":0,"drawdown":0},"performance":{"memoryUsage":1,"cpuUsage":1,"diskIO":0}}
                """;

            private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

            public Handle(RunRequest request, RunExit exit)
            {
                Directory.CreateDirectory(request.OutputDirectory);
                _lines.Writer.TryWrite("{\"type\":\"backtest_progress\",\"backtestId\":\"" + request.BacktestId + "\",\"timestamp\":\"" +
                    DateTime.UtcNow.ToString("O") + "\",\"data\":" + ProgressData + "}");
                _lines.Writer.TryComplete();
                Exit = Task.FromResult(exit);
            }

            public ChannelReader<string> Lines => _lines.Reader;
            public Task<RunExit> Exit { get; }
            public int? ProcessId => null;
            public Task PauseAsync() => Task.CompletedTask;
            public Task ResumeAsync() => Task.CompletedTask;
            public Task StopAsync(TimeSpan grace) => Task.CompletedTask;
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
