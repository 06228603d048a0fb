using System.Diagnostics;
using System.Globalization;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Backtesting.Benchmarks;

/// <summary>
/// A Silo process of the real host (Silo/Program.cs, the built Backtesting.Silo.dll) started by a benchmark, on a loopback
/// address of its own (127.0.0.2, 127.0.0.3, ...), as separate hosts would be: its silo and gateway endpoints listen on
/// and advertise that address (Silo:AdvertisedAddress).
/// </summary>
internal sealed class SiloHost(Process process, string address, string log) : IDisposable
{
    public Process Process { get; } = process;
    public string Address { get; } = address;
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

internal static class SiloHosts
{
    /// <summary>The address of the <paramref name="index"/>-th silo (from 0): 127.0.0.2 on, never 127.0.0.1, always in 127.0.0.0/8.</summary>
    public static string Address(int index) => index is >= 0 and < 250
        ? string.Create(CultureInfo.InvariantCulture, $"127.0.0.{index + 2}")
        : throw new ArgumentOutOfRangeException(nameof(index), "at most 250 silos on the loopback range");

    /// <summary>
    /// The Silo's dll as the build left it beside this program's: Silo/bin/&lt;configuration&gt;/&lt;framework&gt;/ (the Benchmarks
    /// project references Silo for the build order only).
    /// </summary>
    public static string SiloDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var dll = Path.Combine(RepositoryRoot.Find(), "Silo", "bin", configuration, framework, "Backtesting.Silo.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the Silo first (dotnet build Silo -c {configuration})", dll);
    }

    public static SiloHost Start(int index, string connectionString, string clusterId, string logFolder, IReadOnlyDictionary<string, string> settings)
    {
        var address = Address(index);
        var log = Path.Combine(logFolder, $"silo-{index}.log");
        var dll = SiloDll();
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
            ["Silo__SiloPort"] = ClusterBench.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Silo__GatewayPort"] = ClusterBench.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Silo__DashboardPort"] = ClusterBench.FreePort().ToString(CultureInfo.InvariantCulture),
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

        return new SiloHost(Process.Start(info) ?? throw new InvalidOperationException("could not start bash"), address, log);
    }

    /// <summary>An Orleans client of the cluster, once <paramref name="silos"/> silos are active in its membership table.</summary>
    public static async Task<IHost> ConnectAsync(string connectionString, string clusterId, int silos, IReadOnlyList<SiloHost> hosts)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Error);
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
            var host = builder.Build();
            try
            {
                await host.StartAsync();
                var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
                while ((await management.GetHosts(onlyActive: true)).Count < silos)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"{silos} silos did not join in time:\n" + string.Join("\n", hosts.Select(h => h.Log)));
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
}
