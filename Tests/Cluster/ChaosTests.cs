using System.Diagnostics;
using System.Globalization;
using Backtesting.Engine.Results;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// The chaos run, small: three Silo processes on one database, a burst of backtests from three owners at mixed
/// priorities under the cluster and per-owner limits, and kill -9 of a random silo every few seconds (each replaced)
/// while they run, with PostgreSQL restarted twice among the kills (-m fast, then -m immediate). Once the faults stop the cluster must drain within a bound, and the harness checks what a user
/// relies on: every backtest ended once, completed, with results equal to the same configuration run without faults,
/// no trade stored twice, the stored row agreeing with the grain, no slot left held and no worker left running.
/// Sizes come from BACKTESTING_CHAOS_BACKTESTS and BACKTESTING_CHAOS_KILLS (small by default, for ./test.sh).
/// </summary>
[Collection("cluster")]
public class ChaosTests
{
    private static readonly TimeSpan KillInterval = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan RecoveryReminder = TimeSpan.FromSeconds(30);
    /// <summary>How long the cluster may take to finish everything once the faults stop (the remaining work included).</summary>
    private static readonly TimeSpan DrainBound = TimeSpan.FromMinutes(4);

    internal static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    internal static string Daily(int i) => """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":FAST,"slowPeriod":SLOW},
         "startDate":"2015-01-01","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000,
         "executionSettings":{"commission":{"model":"percent","rate":0.001}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """.Replace("FAST", (5 + i % 10).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("SLOW", (30 + i).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    [Fact]
    public async Task Backtests_survive_repeated_silo_kills_each_ending_once_with_the_results_of_a_run_without_faults()
    {
        var count = Setting("BACKTESTING_CHAOS_BACKTESTS", 12);
        var kills = Setting("BACKTESTING_CHAOS_KILLS", 4);
        var random = new Random(20261206);
        using var logs = new TempFolder();
        using var work = new TempFolder();
        // Its own PostgreSQL: the run restarts it, and the shared test server must not go down under other tests.
        using var postgres = await OwnPostgres.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("chaos");
        await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
        var clusterId = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string>
        {
            ["Backtesting__MaxConcurrent"] = "4",
            ["Backtesting__MaxConcurrentPerOwner"] = "2",
        };
        var silos = new List<SiloProcess>();
        var started = new List<(string Address, int Port)>();
        SiloProcess Start()
        {
            var silo = SiloProcesses.Start(connectionString, clusterId, work.Path, logs, RecoveryReminder, settings);
            started.Add((silo.Address, silo.SiloPort));
            return silo;
        }

        for (var i = 0; i < 3; i++)
        {
            silos.Add(Start());
        }

        // Two long tick runs, so that kills land in the middle of work, and a burst of daily runs.
        var jobs = Enumerable.Range(0, count).Select(i => (Id: Guid.NewGuid(), Json: i < 2 ? ClusterTests.Ticks : Daily(i),
            Owner: new[] { "alice", "bob", "carol" }[i % 3], Priority: (BacktestPriority)(i % 4))).ToList();
        var expected = jobs.Select(j => j.Json).Distinct().AsParallel().ToDictionary(json => json, ClusterTests.Direct);
        var clientHost = await SiloProcesses.ConnectClient(connectionString, clusterId);
        try
        {
            var client = clientHost.Services.GetRequiredService<IClusterClient>();
            foreach (var job in jobs)
            {
                await ChaosHarness.Retry(() => ChaosHarness.Submit(client, job.Id, ClusterTests.Submission(job.Json, job.Priority, job.Owner)));
            }

            var killed = 0;
            for (; killed < kills; killed++)
            {
                await Task.Delay(KillInterval);
                await ChaosHarness.KillAndReplace(silos, silos[random.Next(silos.Count)], Start);
                // PostgreSQL goes down twice while silos die: once cleanly, once as a crash it recovers from.
                if (killed == kills / 3)
                {
                    await postgres.RestartAsync("fast");
                }
                else if (killed == 2 * kills / 3)
                {
                    await postgres.RestartAsync("immediate");
                }
            }

            var faultsStopped = Stopwatch.StartNew();
            var statuses = new Dictionary<Guid, BacktestStatus>();
            while (statuses.Count < jobs.Count)
            {
                Assert.True(faultsStopped.Elapsed < DrainBound,
                    $"after {killed} kills, {jobs.Count - statuses.Count} backtests still unfinished {DrainBound.TotalMinutes} minutes after the faults stopped\n"
                    + string.Join("\n", silos.Select(s => s.Log[^Math.Min(s.Log.Length, 4000)..])));
                foreach (var job in jobs.Where(j => !statuses.ContainsKey(j.Id)))
                {
                    try
                    {
                        var status = await client.GetGrain<IBacktestGrain>(job.Id).GetStatus().WaitAsync(TimeSpan.FromSeconds(10));
                        if (status.IsTerminal)
                        {
                            statuses[job.Id] = status;
                        }
                    }
                    catch (Exception e) when (e is not KeyNotFoundException)
                    {
                        // A silo killed a moment ago may still be in the directory: ask again.
                    }
                }

                await Task.Delay(500);
            }

            var drained = faultsStopped.Elapsed;
            Console.WriteLine($"chaos: {jobs.Count} backtests, {killed} silo kills every {KillInterval.TotalSeconds} s, 2 PostgreSQL restarts, drained {drained.TotalSeconds:F1} s after the last");

            // This process's pooled connections predate the restarts (the migration's): drop them before checking.
            NpgsqlConnection.ClearAllPools();
            var store = new PostgresBacktestStore(connectionString);
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            foreach (var job in jobs)
            {
                var status = statuses[job.Id];
                Assert.True(status.State == BacktestState.Completed, $"{job.Id} ({job.Owner}) ended {status.State}: {status.Error?.ErrorMessage}");
                Assert.Single(status.History, h => Lifecycle.IsTerminal(h.State));
                var results = await ChaosHarness.Retry(() => client.GetGrain<IBacktestGrain>(job.Id).GetResults());
                ClusterTests.AssertSameResult(expected[job.Json], results!);
                Assert.Equal("completed", (await store.GetAsync(job.Id))!.Status);
                await using var trades = new NpgsqlCommand("SELECT count(*) FROM backtest_trades WHERE backtest_id = @id", connection);
                trades.Parameters.AddWithValue("id", job.Id);
                Assert.Equal((long)results!.Trades.Count, (long)(await trades.ExecuteScalarAsync())!);
            }

            // The multi-host rehearsal: every silo that joined did so on its own loopback address, as on separate hosts.
            var joined = await SiloProcesses.MembershipEndpoints(connectionString, clusterId);
            Assert.NotEmpty(joined);
            Assert.All(joined, endpoint => Assert.Contains(endpoint, started));
            // (250 addresses are handed out in turn, so up to 250 silos started in one test run never share one.)
            Assert.Equal(Math.Min(started.Count, 250), started.Select(s => s.Address).Distinct().Count());
            Assert.DoesNotContain(started, s => s.Address == "127.0.0.1");

            // No slot is left held and nothing waits: the queue drains to zero.
            var queue = await ChaosHarness.Retry(() => client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot());
            Assert.Empty(queue.Running);
            Assert.Empty(queue.Queued);

            // No worker of this run is left: a worker orphaned by its silo's death finishes or stops by itself.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (ChaosHarness.WorkersUnder(work.Path).Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }

            Assert.Empty(ChaosHarness.WorkersUnder(work.Path));
        }
        finally
        {
            await clientHost.StopAsync();
            clientHost.Dispose();
            foreach (var silo in silos)
            {
                silo.Dispose();
            }
        }
    }
}
