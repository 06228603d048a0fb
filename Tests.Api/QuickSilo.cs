using System.Net;
using Backtesting.Engine.Data;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Interfaces;
using Backtesting.Tests;
using Backtesting.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Backtesting.Tests.Api;

/// <summary>
/// The silo the Tests.Api classes with a cluster of their own start in their process: on loopback ports of its own,
/// the in-process runner over the test data (or the runner a test wraps around it), and supervision, checkpoints and recovery reminders fast enough that a
/// restart is seen within a test. A test adds what it needs beyond (the dashboard).
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
        silo.AddBacktestingCluster(connectionString, o =>
        {
            o.Runner = "inProcess";
            o.DataDirectory = TestPaths.LeanData;
            o.WorkDirectory = work;
            o.SupervisionTick = TimeSpan.FromMilliseconds(500);
            o.CheckpointInterval = TimeSpan.FromMilliseconds(200);
            o.RecoveryReminderPeriod = TimeSpan.FromSeconds(2);
        });
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        silo.Services.AddSingleton<IBacktestRunner>(sp =>
        {
            var runner = new InProcessRunner(sp.GetRequiredService<IMarketDataProvider>());
            return wrapRunner is null ? runner : wrapRunner(runner);
        });
    }
}
