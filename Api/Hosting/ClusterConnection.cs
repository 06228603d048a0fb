using Backtesting.Api.Realtime;
using Backtesting.Grains.Interfaces;
using Orleans.Configuration;

namespace Backtesting.Api.Hosting;

/// <summary>The API as an Orleans client of the silos, found through the membership table in PostgreSQL.</summary>
public static partial class ClusterConnection
{
    public static void UseBacktestingClusterClient(this WebApplicationBuilder builder, string connectionString)
    {
        var configuration = builder.Configuration;
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = Settings.ClusterId(configuration);
                o.ServiceId = Settings.ServiceId(configuration);
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = ClusterIdentity.AdoNetInvariant;
                o.ConnectionString = connectionString;
            });
            client.AddMemoryStreams(StreamNames.Provider);
            client.UseConnectionRetryFilter<RetryUntilConnected>();
            client.Services.AddBacktestingSerialization();
            client.Services.AddSingleton<IClusterConnectionStatusObserver, ResubscribeOnReconnect>();
        });
    }

    /// <summary>Keeps trying to reach a silo at start-up (the silos may start after the API); /health/ready says when it is connected.</summary>
    private sealed class RetryUntilConnected(ILogger<RetryUntilConnected> log) : IClientConnectionRetryFilter
    {
        private int _attempts;

        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            var attempt = Interlocked.Increment(ref _attempts);
            if (attempt == 1 || attempt % 15 == 0)
            {
                LogNoSilo(log, exception.Message);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return !cancellationToken.IsCancellationRequested;
        }
    }

    /// <summary>Stream subscriptions do not survive a lost connection: make them again once it is back.</summary>
    private sealed class ResubscribeOnReconnect(IServiceProvider services, ILogger<ResubscribeOnReconnect> log) : IClusterConnectionStatusObserver
    {
        public void NotifyClusterConnectionLost() => LogConnectionLost(log);

        public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
        {
            if (!connectionRecovered)
            {
                return;
            }

            LogReconnected(log, currentNumberOfGateways);
            var relay = services.GetRequiredService<BacktestEventRelay>();
            _ = Task.Run(relay.ResubscribeAllAsync);
            _ = Task.Run(services.GetRequiredService<OptimizationEventRelay>().ResubscribeAllAsync);
        }
    }
}
