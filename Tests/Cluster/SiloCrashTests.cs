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
    private sealed class SiloProcess(Process process, int siloPort, int dashboardPort, string log) : IDisposable
    {
        public Process Process { get; } = process;
        public int SiloPort { get; } = siloPort;
        public int DashboardPort { get; } = dashboardPort;
        public string Log => File.Exists(log) ? File.ReadAllText(log) : "";

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }

            Process.Dispose();
        }
    }

    private static readonly HashSet<int> PortsHandedOut = [];

    /// <summary>
    /// A port free now, never handed out before in this run, and below the kernel's ephemeral range: a port the
    /// kernel picked (bind to 0) could be given again, or to an outgoing connection such as one to PostgreSQL,
    /// between this pick and the silo process binding it.
    /// </summary>
    private static int FreePort()
    {
        var ephemeralStart = 32768;
        if (File.Exists("/proc/sys/net/ipv4/ip_local_port_range")
            && int.TryParse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null,
                StringSplitOptions.RemoveEmptyEntries)[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            ephemeralStart = start;
        }

        var low = Math.Max(10_000, ephemeralStart - 12_000);
        for (var tries = 0; tries < 1000 && low < ephemeralStart; tries++)
        {
            var port = Random.Shared.Next(low, ephemeralStart);
            lock (PortsHandedOut)
            {
                if (!PortsHandedOut.Add(port))
                {
                    continue;
                }
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // in use: try another
            }
        }

        throw new InvalidOperationException($"no free port below the ephemeral range ({ephemeralStart})");
    }

    private static SiloProcess StartSilo(string connectionString, string clusterId, string work, TempFolder logs, TimeSpan recoveryReminderPeriod)
    {
        var siloPort = FreePort();
        var gatewayPort = FreePort();
        var dashboardPort = FreePort();
        var log = logs.File($"silo-{siloPort}.log");
        var info = new ProcessStartInfo("bash", ["-c", $"exec dotnet \"{Path.Combine(AppContext.BaseDirectory, "Backtesting.Silo.dll")}\" > \"{log}\" 2>&1"])
        {
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Backtesting"] = connectionString,
            ["Silo__ClusterId"] = clusterId,
            ["Silo__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Silo__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Silo__DashboardPort"] = dashboardPort.ToString(CultureInfo.InvariantCulture),
            ["Silo__Membership__ProbeTimeout"] = "00:00:01",
            ["Silo__Membership__NumMissedProbesLimit"] = "2",
            ["Silo__Membership__NumVotesForDeathDeclaration"] = "1",
            ["Silo__Membership__TableRefreshTimeout"] = "00:00:02",
            ["Silo__Membership__IAmAliveTablePublishTimeout"] = "00:00:02",
            ["Silo__Reminders__MinimumReminderPeriod"] = "00:00:01",
            ["Backtesting__Runner"] = "process",
            ["Backtesting__DataDirectory"] = TestPaths.LeanData,
            ["Backtesting__WorkDirectory"] = work,
            ["Backtesting__CheckpointInterval"] = "00:00:00.2",
            ["Backtesting__SupervisionTick"] = "00:00:00.5",
            ["Backtesting__RecoveryReminderPeriod"] = recoveryReminderPeriod.ToString("c", CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new SiloProcess(Process.Start(info)!, siloPort, dashboardPort, log);
    }

    /// <summary>Connects once a silo has joined (a client with no gateway listed gives up at once).</summary>
    private static async Task<IHost> ConnectClient(string connectionString, string clusterId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var host = BuildClient(connectionString, clusterId);
            try
            {
                await host.StartAsync();
                return host;
            }
            catch (SiloUnavailableException) when (DateTime.UtcNow < deadline)
            {
                host.Dispose();
                await Task.Delay(500);
            }
        }
    }

    private static IHost BuildClient(string connectionString, string clusterId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = "backtesting";
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = SiloSetup.Invariant;
                o.ConnectionString = connectionString;
            });
            client.Services.AddBacktestingSerialization();
        });
        return builder.Build();
    }

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
        using var first = StartSilo(connectionString, clusterId, work.Path, logs, recoveryReminderPeriod);
        using var second = StartSilo(connectionString, clusterId, work.Path, logs, recoveryReminderPeriod);
        using var client = await ConnectClient(connectionString, clusterId);
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
