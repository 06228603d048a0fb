using System.Net;
using Backtesting.Engine.Data;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Interfaces;
using Backtesting.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Backtesting.Tests.Api;

/// <summary>
/// The silo the Tests.Api classes with a cluster of their own start in their process: on loopback ports of its own,
/// the in-process runner over the test data (or the runner a test wraps around it), and the quick options of every test silo
/// (<see cref="TestClusterHost.QuickOptions"/>). A test adds what it needs beyond (the dashboard).
/// </summary>
internal static class QuickSilo
{
    public static void Configure(ISiloBuilder silo, string clusterId, string connectionString, string work,
        Func<IBacktestRunner, IBacktestRunner>? wrapRunner = null)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = ClusterIdentity.DefaultServiceId;
        });
        silo.ConfigureEndpoints(IPAddress.Loopback, SiloProcesses.FreePort(), SiloProcesses.FreePort(), listenOnAnyHostAddress: false);
        silo.AddBacktestingCluster(connectionString, o => TestClusterHost.QuickOptions(o, work));
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        silo.Services.AddSingleton<IBacktestRunner>(sp =>
        {
            var runner = new InProcessRunner(sp.GetRequiredService<IMarketDataProvider>());
            return wrapRunner is null ? runner : wrapRunner(runner);
        });
    }
}
