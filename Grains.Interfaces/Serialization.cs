using Backtesting.Engine.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Backtesting.Grains.Interfaces;

public static class BacktestingSerialization
{
    /// <summary>
    /// Engine records (configs, protocol messages, results) cross grain boundaries as JSON with the project's one
    /// JSON convention, so the engine stays free of Orleans. Silos and clients both call this.
    /// </summary>
    public static IServiceCollection AddBacktestingSerialization(this IServiceCollection services) =>
        services.AddSerializer(serializer => serializer.AddJsonSerializer(
            type => type.Namespace?.StartsWith("Backtesting.Engine", StringComparison.Ordinal) == true,
            JsonDefaults.Options));
}
