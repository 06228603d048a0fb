using System.Net;
using Backtesting.Grains;
using Backtesting.Silo;
using Backtesting.Grains.Hosting;
using Backtesting.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using Orleans.Configuration;
using Orleans.Hosting;

// Configuration: appsettings.json, then environment variables (Silo__SiloPort=11112, Backtesting__Runner=inProcess, ...),
// then the command line. BACKTESTING_DB is accepted as the connection string for convenience.
var builder = WebApplication.CreateBuilder(args);
var configuration = builder.Configuration;
var connectionString = DatabaseConnection.Resolve(configuration.GetConnectionString(DatabaseConnection.Name));

// Every silo applies the schema at start-up; the migrator is idempotent and serialized by an advisory lock.
await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);

// Our own section: the "Orleans" section is read by Orleans itself (provider configuration).
var orleans = configuration.GetSection("Silo");
var advertisedAddress = orleans["AdvertisedAddress"] ?? "127.0.0.1";
var siloPort = orleans.GetValue("SiloPort", 11111);
var gatewayPort = orleans.GetValue("GatewayPort", 30000);
builder.UseOrleans(silo =>
{
    silo.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = orleans["ClusterId"] ?? Backtesting.Grains.Interfaces.ClusterIdentity.DefaultClusterId;
        o.ServiceId = orleans["ServiceId"] ?? Backtesting.Grains.Interfaces.ClusterIdentity.DefaultServiceId;
    });
    silo.ConfigureEndpoints(
        IPAddress.Parse(advertisedAddress),
        siloPort,
        gatewayPort,
        listenOnAnyHostAddress: orleans.GetValue("ListenOnAnyAddress", false));
    // Failure detection and reminder granularity are tunable (tests shorten them to see a crash recovered quickly).
    silo.Configure<ClusterMembershipOptions>(orleans.GetSection("Membership"));
    silo.Configure<ReminderOptions>(orleans.GetSection("Reminders"));
    silo.AddBacktestingCluster(connectionString, o => configuration.GetSection(BacktestClusterOptions.Section).Bind(o));
    silo.AddDashboard();
});

// Orleans' dashboard has no authentication of its own: it listens on loopback only (the API will offer it to
// admins behind their keys).
var dashboardPort = orleans.GetValue("DashboardPort", 8081);
builder.WebHost.UseUrls($"http://127.0.0.1:{dashboardPort}");

var host = builder.Build();
host.MapOrleansDashboard("/dashboard");
try
{
    await host.StartAsync();
}
catch (OptionsValidationException e)
{
    // A setting that cannot mean anything (Backtesting:MaxDurationYears=0, ...) stops the silo before it joins, saying which.
    Console.Error.WriteLine("silo not started: " + string.Join("; ", e.Failures));
    return 2;
}

Console.WriteLine($"silo up: {advertisedAddress}:{siloPort}, gateway {gatewayPort}, " +
                  $"dashboard http://127.0.0.1:{dashboardPort}/dashboard");

// Silo:Demo names a config file to run through the cluster once the silo is up: how ./run.sh shows the whole
// path (grain, queue, runner, PostgreSQL) before the API exists.
if (orleans["Demo"] is { Length: > 0 } demo)
{
    await DemoRun.RunAsync(host.Services.GetRequiredService<IClusterClient>(), demo);
}

await host.WaitForShutdownAsync();
return 0;
