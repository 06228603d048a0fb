using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Backtesting.Tests.Cluster;

/// <summary>A Silo process of the real host, started on its own loopback address and ports against a test database.</summary>
internal sealed class SiloProcess(Process process, string address, int siloPort, int dashboardPort, string log) : IDisposable
{
    public Process Process { get; } = process;
    /// <summary>The address its silo and gateway endpoints listen on and advertise (127.0.0.2, 127.0.0.3, ...).</summary>
    public string Address { get; } = address;
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

/// <summary>
/// Starts Silo processes with fast failure detection and a client that connects once one has joined. Each silo listens
/// on and advertises a loopback address of its own (127.0.0.2, 127.0.0.3, ..., never 127.0.0.1), as silos on separate
/// hosts would: nothing may rely on all silos sharing one address. Linux routes all of 127.0.0.0/8 to the loopback device.
/// </summary>
internal static class SiloProcesses
{
    private static readonly HashSet<int> PortsHandedOut = [];
    private static int _silosStarted;

    /// <summary>The next silo's address: 127.0.0.2 to 127.0.0.251 in turn, always inside 127.0.0.0/8.</summary>
    public static string NextAddress() =>
        string.Create(CultureInfo.InvariantCulture, $"127.0.0.{2 + (Interlocked.Increment(ref _silosStarted) - 1) % 250}");

    /// <summary>
    /// A port free now, never handed out before in this run, and below the kernel's ephemeral range: a port the
    /// kernel picked (bind to 0) could be given again, or to an outgoing connection such as one to PostgreSQL,
    /// between this pick and the silo process binding it.
    /// </summary>
    public static int FreePort()
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

    /// <summary>
    /// A silo for the tests and the chaos run: the Silo built beside this program, on the next loopback address, with fast
    /// failure detection, the process runner, short checkpoint and supervision periods and the given recovery reminder
    /// (<paramref name="settings"/> override any of them).
    /// </summary>
    public static SiloProcess Start(string connectionString, string clusterId, string work, TempFolder logs, TimeSpan recoveryReminderPeriod,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
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
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return Launch(Path.Combine(AppContext.BaseDirectory, "Backtesting.Silo.dll"), NextAddress(), connectionString, clusterId, logs.Path, environment);
    }

    /// <summary>
    /// The one place a Silo process is started: <c>dotnet <paramref name="dll"/></c> in the dll's folder, its output in a
    /// log of its own in <paramref name="logFolder"/>, listening on and advertising <paramref name="address"/> with free
    /// silo, gateway and dashboard ports, logging warnings and above; <paramref name="settings"/> are added to (or
    /// override) its environment.
    /// </summary>
    public static SiloProcess Launch(string dll, string address, string connectionString, string clusterId, string logFolder,
        IReadOnlyDictionary<string, string> settings)
    {
        var siloPort = FreePort();
        var gatewayPort = FreePort();
        var dashboardPort = FreePort();
        var log = Path.Combine(logFolder, $"silo-{address}-{siloPort}.log");
        var info = new ProcessStartInfo("bash", ["-c", $"exec dotnet \"{dll}\" > \"{log}\" 2>&1"])
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Backtesting"] = connectionString,
            ["Silo__ClusterId"] = clusterId,
            ["Silo__AdvertisedAddress"] = address,
            ["Silo__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Silo__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Silo__DashboardPort"] = dashboardPort.ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new SiloProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start bash"), address, siloPort, dashboardPort, log);
    }

    /// <summary>The (address, silo port) of every row of the cluster's membership table, whatever its status.</summary>
    public static async Task<List<(string Address, int Port)>> MembershipEndpoints(string connectionString, string clusterId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT address, port FROM orleans_membership WHERE deployment_id = @cluster", connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        await using var reader = await command.ExecuteReaderAsync();
        var endpoints = new List<(string, int)>();
        while (await reader.ReadAsync())
        {
            endpoints.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return endpoints;
    }

    /// <summary>
    /// A client of the cluster, connected once a silo has joined (a client with no gateway listed gives up at once) and,
    /// with <paramref name="activeSilos"/>, once that many silos are active in its membership table (the logs of
    /// <paramref name="silos"/> are shown if they never are). It logs errors only.
    /// </summary>
    public static async Task<IHost> ConnectClient(string connectionString, string clusterId, int activeSilos = 0,
        IReadOnlyList<SiloProcess>? silos = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(activeSilos > 0 ? 3 : 2);
        while (true)
        {
            var host = BuildClient(connectionString, clusterId);
            try
            {
                await host.StartAsync();
                var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
                while (activeSilos > 0 && (await management.GetHosts(onlyActive: true)).Count < activeSilos)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"{activeSilos} silos did not join in time:\n" + string.Join("\n", (silos ?? []).Select(h => h.Log)));
                    }

                    await Task.Delay(500);
                }

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
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = ClusterIdentity.DefaultServiceId;
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
}
