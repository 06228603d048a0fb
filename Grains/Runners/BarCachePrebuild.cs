using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;

namespace Backtesting.Grains.Runners;

/// <summary>
/// Builds the bar cache entries a run will read before its container starts: the container mounts the cache
/// read-only, so whatever is missing there it would read from the zips. Only the config's instruments, resolution and
/// adjustment are built; anything the config does not name (or a config that does not parse) is left to the run.
/// </summary>
public static class BarCachePrebuild
{
    /// <summary>Builds (or finds valid) the entries of the config's instruments; returns how many it checked.</summary>
    public static int Run(string dataDirectory, string cacheDirectory, string configJson)
    {
        var (config, _) = ConfigValidator.Parse(configJson);
        if (config is null
            || !EnumWords.TryParse<Resolution>(config.DataConfiguration.Resolution, out var resolution)
            || !EnumWords.TryParse<DataType>(config.DataConfiguration.DataType, out var dataType)
            || !EnumWords.TryParse<PriceAdjustment>(config.DataConfiguration.Adjustment, out var adjustment)
            || dataType != DataType.Bars || resolution == Resolution.Tick)
        {
            return 0;
        }

        var provider = new LeanDataProvider(dataDirectory, new LeanDataProviderOptions(cacheDirectory));
        var checkedEntries = 0;
        foreach (var symbol in config.Instruments.Append(config.Benchmark).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (!provider.Catalog.TryResolve(symbol, out var instrument)
                || provider.Catalog.Availability(instrument, resolution, DataType.Bars) is not { } range)
            {
                continue;
            }

            // The data version reads the entry's manifest, building the entry first when it is missing or stale.
            provider.DataVersion(instrument, new DataRequest(resolution, DataType.Bars, adjustment, range.First, range.Last));
            checkedEntries++;
        }

        return checkedEntries;
    }
}
