using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;
using Backtesting.Grains;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Streams;

namespace Backtesting.Benchmarks;

/// <summary>
/// The cluster benchmark: one real silo in this process (AdoNet membership, grain state, reminders and
/// pub-sub on a fresh PostgreSQL database), measured through the silo's own <see cref="IClusterClient"/>.
/// </summary>
internal static class ClusterBench
{
    private const double OverheadGoalMs = 50;
    private const double ThroughputGoal = 50;
    private const double EventLatencyGoalMs = 50;
    internal const int Limit = 4;

    // A tiny backtest: about 20 daily bars.
    private const string Tiny = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":5,"slowPeriod":20},
         "startDate":"2019-01-02","endDate":"2019-01-31","instruments":["SPY"],"initialBalance":100000,
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    // A longer one for the event stream: five years of daily bars, one event per trade and per day's equity.
    internal const string Longer = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2015-01-02","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000,
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    private sealed record Options(int InProcessRuns, int ProcessRuns, int Warmups, int QueueSize, int EventRuns, string[] Runners, bool Profile = false);

    internal sealed record Stats(int Count, double Min, double P50, double P99, double Max)
    {
        public static Stats Of(IReadOnlyCollection<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? new Stats(0, double.NaN, double.NaN, double.NaN, double.NaN)
                : new Stats(sorted.Length, sorted[0], Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
        }

        // Nearest rank.
        private static double Percentile(double[] sorted, double p) =>
            sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(30, 10, 3, 200, 10, ["inProcess", "process"]);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--runs" when value is not null:
                    options = options with { InProcessRuns = Positive(value) };
                    break;
                case "--process-runs" when value is not null:
                    options = options with { ProcessRuns = Positive(value) };
                    break;
                case "--queue" when value is not null:
                    options = options with { QueueSize = Positive(value) };
                    break;
                case "--event-runs" when value is not null:
                    options = options with { EventRuns = Positive(value) };
                    break;
                case "--profile":
                    options = options with { Profile = true };
                    i--; // a flag: no value follows
                    break;
                case "--runners" when value is not null:
                    options = options with { Runners = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
                    break;
                default:
                    Console.Error.WriteLine($"unknown or incomplete option '{args[i]}'");
                    return 2;
            }

            i++;
        }

        var root = RepositoryRoot.Find();
        var data = Path.Combine(root, "data", "lean");
        PrintMachine();

        var tinyEngineMs = DirectEngineMs(Tiny, data, options.Warmups, 10);
        Console.WriteLine($"engine time of the tiny backtest, run directly (warm, median of 10): {tinyEngineMs:F2} ms");
        Console.WriteLine();

        var server = await PostgresServer();
        var database = "bench_" + Guid.NewGuid().ToString("N");
        await Execute(server, $"CREATE DATABASE \"{database}\"");
        // The silo opens two pools on this string (Orleans' AdoNet providers and the results store's data source),
        // each 100 connections by default: 200 submits at once would take more than the server allows.
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database, Pooling = true }.ConnectionString;
        var work = Path.Combine(Path.GetTempPath(), "backtesting-cluster-bench-" + Guid.NewGuid().ToString("N"));
        var overheads = new List<(string Runner, Stats Stats)>();
        var latencies = new List<(string Runner, Stats Stats)>();
        var coldLatencies = new List<(string Runner, Stats Stats)>();
        (double PerSecond, int MaxRunning, int Completed)? queue = null;
        try
        {
            await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
            foreach (var runner in options.Runners)
            {
                Console.WriteLine($"silo with the {runner} runner: starting ...");
                using var host = await StartSilo(connectionString, runner, data, Path.Combine(work, runner));
                var client = host.Services.GetRequiredService<IClusterClient>();

                var runs = runner == "process" ? options.ProcessRuns : options.InProcessRuns;
                Console.WriteLine($"  (1) submit to complete: {options.Warmups} warm-ups, {runs} runs ...");
                overheads.Add((runner, await SubmitToComplete(client, options.Warmups, runs, tinyEngineMs)));

                if (runner == "inProcess")
                {
                    Console.WriteLine($"  (2) queue: {options.QueueSize} tiny backtests at once, limit {Limit} ...");
                    using (var profile = options.Profile ? new DatabaseProfile() : null)
                    {
                        queue = await QueueThroughput(client, options.QueueSize);
                        profile?.Print(options.QueueSize);
                    }
                }

                Console.WriteLine($"  (3) event latency: 1 warm-up and {options.EventRuns} runs of MA cross 10/30, daily SPY 2015-2019 ...");
                var (cold, warm) = await EventLatency(client, options.EventRuns, options.Profile);
                latencies.Add((runner, warm));
                coldLatencies.Add((runner, cold));
                await host.StopAsync();
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await Execute(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"  {"figure",-52} {"n",5} {"min",10} {"p50",10} {"p99",10} {"max",10}");
        foreach (var (runner, stats) in overheads)
        {
            Row($"(1) submit-to-complete overhead, {runner} runner", stats, "ms");
        }

        foreach (var (runner, stats) in latencies)
        {
            Row($"(3) worker line -> stream observer, {runner} runner", stats, "ms");
        }

        foreach (var (runner, stats) in coldLatencies)
        {
            // Not in the goal: once per process, as the JIT compiles the stream and result paths.
            Row($"(3) the same, warm-up run (cold process), {runner}", stats, "ms");
        }

        if (queue is { } q)
        {
            Console.WriteLine($"  {"(2) queue throughput, inProcess runner",-52} {options.QueueSize,5} {q.PerSecond,10:F1} backtests/s, " +
                $"{q.Completed} completed, at most {q.MaxRunning} running");
        }

        Console.WriteLine();
        Console.WriteLine("Goals");
        var allMet = true;
        foreach (var (runner, stats) in overheads.Where(o => o.Runner == "inProcess"))
        {
            allMet &= Goal($"overhead < {OverheadGoalMs:F0} ms, {runner} runner", $"p50 {stats.P50:F1} ms, p99 {stats.P99:F1} ms", stats.P50 < OverheadGoalMs);
        }

        if (queue is { } scheduled)
        {
            allMet &= Goal($">= {ThroughputGoal:F0} backtests/s scheduled", $"{scheduled.PerSecond:F1}/s", scheduled.PerSecond >= ThroughputGoal);
            allMet &= Goal($"never more than {Limit} running", $"at most {scheduled.MaxRunning} seen", scheduled.MaxRunning <= Limit);
            allMet &= Goal("every queued backtest completed", $"{scheduled.Completed} of {options.QueueSize}", scheduled.Completed == options.QueueSize);
        }

        foreach (var (runner, stats) in latencies)
        {
            allMet &= Goal($"event latency p99 < {EventLatencyGoalMs:F0} ms, {runner}", $"p99 {stats.P99:F1} ms, max {stats.Max:F1} ms", stats.P99 < EventLatencyGoalMs);
        }

        return allMet ? 0 : 1;
    }

    internal static async Task<IHost> StartSilo(string connectionString, string runner, string data, string work, int limit = Limit,
        Action<BacktestClusterOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Error);
        var siloPort = FreePort();
        var gatewayPort = FreePort();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
                o.ServiceId = "backtesting-bench";
            });
            silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false);
            silo.AddBacktestingCluster(connectionString, o =>
            {
                o.Runner = runner;
                o.DataDirectory = data;
                o.WorkDirectory = work;
                o.MaxConcurrent = limit;
                o.MaxConcurrentPerOwner = limit;
                configure?.Invoke(o);
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>(1) Wall time from Submit until GetStatus shows Completed, less the engine time of the same run.</summary>
    private static async Task<Stats> SubmitToComplete(IClusterClient client, int warmups, int runs, double engineMs)
    {
        var submission = Submission(Tiny);
        var overheads = new List<double>();
        for (var i = 0; i < warmups + runs; i++)
        {
            var grain = client.GetGrain<IBacktestGrain>(Guid.NewGuid());
            var clock = Stopwatch.StartNew();
            await grain.Submit(submission);
            BacktestStatus status;
            while (!(status = await grain.GetStatus()).IsTerminal)
            {
                await Task.Delay(2);
            }

            var wallMs = clock.Elapsed.TotalMilliseconds;
            if (status.State != BacktestState.Completed)
            {
                throw new InvalidOperationException($"tiny backtest ended {status.State}: {status.Error?.ErrorMessage}");
            }

            if (i >= warmups)
            {
                overheads.Add(wallMs - engineMs);
            }
        }

        return Stats.Of(overheads);
    }

    /// <summary>(2) Many tiny backtests at once: completions per second and the most running at one time.</summary>
    private static async Task<(double PerSecond, int MaxRunning, int Completed)> QueueThroughput(IClusterClient client, int count)
    {
        var submission = Submission(Tiny) with { Owner = "bench-queue" };
        var queue = client.GetGrain<IBacktestQueueGrain>(0);
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();
        using var stop = new CancellationTokenSource();
        var maxRunning = 0;
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                maxRunning = Math.Max(maxRunning, (await queue.GetSnapshot()).Running.Count);
                await Task.Delay(5, CancellationToken.None);
            }
        }, CancellationToken.None);

        var start = DateTime.UtcNow;
        await Task.WhenAll(ids.Select(id => client.GetGrain<IBacktestGrain>(id).Submit(submission)));
        BacktestStatus[] statuses;
        do
        {
            await Task.Delay(50);
            statuses = await Task.WhenAll(ids.Select(id => client.GetGrain<IBacktestGrain>(id).GetStatus()));
        }
        while (!statuses.All(s => s.IsTerminal));

        await stop.CancelAsync();
        await sampler;
        // The grain stamps CompletedAt when it persists the terminal state: the last one ends the measured span.
        var last = statuses.Max(s => s.CompletedAt ?? s.UpdatedAt);
        var completed = statuses.Count(s => s.State == BacktestState.Completed);
        return (count / (last - start).TotalSeconds, maxRunning, completed);
    }

    /// <summary>(3) For every event: the observer's receipt time less the timestamp its line was written with.</summary>
    private static async Task<(Stats Cold, Stats Warm)> EventLatency(IClusterClient client, int runs, bool profile = false)
    {
        var coldLatencies = new ConcurrentQueue<double>();
        var warmLatencies = new ConcurrentQueue<double>();
        var submission = Submission(Longer);
        for (var run = 0; run <= runs; run++)
        {
            // Run 0 warms the process up: its first subscription and first run of this size compile the paths.
            var latencies = run == 0 ? coldLatencies : warmLatencies;
            var timeline = new ConcurrentQueue<(DateTime Written, DateTime Received, string Type)>();
            var id = Guid.NewGuid();
            var stream = client.GetStreamProvider(StreamNames.Provider).GetStream<BacktestEvent>(StreamId.Create(StreamNames.Namespace, id));
            var handle = await stream.SubscribeAsync((e, _) =>
            {
                var received = DateTime.UtcNow;
                using var json = JsonDocument.Parse(e.Json);
                if (json.RootElement.TryGetProperty("timestamp", out var timestamp))
                {
                    latencies.Enqueue((received - timestamp.GetDateTimeOffset().UtcDateTime).TotalMilliseconds);
                    timeline.Enqueue((timestamp.GetDateTimeOffset().UtcDateTime, received,
                        json.RootElement.TryGetProperty("type", out var type) ? type.GetString() ?? "?" : "?"));
                }

                return Task.CompletedTask;
            });
            var grain = client.GetGrain<IBacktestGrain>(id);
            await grain.Submit(submission);
            BacktestStatus status;
            while (!(status = await grain.GetStatus()).IsTerminal)
            {
                await Task.Delay(20);
            }

            if (status.State != BacktestState.Completed)
            {
                throw new InvalidOperationException($"event run ended {status.State}: {status.Error?.ErrorMessage}");
            }

            await Task.Delay(200); // the last events land
            await handle.UnsubscribeAsync();
            if (profile && !timeline.IsEmpty)
            {
                // Where the latency comes from: lines written in a burst and drained slower, or a slow start.
                var events = timeline.OrderBy(e => e.Written).ToArray();
                double Ms(TimeSpan span) => span.TotalMilliseconds;
                var tenth = Math.Max(1, events.Length / 10);
                Console.WriteLine($"    {(run == 0 ? "warm-up" : $"run {run}")}: {events.Length} events written over {Ms(events[^1].Written - events[0].Written):F1} ms, " +
                    $"received over {Ms(events.Max(e => e.Received) - events.Min(e => e.Received)):F1} ms; latency of each tenth (mean ms): " +
                    string.Join(' ', events.Chunk(tenth).Select(c => c.Average(e => Ms(e.Received - e.Written)).ToString("F0", CultureInfo.InvariantCulture))));
                Console.WriteLine("      slowest by type (ms): " + string.Join(", ", events.GroupBy(e => e.Type)
                    .Select(g => $"{g.Key} x{g.Count()} max {g.Max(e => Ms(e.Received - e.Written)).ToString("F1", CultureInfo.InvariantCulture)}")));
            }
        }

        return (Stats.Of(coldLatencies), Stats.Of(warmLatencies));
    }

    internal static BacktestSubmission Submission(string json) =>
        new(ConfigValidator.Parse(json).Config!, "bench", BacktestPriority.Normal, UseCache: false);

    /// <summary>The median engine time of the backtest run directly (BacktestRun.Execute), after warm-ups.</summary>
    private static double DirectEngineMs(string json, string data, int warmups, int runs)
    {
        var provider = new LeanDataProvider(data);
        var validation = ConfigValidator.Validate(ConfigValidator.Parse(json).Config!, provider, StrategyCatalog.Templates,
            ValidationPolicy.Service, DateOnly.FromDateTime(DateTime.UtcNow));
        var spec = validation.Spec ?? throw new InvalidOperationException("the benchmark's config does not validate");
        var times = new List<double>();
        for (var i = 0; i < warmups + runs; i++)
        {
            var clock = Stopwatch.StartNew();
            new BacktestRun(spec, provider, StrategyCatalog.Templates).Execute();
            if (i >= warmups)
            {
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        return Stats.Of(times).P50;
    }

    /// <summary>BACKTESTING_DB, or the project-local server that scripts/postgres.sh starts.</summary>
    internal static async Task<string> PostgresServer()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("BACKTESTING_DB");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        var info = new ProcessStartInfo("bash", ["-c", "source scripts/postgres.sh && start_postgres >&2 && echo \"$BACKTESTING_DB\""])
        {
            WorkingDirectory = RepositoryRoot.Find(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || string.IsNullOrWhiteSpace(await output))
        {
            throw new InvalidOperationException($"could not start PostgreSQL: {await errors}");
        }

        return (await output).Trim();
    }

    internal static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int Positive(string value) => Math.Max(1, int.Parse(value, CultureInfo.InvariantCulture));

    private static void PrintMachine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        Console.WriteLine("Backtesting cluster benchmark");
        Console.WriteLine($"  date      {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"  machine   {Environment.ProcessorCount} logical cores{(cpu is null ? "" : $", {cpu}")}, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}");
        var optimized = typeof(BacktestEngine).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        Console.WriteLine($"  runtime   {RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, " +
            $"built {(optimized ? "optimized (Release)" : "WITHOUT optimizations (Debug): figures are meaningless, use -c Release")}");
        Console.WriteLine("  cluster   one silo in this process, AdoNet membership/state/reminders/pub-sub on a fresh PostgreSQL database,");
        Console.WriteLine("            measured through the silo's own IClusterClient; PostgreSQL runs on the same machine.");
        Console.WriteLine("  note      figures on a shared machine are noisy.");
        Console.WriteLine();
    }

    private static void Row(string name, Stats stats, string unit) =>
        Console.WriteLine($"  {name,-52} {stats.Count,5} {stats.Min,7:F1} {unit} {stats.P50,7:F1} {unit} {stats.P99,7:F1} {unit} {stats.Max,7:F1} {unit}");

    private static bool Goal(string goal, string measured, bool met)
    {
        Console.WriteLine($"  {goal,-44} {measured,-34} {(met ? "met" : "NOT met")}");
        return met;
    }
}
