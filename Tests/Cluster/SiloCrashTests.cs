using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// A real crash: two Silo processes on one database, the worker frozen mid-run, and kill -9 of the silo that
/// supervises it. The other silo must bring the backtest back from its PostgreSQL checkpoint and finish it
/// with results identical to an uninterrupted run, storing no trade twice.
/// </summary>
[Collection("cluster")]
public class SiloCrashTests
{
    private static async Task<BacktestStatus> Poll(IBacktestGrain grain, Func<BacktestStatus, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var status = await grain.GetStatus().WaitAsync(TimeSpan.FromSeconds(10));
                if (done(status))
                {
                    return status;
                }
            }
            catch (Exception e) when (e is not KeyNotFoundException)
            {
                last = e; // the grain's silo is gone and not yet declared dead: try again
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the backtest did not get there in time", last);
    }

    [Fact]
    public Task Killing_the_silo_that_runs_a_backtest_finishes_it_on_the_other_with_identical_results() =>
        CrashMidRun(TimeSpan.FromSeconds(2));

    /// <summary>
    /// With a ten-minute recovery reminder, only the cluster's declaration of the silo's death can bring the run back
    /// within the three minutes the test waits: the surviving silo acts on it at once.
    /// </summary>
    [Fact]
    public Task A_run_of_a_silo_declared_dead_comes_back_at_once_without_waiting_for_its_reminder() =>
        CrashMidRun(TimeSpan.FromMinutes(10));

    private static async Task CrashMidRun(TimeSpan recoveryReminderPeriod)
    {
        using var logs = new TempFolder();
        using var work = new TempFolder();
        var connectionString = await PostgresTestServer.CreateDatabaseAsync("crash");
        await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
        var clusterId = "crash-" + Guid.NewGuid().ToString("N")[..8];
        using var first = SiloProcesses.Start(connectionString, clusterId, work.Path, logs, recoveryReminderPeriod);
        using var second = SiloProcesses.Start(connectionString, clusterId, work.Path, logs, recoveryReminderPeriod);
        using var client = await SiloProcesses.ConnectClient(connectionString, clusterId);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        int? frozenWorker = null;
        try
        {
            // Each silo serves Orleans' dashboard on loopback (the client may have connected before this one is up).
            using (var http = new HttpClient())
            {
                HttpResponseMessage? page = null;
                for (var wait = DateTime.UtcNow + TimeSpan.FromMinutes(1); page is null && DateTime.UtcNow < wait;)
                {
                    try
                    {
                        page = await http.GetAsync(new Uri($"http://127.0.0.1:{first.DashboardPort}/dashboard"));
                    }
                    catch (HttpRequestException)
                    {
                        await Task.Delay(250);
                    }
                }

                Assert.True(page?.IsSuccessStatusCode == true, $"dashboard answered {page?.StatusCode.ToString() ?? "nothing"}\n{first.Log}");
            }

            var id = Guid.NewGuid();
            var grain = grains.GetGrain<IBacktestGrain>(id);
            await grain.Submit(ClusterTests.Submission(ClusterTests.Ticks));
            var running = await Poll(grain, s => s.State == BacktestState.Running && s.Progress!.Progress.Percentage > 10, TimeSpan.FromMinutes(2));

            // Freeze the worker mid-run once a checkpoint has reached PostgreSQL, then crash its silo.
            var store = new PostgresBacktestStore(connectionString);
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (await store.LoadCheckpointAsync(id) is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.NotNull(await store.LoadCheckpointAsync(id));
            var attempt = running.Attempts[^1];
            frozenWorker = attempt.ProcessId;
            Assert.NotNull(frozenWorker);
            Process.Start("kill", ["-STOP", frozenWorker.Value.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            await Task.Delay(1000);
            var victim = new[] { first, second }.Single(s => attempt.Silo.Contains($":{s.SiloPort}@", StringComparison.Ordinal));
            victim.Process.Kill(entireProcessTree: false);
            await victim.Process.WaitForExitAsync();

            BacktestStatus done;
            try
            {
                done = await Poll(grain, s => s.IsTerminal, TimeSpan.FromMinutes(3));
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}\n--- surviving silo's log ---\n{(victim == first ? second : first).Log}", e);
            }

            Assert.True(done.State == BacktestState.Completed, $"{done.State}: {done.Error?.ErrorMessage}\n{first.Log}\n{second.Log}");
            Assert.True(done.Attempts.Count >= 2);
            Assert.NotEqual(attempt.Silo, done.Attempts[^1].Silo);
            Assert.True(done.Attempts[^1].ResumedFromPoint > 0, "the new attempt resumed from the PostgreSQL checkpoint");

            var stored = (await grain.GetResults())!;
            ClusterTests.AssertSameResult(ClusterTests.Direct(ClusterTests.Ticks), stored);
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM backtest_trades WHERE backtest_id = @id", connection);
            count.Parameters.AddWithValue("id", id);
            Assert.Equal((long)stored.Trades.Count, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            if (frozenWorker is { } pid)
            {
                Process.Start("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            }

            await client.StopAsync();
        }
    }
}
