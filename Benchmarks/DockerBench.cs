using System.Diagnostics;
using System.Globalization;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Backtesting.Benchmarks;

/// <summary>
/// The Docker runner's costs on a real daemon (DOCKER_HOST, or the one scripts/docker.sh starts): container start
/// to first progress line, a batch through the cluster against the process runner, and a pause/resume cycle.
/// </summary>
internal static class DockerBench
{
    // A backtest long enough to pause in the middle: about two million ticks.
    private const string Ticks = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":50,"slowPeriod":400},
         "startDate":"2013-10-07","endDate":"2013-10-11","instruments":["SPY","IBM"],"initialBalance":100000,
         "dataConfiguration":{"resolution":"tick","dataType":"ticks","adjustment":"raw"},
         "executionSettings":{"fillModel":"nextTick"},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":10}}}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        int starts = 10, batch = 20, cycles = 20;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--starts": starts = value; break;
                case "--batch": batch = value; break;
                case "--cycles": cycles = value; break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }

        var root = RepositoryRoot.Find();
        var data = Path.Combine(root, "data", "lean");
        await EnsureDocker(root);
        Console.WriteLine($"Docker runner benchmark, {Environment.ProcessorCount} logical cores, daemon {Environment.GetEnvironmentVariable("DOCKER_HOST")}");
        var work = Path.Combine(Path.GetTempPath(), "backtesting-docker-bench-" + Guid.NewGuid().ToString("N"));
        using var runner = new DockerRunner(new DockerRunnerOptions(), "backtesting-bench", NullLogger<DockerRunner>.Instance);
        try
        {
            // (1) start to first progress line, Docker against a local process.
            var process = new ProcessRunner(WorkerCommand.Default());
            var config = System.Text.Json.JsonSerializer.Serialize(ClusterBench.Submission(ClusterBench.Longer).Config, Engine.Configuration.JsonDefaults.Options);
            var dockerFirst = new List<double>();
            var processFirst = new List<double>();
            for (var i = 0; i < starts + 1; i++)
            {
                var d = await FirstProgress(runner, config, data, Path.Combine(work, $"d{i}"));
                var p = await FirstProgress(process, config, data, Path.Combine(work, $"p{i}"));
                if (i > 0) // the first of each warms the page cache
                {
                    dockerFirst.Add(d);
                    processFirst.Add(p);
                }
            }

            Console.WriteLine($"(1) start -> first progress line, docker:  p50 {ClusterBench.Stats.Of(dockerFirst).P50:F0} ms, max {ClusterBench.Stats.Of(dockerFirst).Max:F0} ms (n={starts})");
            Console.WriteLine($"    start -> first progress line, process: p50 {ClusterBench.Stats.Of(processFirst).P50:F0} ms, max {ClusterBench.Stats.Of(processFirst).Max:F0} ms (n={starts})");

            // (3) pause/resume cycles on a running container.
            var cycleMs = await PauseResume(runner, Ticks, data, Path.Combine(work, "pause"), cycles);
            Console.WriteLine($"(3) pause + resume cycle, docker: p50 {ClusterBench.Stats.Of(cycleMs).P50:F1} ms, max {ClusterBench.Stats.Of(cycleMs).Max:F1} ms (n={cycleMs.Count})");

            // (2) a batch through the cluster at its concurrency limit, each runner.
            var server = await ClusterBench.PostgresServer();
            var wall = new Dictionary<string, double>();
            foreach (var kind in new[] { "process", "docker" })
            {
                var database = "bench_" + Guid.NewGuid().ToString("N");
                await ClusterBench.Execute(server, $"CREATE DATABASE \"{database}\"");
                var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database, Pooling = true }.ConnectionString;
                try
                {
                    await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
                    using var host = await ClusterBench.StartSilo(connectionString, kind, data, Path.Combine(work, kind));
                    var client = host.Services.GetRequiredService<IClusterClient>();
                    wall[kind] = await Batch(client, batch);
                    Console.WriteLine($"(2) {batch} backtests at concurrency {ClusterBench.Limit}, {kind} runner: {wall[kind]:F1} s");
                    await host.StopAsync();
                }
                finally
                {
                    NpgsqlConnection.ClearAllPools();
                    await ClusterBench.Execute(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                }
            }

            Console.WriteLine($"    docker / process wall time: {wall["docker"] / wall["process"]:F2}");
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        return 0;
    }

    private static async Task<double> FirstProgress(IBacktestRunner runner, string config, string data, string output)
    {
        var request = new RunRequest(Guid.NewGuid(), 1, config, output, data, false, TimeSpan.FromSeconds(5));
        var clock = Stopwatch.StartNew();
        var run = await runner.StartAsync(request, CancellationToken.None);
        double first = -1;
        await foreach (var line in run.Lines.ReadAllAsync())
        {
            if (first < 0 && line.Contains("\"backtest_progress\"", StringComparison.Ordinal))
            {
                first = clock.Elapsed.TotalMilliseconds;
            }
        }

        var exit = await run.Exit;
        await run.DisposeAsync();
        if (exit.ExitCode != 0 || first < 0)
        {
            throw new InvalidOperationException($"{runner.Kind} run ended {exit.ExitCode} {exit.Detail}");
        }

        return first;
    }

    private static async Task<List<double>> PauseResume(DockerRunner runner, string json, string data, string output, int cycles)
    {
        var config = System.Text.Json.JsonSerializer.Serialize(ClusterBench.Submission(json).Config, Engine.Configuration.JsonDefaults.Options);
        var run = await runner.StartAsync(new RunRequest(Guid.NewGuid(), 1, config, output, data, false, TimeSpan.FromSeconds(5)), CancellationToken.None);
        var drain = Task.Run(async () =>
        {
            await foreach (var _ in run.Lines.ReadAllAsync())
            {
            }
        });
        var times = new List<double>();
        for (var i = 0; i < cycles && !run.Exit.IsCompleted; i++)
        {
            var clock = Stopwatch.StartNew();
            await run.PauseAsync();
            await run.ResumeAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(50);
        }

        await run.StopAsync(TimeSpan.FromSeconds(5));
        await drain;
        await run.DisposeAsync();
        return times;
    }

    private static async Task<double> Batch(IClusterClient client, int count)
    {
        var submission = ClusterBench.Submission(ClusterBench.Longer) with { Owner = "bench-batch" };
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(ids.Select(id => client.GetGrain<IBacktestGrain>(id).Submit(submission)));
        BacktestStatus[] statuses;
        do
        {
            await Task.Delay(50);
            statuses = await Task.WhenAll(ids.Select(id => client.GetGrain<IBacktestGrain>(id).GetStatus()));
        }
        while (!statuses.All(s => s.IsTerminal));

        if (statuses.FirstOrDefault(s => s.State != BacktestState.Completed) is { } failed)
        {
            throw new InvalidOperationException($"a batch backtest ended {failed.State}: {failed.Error?.ErrorMessage}");
        }

        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>DOCKER_HOST as it is, or the project's daemon and worker image through scripts/docker.sh.</summary>
    internal static async Task EnsureDocker(string root)
    {
        var info = new ProcessStartInfo("bash", ["-c", "source scripts/docker.sh && start_docker >&2 && build_worker_image >&2 && echo \"$DOCKER_HOST\""])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("no Docker daemon or worker image (scripts/docker.sh failed; see above)");
        }

        Environment.SetEnvironmentVariable("DOCKER_HOST", output.Trim().Split('\n')[^1]);
    }
}
