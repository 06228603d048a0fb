using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// The cluster trusts nothing a worker prints: forged completions, other backtests' ids, endless lines and silence,
/// each from a runner that behaves like a hostile worker, on a one-silo cluster over real PostgreSQL.
/// </summary>
[Collection("cluster")]
public sealed class HostileWorkerTests
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long compiling an uploaded strategy may take in these tests: a cold Roslyn in a new worker process took
    /// over 30 s at a load average of 20 (the upload then timed out before the test's subject began).
    /// </summary>
    private static readonly TimeSpan CompileAllowance = TimeSpan.FromSeconds(120);

    private static string Forged(Guid id) =>
        "{\"type\":\"backtest_complete\",\"backtestId\":\"" + id + "\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":" +
        "{\"status\":\"completed\",\"executionTime\":1,\"summary\":{\"totalTrades\":777,\"finalBalance\":987654321," +
        "\"totalReturn\":9876.5,\"maxDrawdown\":0},\"resultsUrl\":\"results.json\",\"partial\":false}}";

    private static string Progress(Guid id) =>
        "{\"type\":\"backtest_progress\",\"backtestId\":\"" + id + "\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":" +
        JsonSerializer.Serialize(Backtesting.Engine.Protocol.BacktestProgressData.None, JsonDefaults.Options) + "}";

    private static Task<TestClusterHost> StartHost(ScriptedRunner runner, Action<Grains.BacktestClusterOptions>? configure = null) =>
        TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.MaxAttempts = 3;
            o.StallTimeout = Stall;
            o.SupervisionTick = TimeSpan.FromMilliseconds(200);
            configure?.Invoke(o);
        }, services: s => s.AddSingleton<IBacktestRunner>(sp => runner.With(sp.GetRequiredService<IMarketDataProvider>())));

    private static async Task<(BacktestStatus Status, TestClusterHost Host)> Run(ScriptedRunner runner, Action<Grains.BacktestClusterOptions>? configure = null)
    {
        var host = await StartHost(runner, configure);
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));
        return (await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(2)), host);
    }

    [Fact]
    public async Task A_forged_completion_before_the_real_run_never_becomes_the_summary_and_foreign_lines_are_counted()
    {
        var runner = new ScriptedRunner((request, _) => [Forged(request.BacktestId), Forged(Guid.NewGuid()), Progress(Guid.NewGuid())], realRun: true);
        var (status, host) = await Run(runner);
        await using (host)
        {
            var expected = ClusterTests.Direct(ClusterTests.Daily);

            Assert.Equal(BacktestState.Completed, status.State);
            Assert.Equal(expected.Summary.FinalBalance, status.Summary!.FinalBalance);
            Assert.Equal(expected.Summary.TotalTrades, status.Summary.TotalTrades);
            ClusterTests.AssertSameResult(expected, (await host.Backtest(status.Id).GetResults())!);
            Assert.Equal(2, status.Attempts[^1].ForeignIdLines);
        }
    }

    [Fact]
    public async Task A_forged_completion_then_a_failing_exit_keeps_no_summary_and_no_results()
    {
        var runner = new ScriptedRunner((request, _) => [Progress(request.BacktestId), Forged(request.BacktestId)], exitCode: 1);
        var (status, host) = await Run(runner);
        await using (host)
        {
            Assert.Equal(BacktestState.Failed, status.State);
            Assert.Null(status.Summary);
            Assert.Null(await host.Backtest(status.Id).GetResults());
            await host.WaitForFreeSlots();
        }
    }

    [Fact]
    public async Task A_forged_completion_with_results_of_another_run_fails_and_stores_nothing()
    {
        // Exit code 0 and a results.json, but one computed for another config: its content hash is not this run's.
        var other = JsonSerializer.Serialize(ClusterTests.Direct(ClusterTests.Daily.Replace("\"fastPeriod\":10", "\"fastPeriod\":12", StringComparison.Ordinal)),
            JsonDefaults.Options);
        var runner = new ScriptedRunner((request, directory) =>
        {
            File.WriteAllText(Path.Combine(directory, WorkerFiles.Results), other);
            return [Progress(request.BacktestId), Forged(request.BacktestId)];
        }, exitCode: 0);
        var (status, host) = await Run(runner);
        await using (host)
        {
            Assert.Equal(BacktestState.Failed, status.State);
            Assert.Contains("belongs to another run", status.Error!.ErrorMessage, StringComparison.Ordinal);
            Assert.Null(status.Summary);
            Assert.Null(await host.Backtest(status.Id).GetResults());
        }
    }

    [Fact]
    public async Task A_worker_that_fails_without_a_word_is_announced_with_an_error_then_one_failed_completion()
    {
        var runner = new ScriptedRunner((_, _) => [], exitCode: 1);
        await using var host = await StartHost(runner);
        var id = Guid.NewGuid();
        await using var events = await EventLog.Follow(host, id);
        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));
        Assert.Equal(BacktestState.Failed, (await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(2))).State);

        var received = await events.UntilComplete();
        Assert.Contains(received, e => e.Type == MessageTypes.Error);
        var complete = Assert.Single(received, e => e.Type == MessageTypes.Complete);
        Assert.Contains("\"status\":\"failed\"", complete.Json, StringComparison.Ordinal);
        Assert.True(received.FindIndex(e => e.Type == MessageTypes.Error) < received.IndexOf(complete), "the error comes before the completion");
    }

    [Fact]
    public async Task A_run_whose_supervision_fails_is_announced_with_its_error_then_one_failed_completion_and_frees_its_slot()
    {
        var runner = new ScriptedRunner((request, _) => [Progress(request.BacktestId)], exitFault: "the runner lost its run");
        await using var host = await StartHost(runner);
        var id = Guid.NewGuid();
        await using var events = await EventLog.Follow(host, id);
        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));
        var status = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(2));

        Assert.Equal(BacktestState.Failed, status.State);
        Assert.Contains("the runner lost its run", status.Error!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(1, runner.Starts);
        var received = await events.UntilComplete();
        var error = Assert.Single(received, e => e.Type == MessageTypes.Error);
        Assert.Contains("the runner lost its run", error.Json, StringComparison.Ordinal);
        var complete = Assert.Single(received, e => e.Type == MessageTypes.Complete);
        Assert.Contains("\"status\":\"failed\"", complete.Json, StringComparison.Ordinal);
        Assert.True(received.IndexOf(error) < received.IndexOf(complete), "the error comes before the completion");
        await host.WaitForFreeSlots();
    }

    [Theory]
    [InlineData("57P01")] // admin_shutdown: the server restarted under a pooled connection
    [InlineData("08006")] // connection_failure
    public async Task A_run_whose_supervision_meets_the_database_going_away_is_started_again_and_completes_with_the_same_results(string sqlState)
    {
        // The first start ends in the fault a dead pooled connection raises; the next runs for real.
        var runner = new ScriptedRunner((_, _) => [], realRun: true,
            faultOfStart: start => start == 1 ? new Npgsql.PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", sqlState) : null);
        var (status, host) = await Run(runner);
        await using (host)
        {
            Assert.True(status.State == BacktestState.Completed, $"{status.State}: {status.Error?.ErrorMessage}");
            Assert.Equal(2, runner.Starts);
            Assert.Equal("database unavailable", status.Attempts[0].Outcome);
            Assert.Null(status.Error);
            // The same results as the same configuration run alone.
            ClusterTests.AssertSameResult(ClusterTests.Direct(ClusterTests.Daily), (await host.Backtest(status.Id).GetResults())!);
            await host.WaitForFreeSlots();
        }
    }

    [Fact]
    public async Task A_supervision_fault_that_is_not_the_database_still_fails_the_run_once()
    {
        var runner = new ScriptedRunner((request, _) => [Progress(request.BacktestId)],
            faultOfStart: _ => new Npgsql.PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505"));
        var (status, host) = await Run(runner);
        await using (host)
        {
            Assert.Equal(BacktestState.Failed, status.State);
            Assert.Equal(1, runner.Starts);
            Assert.Contains("duplicate key", status.Error!.ErrorMessage, StringComparison.Ordinal);
            await host.WaitForFreeSlots();
        }
    }

    [Fact]
    public async Task A_backtest_cancelled_while_queued_is_announced_with_one_cancelled_completion()
    {
        var runner = new ScriptedRunner((request, _) => [Progress(request.BacktestId)], silentUntilStopped: true);
        // The silent holder keeps the only slot; the stall limit is lifted so it holds it until it is cancelled.
        await using var host = await StartHost(runner, o =>
        {
            o.MaxConcurrent = 1;
            o.StallTimeout = TimeSpan.FromMinutes(10);
        });
        var holder = Guid.NewGuid();
        await host.Backtest(holder).Submit(ClusterTests.Submission(ClusterTests.Daily));
        await host.WaitFor(holder, s => s.State == BacktestState.Running, TimeSpan.FromMinutes(2));
        var queued = Guid.NewGuid();
        await using var events = await EventLog.Follow(host, queued);
        Assert.Equal(BacktestState.Queued, (await host.Backtest(queued).Submit(ClusterTests.Submission(ClusterTests.Daily, owner: "other"))).State);

        await host.Backtest(queued).Cancel();

        var received = await events.UntilComplete();
        var complete = Assert.Single(received, e => e.Type == MessageTypes.Complete);
        Assert.Contains("\"status\":\"cancelled\"", complete.Json, StringComparison.Ordinal);
        Assert.Equal(BacktestState.Cancelled, (await host.Backtest(queued).GetStatus()).State);
        await host.Backtest(holder).Cancel();
    }

    [Fact]
    public async Task A_line_over_the_limit_fails_the_run_at_once_without_a_retry_and_frees_its_slot()
    {
        var runner = new ScriptedRunner((request, _) => [Progress(request.BacktestId), new string('x', 70_000)]);
        var (status, host) = await Run(runner, o => o.MaxProtocolLineBytes = 64 * 1024);
        await using (host)
        {
            Assert.Equal(BacktestState.Failed, status.State);
            Assert.Contains("longer than 65536 bytes (Backtesting:MaxProtocolLineBytes)", status.Error!.ErrorMessage, StringComparison.Ordinal);
            Assert.Equal(1, runner.Starts);
            await host.WaitForFreeSlots();
        }
    }

    [Fact]
    public async Task A_worker_that_never_prints_is_killed_at_the_stall_limit_ends_timed_out_unretried_and_frees_its_slot()
    {
        var runner = new ScriptedRunner((_, _) => [], silentUntilStopped: true);
        var clock = Stopwatch.StartNew();
        var (status, host) = await Run(runner);
        await using (host)
        {
            Assert.Equal(BacktestState.TimedOut, status.State);
            Assert.Equal("timeout", status.Error!.ErrorType);
            Assert.Contains("Backtesting:StallTimeout", status.Error.ErrorMessage, StringComparison.Ordinal);
            Assert.Equal(1, runner.Starts);
            Assert.True(runner.Stopped);
            await host.WaitForFreeSlots();
            // Far below the 30-minute run timeout: the stall limit (2 s) plus ticks and a loaded machine.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        }
    }

    [Fact]
    public async Task The_worker_gets_the_runs_stall_limit_and_what_is_left_of_its_timeout()
    {
        var runner = new ScriptedRunner((_, _) => [], realRun: true);
        var (_, host) = await Run(runner);
        await using (host)
        {
            var args = RunChannels(runner.LastRequest!);
            Assert.Equal("2", args[args.IndexOf("--stall-seconds") + 1]);
            Assert.True(int.Parse(args[args.IndexOf("--timeout-seconds") + 1], System.Globalization.CultureInfo.InvariantCulture) is > 1700 and <= 1800);
        }
    }

    [Fact]
    public async Task A_custom_strategy_looping_forever_in_OnStart_through_the_process_runner_is_killed_at_the_stall_limit()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.Runner = "process";
            o.AllowCustomStrategiesInProcessRunner = true;
            o.StallTimeout = TimeSpan.FromSeconds(3);
            o.CompileTimeout = CompileAllowance;
            o.SupervisionTick = TimeSpan.FromMilliseconds(200);
        });
        var source = Custom.StrategySources.Probe(inOnStart: "        while (After >= 0) { _spins++; }");
        var upload = await host.Client.GetGrain<IStrategyCompileGrain>(0).Upload("alice", source);
        Assert.Equal(StrategyUploadOutcome.Stored, upload.Outcome);
        var config = ClusterTests.Config(ClusterTests.Daily) with { StrategyClass = "Probe", StrategyConfig = [] };
        var id = Guid.NewGuid();
        var clock = Stopwatch.StartNew();

        await host.Backtest(id).Submit(new BacktestSubmission(config, "alice", BacktestPriority.Normal, false));
        var status = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));

        Assert.Equal(BacktestState.TimedOut, status.State);
        Assert.Equal("timeout", status.Error!.ErrorType);
        // Killed for making no progress (by the silo's stall limit or the worker's own watchdog, whichever came first).
        Assert.Contains("no progress", status.Error.ErrorMessage, StringComparison.Ordinal);
        Assert.Single(status.Attempts);
        await host.WaitForFreeSlots();
        // The stall limit (3 s) after the worker's start and compile (at most the compile allowance), plus the stop
        // grace and a minute of slack: nowhere near the 30-minute run timeout that held the slot before.
        Assert.True(clock.Elapsed < CompileAllowance + TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        var pid = status.Attempts[0].ProcessId!.Value;
        Assert.True(ProcessGone(pid), $"worker {pid} still runs");
    }

    private static bool ProcessGone(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>The events of one backtest's stream, subscribed to before it is submitted.</summary>
    private sealed class EventLog : IAsyncDisposable
    {
        private readonly List<BacktestEvent> _received = [];
        private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private StreamSubscriptionHandle<BacktestEvent>? _subscription;

        public static async Task<EventLog> Follow(TestClusterHost host, Guid id)
        {
            var log = new EventLog();
            var stream = host.Client.GetStreamProvider(StreamNames.Provider).GetStream<BacktestEvent>(StreamId.Create(StreamNames.Namespace, id));
            log._subscription = await stream.SubscribeAsync((e, _) =>
            {
                lock (log._received)
                {
                    log._received.Add(e);
                }

                if (e.Type == MessageTypes.Complete)
                {
                    log._completed.TrySetResult();
                }

                return Task.CompletedTask;
            });
            return log;
        }

        /// <summary>Everything received until the completion, and whatever else arrived with it.</summary>
        public async Task<List<BacktestEvent>> UntilComplete()
        {
            await _completed.Task.WaitAsync(TimeSpan.FromMinutes(2));
            lock (_received)
            {
                return [.. _received];
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_subscription is not null)
            {
                await _subscription.UnsubscribeAsync();
            }
        }
    }

    private static List<string> RunChannels(RunRequest request) =>
        typeof(IBacktestRunner).Assembly.GetType("Backtesting.Grains.Runners.RunChannels")!
            .GetMethod("WorkerArguments")!.Invoke(null, [request, null, null]) as List<string> ?? [];

    /// <summary>
    /// A runner whose worker prints the script's lines (given the request and its output folder), then either
    /// hands on the real in-process run's lines and exit, exits with the given code, or stays silent until stopped.
    /// </summary>
    private sealed class ScriptedRunner(Func<RunRequest, string, IReadOnlyList<string>> script, bool realRun = false, int exitCode = 1,
        bool silentUntilStopped = false, string? exitFault = null, Func<int, Exception?>? faultOfStart = null) : IBacktestRunner
    {
        private IBacktestRunner? _real;
        private int _starts;

        public int Starts => _starts;
        public bool SilentUntilStopped => silentUntilStopped;
        public int ExitCode => exitCode;
        /// <summary>When set, the run's end is not an exit but this fault: what the grain's supervision must survive.</summary>
        public string? ExitFault => exitFault;
        public bool Stopped { get; private set; }
        public RunRequest? LastRequest { get; private set; }
        public string Kind => "scripted";

        public ScriptedRunner With(IMarketDataProvider data)
        {
            _real = new InProcessRunner(data);
            return this;
        }

        public async Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
        {
            var start = Interlocked.Increment(ref _starts);
            LastRequest = request;
            Directory.CreateDirectory(request.OutputDirectory);
            var lines = script(request, request.OutputDirectory);
            // A start given a fault ends with it instead of running (the real run is not started for it).
            var fault = faultOfStart?.Invoke(start) ?? (exitFault is null ? null : new InvalidOperationException(exitFault));
            var inner = realRun && fault is null ? await _real!.StartAsync(request, cancellation) : null;
            return new Handle(this, lines, inner, fault);
        }

        private sealed class Handle : IRunHandle
        {
            private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
            private readonly TaskCompletionSource<RunExit> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private readonly ScriptedRunner _runner;
            private readonly IRunHandle? _inner;

            public Handle(ScriptedRunner runner, IReadOnlyList<string> script, IRunHandle? inner, Exception? fault)
            {
                _runner = runner;
                _inner = inner;
                foreach (var line in script)
                {
                    _lines.Writer.TryWrite(line);
                }

                Exit = Task.Run(async () =>
                {
                    RunExit exit;
                    if (inner is not null)
                    {
                        await foreach (var line in inner.Lines.ReadAllAsync())
                        {
                            await _lines.Writer.WriteAsync(line);
                        }

                        exit = await inner.Exit;
                    }
                    else if (runner.SilentUntilStopped)
                    {
                        exit = await _stopped.Task;
                    }
                    else if (fault is not null)
                    {
                        _lines.Writer.TryComplete();
                        throw fault;
                    }
                    else
                    {
                        exit = new RunExit(runner.ExitCode);
                    }

                    _lines.Writer.TryComplete();
                    return exit;
                });
            }

            public ChannelReader<string> Lines => _lines.Reader;
            public Task<RunExit> Exit { get; }
            public int? ProcessId => null;
            public Task PauseAsync() => Task.CompletedTask;
            public Task ResumeAsync() => Task.CompletedTask;

            public async Task StopAsync(TimeSpan grace)
            {
                _runner.Stopped = true;
                _stopped.TrySetResult(new RunExit(137, Detail: "killed"));
                if (_inner is not null)
                {
                    await _inner.StopAsync(grace);
                }
            }

            public async ValueTask DisposeAsync()
            {
                _stopped.TrySetResult(new RunExit(137, Detail: "killed"));
                if (_inner is not null)
                {
                    await _inner.DisposeAsync();
                }

                await Exit;
            }
        }
    }
}
