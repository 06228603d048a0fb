using System.Diagnostics;
using System.Globalization;
using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Storage;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>queue</c>: the one queue grain's scheduling rate with many entries waiting, through the real grain on one silo in
/// this process (AdoNet grain state on a fresh PostgreSQL database), and the cost of storing its state at each depth.
/// <para>
/// The entries are ids of backtests that were never submitted (each activated first, as a queued backtest's grain is):
/// granted a slot, such a grain hands it straight back (<see cref="IBacktestGrain.OnSlotGranted"/> releases a slot its
/// grain has no run for), and the release grants the next entry. So the queue drains as fast as it can grant: each
/// grant is the queue's stored write, its call to the grain and the grain's release, counted over a few seconds (the
/// rest is then removed: at thousands of entries a full drain takes hours). With a cluster-wide limit of 1 the
/// grants are one after another, and one over the rate is the cost of one grant; with a larger limit, grants share
/// writes (the queue's group commit).
/// </para>
/// </summary>
internal static class QueueBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--depths", "--limits", "--writes", "--seconds") is not { } options)
        {
            return 2;
        }

        var depths = Numbers(options.Text("--depths", "100,1000,10000"));
        var limits = Numbers(options.Text("--limits", "1,100"));
        var writes = options.Count("--writes", 20);
        var window = TimeSpan.FromSeconds(options.Count("--seconds", 10));
        Console.WriteLine("Backtesting queue grain benchmark");
        Console.WriteLine($"  date      {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {ProcCpu.Load()}; {Environment.ProcessorCount} logical cores");
        Console.WriteLine("  cluster   one silo in this process, grain state in PostgreSQL on this machine (AdoNet), fresh database per limit");
        Console.WriteLine();

        var server = await ClusterBench.PostgresServer();
        var data = Path.Combine(RepositoryRoot.Find(), "data", "lean");
        var lines = new List<string>();
        foreach (var limit in limits)
        {
            var database = "queuebench_" + Guid.NewGuid().ToString("N");
            await ClusterBench.Execute(server, $"CREATE DATABASE \"{database}\"");
            var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database, Pooling = true }.ConnectionString;
            var work = Path.Combine(Path.GetTempPath(), "backtesting-queue-bench-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
                using var host = await ClusterBench.StartSilo(connectionString, "inProcess", data, work, limit);
                var client = host.Services.GetRequiredService<IClusterClient>();
                if (limit == limits[0])
                {
                    foreach (var depth in depths)
                    {
                        var (median, bytes) = await StateWrite(host, connectionString, depth, writes);
                        var line = string.Create(CultureInfo.InvariantCulture,
                            $"  storing the queue's state with {depth,6:N0} entries: {median,7:F2} ms a write (median of {writes}), {bytes / 1024.0,7:F0} KiB as stored  (load {ProcCpu.Load()})");
                        Console.WriteLine(line);
                        lines.Add(line);
                    }
                }

                foreach (var depth in depths)
                {
                    // With as many slots as entries, every entry is granted as it arrives: no queue to measure.
                    var line = depth <= limit
                        ? string.Create(CultureInfo.InvariantCulture, $"  limit {limit,3}, {depth,6:N0} queued: skipped, the limit grants every entry as it arrives")
                        : await Drain(client, depth, limit, window);
                    Console.WriteLine(line);
                    lines.Add(line);
                }

                await host.StopAsync();
            }
            finally
            {
                NpgsqlConnection.ClearAllPools();
                await ClusterBench.Execute(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }

        Console.WriteLine();
        foreach (var line in lines)
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    /// <summary>
    /// Queues <paramref name="depth"/> entries, then counts the grants over <paramref name="window"/> (the queue barely
    /// shorter than at its fullest) from two snapshots, removes what still waits and lets the running entries go.
    /// </summary>
    private static async Task<string> Drain(IClusterClient client, int depth, int limit, TimeSpan window)
    {
        var queue = client.GetGrain<IBacktestQueueGrain>(0);
        var ids = Enumerable.Range(0, depth).Select(_ => Guid.NewGuid()).ToArray();
        // Activate each grain first, as a queued backtest's grain is active when its slot comes: a grant then costs the
        // queue's work, not a grain's activation.
        foreach (var chunk in ids.Chunk(500))
        {
            await Task.WhenAll(chunk.Select(async id =>
            {
                try
                {
                    await client.GetGrain<IBacktestGrain>(id).GetStatus();
                }
                catch (KeyNotFoundException)
                {
                    // Never submitted: the activation stays, which is all this wants.
                }
            }));
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(ids.Select(id => queue.Enqueue(id, "bench", BacktestPriority.Normal)));
        var loaded = clock.Elapsed.TotalSeconds;
        var first = await queue.GetSnapshot();
        var firstAt = clock.Elapsed.TotalSeconds;
        var snapshotMs = new List<double>();
        QueueSnapshot last;
        do
        {
            await Task.Delay(500);
            var call = Stopwatch.StartNew();
            last = await queue.GetSnapshot();
            snapshotMs.Add(call.Elapsed.TotalMilliseconds);
        }
        while (clock.Elapsed.TotalSeconds - firstAt < window.TotalSeconds && last.Queued.Count > 0);

        var lastAt = clock.Elapsed.TotalSeconds;
        var granted = first.Queued.Count - last.Queued.Count;
        var rate = granted / (lastAt - firstAt);

        // What still waits leaves (removals share writes too); the granted ones hand their slots back by themselves.
        await Task.WhenAll(last.Queued.Select(q => queue.Remove(q.BacktestId)));
        QueueSnapshot rest;
        while ((rest = await queue.GetSnapshot()).Running.Count > 0 || rest.Queued.Count > 0)
        {
            await Task.Delay(200);
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"  limit {limit,3}, {depth,6:N0} queued: enqueued in {loaded:F2} s; {granted:N0} grants in {lastAt - firstAt:F1} s with {first.Queued.Count:N0} to {last.Queued.Count:N0} waiting = " +
            $"{rate,6:F1} grants/s ({1000 / rate:F1} ms a grant); a snapshot call {snapshotMs.Median():F1} ms  (load {ProcCpu.Load()})");
    }

    /// <summary>The median time of writing the queue's state with <paramref name="depth"/> entries through the silo's own grain storage, and its stored size.</summary>
    private static async Task<(double MedianMs, long Bytes)> StateWrite(IHost host, string connectionString, int depth, int writes)
    {
        var storage = host.Services.GetRequiredKeyedService<IGrainStorage>("Default");
        var state = new QueueState { NextSequence = depth };
        var now = DateTime.UtcNow;
        for (var i = 0; i < depth; i++)
        {
            state.Queued.Add(new QueueItem(Guid.NewGuid(), $"owner-{i % 10}", (BacktestPriority)(i % 4), i, now));
        }

        var grainState = new GrainState<QueueState>(state);
        var grainId = GrainId.Create("queue-bench", depth.ToString(CultureInfo.InvariantCulture));
        var times = new List<double>();
        for (var i = 0; i <= writes; i++)
        {
            var clock = Stopwatch.StartNew();
            await storage.WriteStateAsync("queue", grainId, grainState);
            if (i > 0)
            {
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        return (times.Median(), await LastStoredBytes(connectionString));
    }

    /// <summary>The size of the payload stored last in Orleans' state table (this benchmark's write: nothing else writes meanwhile).</summary>
    private static async Task<long> LastStoredBytes(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT coalesce(octet_length(payload), 0) FROM orleans_storage ORDER BY modified_at DESC LIMIT 1", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static double Median(this IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static int[] Numbers(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => Math.Max(1, int.Parse(n, CultureInfo.InvariantCulture))).ToArray();
}
