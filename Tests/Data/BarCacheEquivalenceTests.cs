using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Cache;

namespace Backtesting.Tests.Data;

/// <summary>
/// For every bundled instrument, every bar resolution it has and every adjustment: reads through a cold cache, a warm
/// one and a read-only warm one are bit-identical to reading the zips, for requests of every shape, and the data
/// version taken from the cache's stored hashes equals the one hashed afresh.
/// </summary>
public class BarCacheEquivalenceTests
{
    private static readonly LeanDataProvider Zips = new(TestPaths.LeanData);

    private static readonly Resolution[] BarResolutions = [Resolution.Daily, Resolution.Hour, Resolution.Minute];

    public static TheoryData<string> Instruments()
    {
        var data = new TheoryData<string>();
        foreach (var instrument in Zips.Catalog.Instruments)
            data.Add(instrument.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Instruments))]
    public void Cold_warm_and_read_only_reads_equal_the_zips(string id)
    {
        Assert.True(Zips.Catalog.TryResolve(id, out var instrument));
        using var folder = new TempFolder();
        var cacheDir = Path.Combine(folder.Path, "cache");
        using var builds = new BuildCounter(cacheDir);
        var cold = new LeanDataProvider(TestPaths.LeanData, new LeanDataProviderOptions(cacheDir));
        var compared = 0;
        var requests = Requests(instrument).ToList();
        foreach (var request in requests)
        {
            var expected = BarCacheTestKit.Read(Zips, instrument, request);
            BarCacheTestKit.AssertIdentical(expected, BarCacheTestKit.Read(cold, instrument, request), $"{id} cold {request}");
            Assert.Equal(Zips.DataVersion(instrument, request), cold.DataVersion(instrument, request));
            compared++;
        }

        Assert.True(compared > 0, $"{id} has no bar data to compare");
        // One entry per resolution and effective adjustment, whatever the number of requests, and every one of them
        // built: a build that failed would have fallen back to the zips and hidden itself from the comparison.
        var adjustable = instrument.AssetClass == AssetClass.Equity
            && File.Exists(TestPaths.Lean("equity", "usa", "factor_files", instrument.Symbol.ToLowerInvariant() + ".csv"));
        var expectedEntries = requests
            .Select(r => cold.BarCache!.EntryPath(id, r.Resolution, adjustable ? r.Adjustment : PriceAdjustment.Raw))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedEntries, builds.Entries.Order(StringComparer.Ordinal));
        Assert.All(expectedEntries, entry => Assert.True(File.Exists(entry), entry));
        var entries = builds.Count;

        var before = BarCacheTestKit.Snapshot(cacheDir);
        var warm = new LeanDataProvider(TestPaths.LeanData, new LeanDataProviderOptions(cacheDir));
        var readOnly = new LeanDataProvider(TestPaths.LeanData, new LeanDataProviderOptions(cacheDir, BarCacheReadOnly: true));
        foreach (var request in requests)
        {
            var expected = BarCacheTestKit.Read(Zips, instrument, request);
            BarCacheTestKit.AssertIdentical(expected, BarCacheTestKit.Read(warm, instrument, request), $"{id} warm {request}");
            BarCacheTestKit.AssertIdentical(expected, BarCacheTestKit.Read(readOnly, instrument, request), $"{id} read-only {request}");
            Assert.Equal(Zips.DataVersion(instrument, request), warm.DataVersion(instrument, request));
            Assert.Equal(Zips.DataVersion(instrument, request), readOnly.DataVersion(instrument, request));
        }

        Assert.Equal(entries, builds.Count);
        Assert.Equal(before, BarCacheTestKit.Snapshot(cacheDir));
    }

    /// <summary>Every resolution and adjustment the instrument has, in several shapes: the whole range, windows
    /// inside (each read checks only the blocks it touches), windows past either end, the first, a middle and the last
    /// day, warm-up bars, regular session only and extended hours.</summary>
    private static IEnumerable<DataRequest> Requests(Instrument instrument)
    {
        foreach (var resolution in BarResolutions)
        {
            if (Zips.Catalog.Availability(instrument, resolution, DataType.Bars) is not { } range)
                continue;
            var span = range.Last.DayNumber - range.First.DayNumber;
            var third = DateOnly.FromDayNumber(range.First.DayNumber + (span / 3));
            var twoThirds = DateOnly.FromDayNumber(range.First.DayNumber + (2 * span / 3));
            var days = Zips.Open(instrument, 0, new DataRequest(resolution, DataType.Bars, PriceAdjustment.Raw, range.First, range.Last))
                .ReadDays();
            var middleDay = days[days.Count / 2];
            foreach (var adjustment in Enum.GetValues<PriceAdjustment>())
            {
                foreach (var extended in new[] { false, true })
                {
                    DataRequest Make(DateOnly start, DateOnly end, int warmup = 0) =>
                        new(resolution, DataType.Bars, adjustment, start, end, warmup, extended);
                    yield return Make(range.First, range.Last);
                    yield return Make(third, twoThirds);
                    yield return Make(range.First.AddDays(-40), third);
                    yield return Make(twoThirds, range.Last.AddDays(40));
                    yield return Make(middleDay, middleDay);
                    yield return Make(days[0], days[0]);
                    yield return Make(days[^1], days[^1]);
                    yield return Make(days[days.Count / 4], days[(3 * days.Count) / 4]);
                    yield return Make(middleDay, range.Last, warmup: 25);
                    yield return Make(third, twoThirds, warmup: 1000);
                }
            }
        }
    }
}

internal static class SourceDays
{
    /// <summary>The distinct local days of a source, in order (disposes it).</summary>
    public static List<DateOnly> ReadDays(this IMarketDataSource source) =>
        [.. LeanReaderTests.ReadAll(source).Select(p => p.Date).Distinct()];
}
