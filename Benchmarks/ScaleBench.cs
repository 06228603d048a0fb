using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Backtesting.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>scale</c>: the same work on 1, 2 and 3 Silo processes (each on a loopback address of its own, each adding one slot to
/// the cluster-wide limit) on one PostgreSQL: a burst of one-year daily backtests, then the issue-15 optimization grid.
/// Prints backtests/s and trials/s and the ratio to one silo, and what each run cost where: CPU per silo, its workers,
/// PostgreSQL and this client (from /proc), the machine's busy share, how full the slots were (the queue sampled), the
/// gap from one run's completion to the next run's start (the queue's hand-off), and PostgreSQL's active time.
/// </summary>
internal static class ScaleBench
{
    private sealed record Options(int[] Silos, int Backtests, int Trials, string Runner, int BatchTrials);

    private sealed record Phase(string Work, int Silos, int Items, double Seconds, CpuSplit Cpu, double MachineBusy, double MachineCores,
        double SlotFill, ClusterBench.Stats HandOff, ClusterBench.Stats QueueCall, double PostgresActiveSeconds, string SpreadBySilo, string Load)
    {
        public double PerSecond => Items / Seconds;
    }

    private sealed record CpuSplit(double[] Silos, double[] Workers, double Postgres, double Client)
    {
        public double Total => Silos.Sum() + Workers.Sum() + Postgres + Client;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--silos", "--backtests", "--trials", "--runner", "--batch-trials") is not { } parsed)
        {
            return 2;
        }

        var options = new Options(
            parsed.Text("--silos", "1,2,3").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => Math.Clamp(int.Parse(s, CultureInfo.InvariantCulture), 1, 250)).ToArray(),
            parsed.Count("--backtests", 200), Math.Min(10_000, parsed.Count("--trials", 10_000)), parsed.Text("--runner", "process"),
            // 12 batches of the 10,000: 1, 2, 3 (and 4, 6) slots each get whole rounds of batches, so no silo count is
            // favoured by the split.
            parsed.Count("--batch-trials", 834));
        if (options.Runner is not ("process" or "docker" or "inProcess"))
        {
            Console.Error.WriteLine($"--runner takes process, docker or inProcess, not '{options.Runner}'");
            return 2;
        }

        var root = RepositoryRoot.Find();
        var data = Path.Combine(root, "data", "lean");
        SiloHosts.SiloDll();
        if (options.Runner == "docker")
        {
            await DockerBench.EnsureDocker(root);
        }

        var server = await ClusterBench.PostgresServer();
        var port = new NpgsqlConnectionStringBuilder(server).Port;
        var postmaster = ProcCpu.Postmaster(port);
        Console.WriteLine("Backtesting scale-out benchmark");
        Console.WriteLine($"  date      {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {ProcCpu.Load()}");
        Console.WriteLine($"  machine   {Environment.ProcessorCount} logical cores; PostgreSQL on 127.0.0.1:{port} (postmaster pid {postmaster?.ToString(CultureInfo.InvariantCulture) ?? "not found: its CPU is not counted"})");
        Console.WriteLine($"  work      {options.Backtests} one-year daily backtests (MovingAverageCross, SPY 2019, each a different fast/slow pair), submitted at once;");
        Console.WriteLine($"            then the optimization grid fast 1-50 x slow 51-250 on SPY daily 2016-2020, {options.Trials:N0} trials in batches of {options.BatchTrials:N0}");
        Console.WriteLine($"  cluster   {string.Join(", ", options.Silos)} Silo process(es) on 127.0.0.2, 127.0.0.3, ...; the {options.Runner} runner; cluster-wide limit = silos (one slot each), per-owner limit the same");
        Console.WriteLine();

        var phases = new List<Phase>();
        foreach (var silos in options.Silos)
        {
            phases.AddRange(await RunCluster(server, postmaster, data, silos, options));
        }

        Console.WriteLine();
        Console.WriteLine($"  {"work",-12} {"silos",5} {"items",6} {"seconds",8} {"per s",8} {"x 1 silo",8} {"slot fill",9} {"hand-off p50/p99 ms",20} {"queue call p50/p99 ms",22} {"PG active s",11}  load");
        foreach (var phase in phases)
        {
            var one = phases.FirstOrDefault(p => p.Work == phase.Work && p.Silos == 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {phase.Work,-12} {phase.Silos,5} {phase.Items,6} {phase.Seconds,8:F2} {phase.PerSecond,8:F1} {(one is null ? "-" : (phase.PerSecond / one.PerSecond).ToString("F2", CultureInfo.InvariantCulture)),8} " +
                $"{phase.SlotFill,8:P0} {$"{phase.HandOff.P50:F0} / {phase.HandOff.P99:F0}",20} {$"{phase.QueueCall.P50:F1} / {phase.QueueCall.P99:F1}",22} {phase.PostgresActiveSeconds,11:F2}  {phase.Load}"));
        }

        Console.WriteLine();
        Console.WriteLine("  CPU seconds of each phase (from /proc): each silo's own / its workers'; PostgreSQL (server and backends); this client;");
        Console.WriteLine("  the machine's busy CPU (every process, neighbours included) against cores x wall time");
        foreach (var phase in phases)
        {
            var c = phase.Cpu;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {phase.Work,-12} {phase.Silos} silo(s): silos {string.Join(" + ", c.Silos.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))} s, " +
                $"workers {string.Join(" + ", c.Workers.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))} s, PostgreSQL {c.Postgres:F1} s, client {c.Client:F1} s = {c.Total:F1} s " +
                $"= {c.Total / phase.Seconds:F2} cores; machine busy {phase.MachineBusy:F1} of {phase.MachineCores:F1} CPU s ({phase.MachineBusy / phase.MachineCores:P0}); runs per silo {phase.SpreadBySilo}"));
        }

        return 0;
    }

    private static async Task<List<Phase>> RunCluster(string server, int? postmaster, string data, int silos, Options options)
    {
        var database = "scale_" + Guid.NewGuid().ToString("N");
        await ClusterBench.Execute(server, $"CREATE DATABASE \"{database}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database, Pooling = true }.ConnectionString;
        var work = Path.Combine(Path.GetTempPath(), "backtesting-scale-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var clusterId = "scale-" + Guid.NewGuid().ToString("N")[..8];
        var hosts = new List<SiloProcess>();
        IHost? client = null;
        try
        {
            await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
            var settings = new Dictionary<string, string>
            {
                ["Backtesting__Runner"] = options.Runner,
                ["Backtesting__DataDirectory"] = data,
                ["Backtesting__MaxConcurrent"] = silos.ToString(CultureInfo.InvariantCulture),
                ["Backtesting__MaxConcurrentPerOwner"] = silos.ToString(CultureInfo.InvariantCulture),
                ["Backtesting__Optimization__BatchTrials"] = options.BatchTrials.ToString(CultureInfo.InvariantCulture),
                // Every slot may hold one of the job's batches: the job's own cap must not be the limit measured.
                ["Backtesting__Optimization__BatchesInFlight"] = silos.ToString(CultureInfo.InvariantCulture),
            };
            for (var i = 0; i < silos; i++)
            {
                hosts.Add(SiloHosts.Start(i, connectionString, clusterId, work, new Dictionary<string, string>(settings)
                {
                    ["Backtesting__WorkDirectory"] = Path.Combine(work, $"runs-{i}"),
                }));
            }

            Console.WriteLine($"{silos} silo(s) on {string.Join(", ", hosts.Select(h => h.Address))}: starting ...");
            client = await SiloProcesses.ConnectClient(connectionString, clusterId, activeSilos: silos, hosts);
            var cluster = client.Services.GetRequiredService<IClusterClient>();

            // Warm-up, not measured: two backtests a slot, so every silo's paths (and its first worker) have run once.
            await RunBacktests(cluster, Enumerable.Range(0, 2 * silos).Select(i => Backtest(10_000 + i)).ToList());

            var backtests = await Measure(cluster, hosts, postmaster, connectionString, database, "backtests", silos, options.Backtests,
                () => RunBacktests(cluster, Enumerable.Range(0, options.Backtests).Select(Backtest).ToList()));
            Console.WriteLine($"  backtests: {backtests.Items} in {backtests.Seconds:F2} s = {backtests.PerSecond:F1}/s  (load {backtests.Load})");
            var trials = await Measure(cluster, hosts, postmaster, connectionString, database, "optimization", silos, options.Trials,
                () => RunOptimization(cluster, connectionString, options.Trials));
            Console.WriteLine($"  optimization: {trials.Items:N0} trials stored in {trials.Seconds:F2} s = {trials.PerSecond:F0} trials/s  (load {trials.Load})");
            return [backtests, trials];
        }
        finally
        {
            if (client is not null)
            {
                await client.StopAsync();
                client.Dispose();
            }

            foreach (var host in hosts)
            {
                host.Dispose();
            }

            NpgsqlConnection.ClearAllPools();
            await ClusterBench.Execute(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> (which returns its span in seconds and the (start, end) of every run that held a slot)
    /// while sampling the queue every 100 ms, and reads CPU and PostgreSQL's active time around it.
    /// </summary>
    private static async Task<Phase> Measure(IClusterClient cluster, IReadOnlyList<SiloProcess> hosts, int? postmaster, string connectionString,
        string database, string name, int silos, int items, Func<Task<(double Seconds, List<(DateTime Start, DateTime End)> Runs)>> work)
    {
        var pids = hosts.Select(h => h.Process.Id).ToArray();
        var siloBefore = pids.Select(ProcCpu.Of).ToArray();
        var workersBefore = pids.Select(LiveChildren).ToArray();
        var postgresBefore = postmaster is { } pm ? ProcCpu.Tree(pm) : 0;
        var clientBefore = ProcCpu.Of(Environment.ProcessId).Own;
        var machineBefore = ProcCpu.Machine();
        var activeBefore = await ActiveSeconds(connectionString, database);

        var queue = cluster.GetGrain<IBacktestQueueGrain>(0);
        using var stop = new CancellationTokenSource();
        var fills = new ConcurrentQueue<int>();
        var calls = new ConcurrentQueue<double>();
        var bySilo = new ConcurrentDictionary<string, HashSet<Guid>>();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var clock = Stopwatch.StartNew();
                var snapshot = await queue.GetSnapshot();
                calls.Enqueue(clock.Elapsed.TotalMilliseconds);
                fills.Enqueue(snapshot.Running.Count);
                foreach (var running in snapshot.Running.Where(r => r.Silo is not null))
                {
                    var set = bySilo.GetOrAdd(running.Silo!, _ => []);
                    lock (set)
                    {
                        set.Add(running.BacktestId);
                    }
                }

                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);

        var (seconds, runs) = await work();
        await stop.CancelAsync();
        await sampler;

        var cpu = new CpuSplit(
            pids.Select((p, i) => (ProcCpu.Of(p) - siloBefore[i]).Own).ToArray(),
            pids.Select((p, i) => (ProcCpu.Of(p) - siloBefore[i]).Children + LiveChildren(p) - workersBefore[i]).ToArray(),
            postmaster is { } pm2 ? ProcCpu.Tree(pm2) - postgresBefore : 0,
            ProcCpu.Of(Environment.ProcessId).Own - clientBefore);
        var machineAfter = ProcCpu.Machine();
        var active = await ActiveSeconds(connectionString, database) - activeBefore;

        // The hand-off: for each run that started after another ended, the gap since the latest end before its start.
        var ends = runs.Select(r => r.End).Order().ToArray();
        var handOffs = new List<double>();
        foreach (var run in runs)
        {
            var before = ends.LastOrDefault(e => e <= run.Start);
            if (before != default)
            {
                handOffs.Add((run.Start - before).TotalMilliseconds);
            }
        }

        return new Phase(name, silos, items, seconds, cpu, machineAfter.Busy - machineBefore.Busy, machineAfter.Total - machineBefore.Total,
            fills.IsEmpty ? double.NaN : fills.Average() / silos, ClusterBench.Stats.Of(handOffs), ClusterBench.Stats.Of(calls.ToArray()), active,
            string.Join(" / ", bySilo.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {s.Value.Count}")), ProcCpu.Load());
    }

    /// <summary>The own CPU of a silo's live child processes (its running workers).</summary>
    private static double LiveChildren(int pid) => ProcCpu.ChildrenOf(pid).Sum(c => ProcCpu.Tree(c));

    /// <summary>PostgreSQL's time spent executing statements in the database (pg_stat_database.active_time, PostgreSQL 14+).</summary>
    private static async Task<double> ActiveSeconds(string connectionString, string database)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // The statistics are a snapshot per transaction: clear it so this read is current.
        await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", connection))
        {
            await clear.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand("SELECT active_time FROM pg_stat_database WHERE datname = @db", connection);
        command.Parameters.AddWithValue("db", database);
        return Convert.ToDouble(await command.ExecuteScalarAsync() ?? 0.0, CultureInfo.InvariantCulture) / 1000;
    }

    /// <summary>The <paramref name="i"/>-th backtest: one year of SPY daily bars with a fast/slow pair no other one has.</summary>
    private static string Backtest(int i) => """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":FAST,"slowPeriod":SLOW},
         "startDate":"2019-01-01","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000,
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """.Replace("FAST", (2 + i % 20).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("SLOW", (30 + i / 20).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>Submits every backtest at once; the span from the first submit to the last stamped completion, and each run's start and end.</summary>
    private static async Task<(double Seconds, List<(DateTime Start, DateTime End)> Runs)> RunBacktests(IClusterClient cluster, List<string> configs)
    {
        var ids = configs.Select(_ => Guid.NewGuid()).ToArray();
        var start = DateTime.UtcNow;
        await Task.WhenAll(ids.Select((id, i) => cluster.GetGrain<IBacktestGrain>(id).Submit(
            new BacktestSubmission(ConfigValidator.Parse(configs[i]).Config!, "scale", BacktestPriority.Normal, UseCache: false))));
        var done = new Dictionary<Guid, BacktestStatus>();
        while (done.Count < ids.Length)
        {
            await Task.Delay(250);
            foreach (var status in await Task.WhenAll(ids.Where(id => !done.ContainsKey(id)).Select(id => cluster.GetGrain<IBacktestGrain>(id).GetStatus())))
            {
                if (status.IsTerminal)
                {
                    done[status.Id] = status.State == BacktestState.Completed ? status
                        : throw new InvalidOperationException($"backtest {status.Id} ended {status.State}: {status.Error?.ErrorMessage}");
                }
            }
        }

        // A run holds its slot from its grant (it moves to Starting) to its completion.
        var runs = done.Values.Select(s => (Start: s.History.First(h => h.State == BacktestState.Starting).At, End: s.CompletedAt!.Value)).ToList();
        return ((runs.Max(r => r.End) - start).TotalSeconds, runs);
    }

    /// <summary>Submits the grid as one job; the span from submit to completed, with every trial stored (checked in PostgreSQL).</summary>
    private static async Task<(double Seconds, List<(DateTime Start, DateTime End)> Runs)> RunOptimization(IClusterClient cluster, string connectionString, int trials)
    {
        var config = OptimizationValidator.Parse(OptimizeBench.JobJson(trials)).Config!;
        var id = Guid.NewGuid();
        var grain = cluster.GetGrain<IOptimizationGrain>(id);
        var start = DateTime.UtcNow;
        await grain.Submit(new OptimizationSubmission(config, "scale"));
        OptimizationStatus status;
        while (!(status = await grain.GetStatus()).IsTerminal)
        {
            await Task.Delay(100);
        }

        var end = DateTime.UtcNow;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM optimization_trials WHERE optimization_id = @id", connection);
        count.Parameters.AddWithValue("id", id);
        var stored = (long)(await count.ExecuteScalarAsync())!;
        if (status.State != OptimizationState.Completed || stored != trials)
        {
            throw new InvalidOperationException($"the job ended {status.StateWord} with {stored} of {trials} trials stored: {status.ErrorMessage}");
        }

        // The batches' hand-offs are not visible from here: no runs to report.
        return ((end - start).TotalSeconds, []);
    }
}
