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
    public static IServiceCollection AddBacktestingSerialization(this IServiceCollection services)
    {
        // Orleans serializes exceptions only from namespaces it knows; an Npgsql exception nested inside an Orleans
        // one would otherwise fail the whole response with a codec error and hide the real cause from the caller.
        services.Configure<ExceptionSerializationOptions>(options =>
        {
            options.SupportedNamespacePrefixes.Add("Npgsql");
            options.SupportedNamespacePrefixes.Add("Backtesting");
        });
        return services.AddSerializer(serializer => serializer.AddJsonSerializer(
            type => type.Namespace?.StartsWith("Backtesting.Engine", StringComparison.Ordinal) == true,
            JsonDefaults.Options));
    }
}
