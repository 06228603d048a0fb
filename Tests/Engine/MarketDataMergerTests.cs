using Backtesting.Engine.Core;
using Backtesting.Engine.Data;

namespace Backtesting.Tests.Engine;

public class MarketDataMergerTests
{
    /// <summary>Points in EndTime order with repeated timestamps; Volume carries (source, position) to identify each.</summary>
    private static MarketData[] Stream(Random random, int source, int length)
    {
        var points = new MarketData[length];
        long time = random.Next(0, 5);
        for (var i = 0; i < length; i++)
        {
            time += random.Next(0, 3); // 0: the same timestamp again
            points[i] = MarketData.CreateTrade(source, time, 0, 100, (source * 1_000_000) + i);
        }

        return points;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(50)]
    public void MergesInTimeOrderWithTiesByInstrumentThenStreamOrder(int sources)
    {
        var random = new Random(20_240_101 + sources);
        var streams = Enumerable.Range(0, sources).Select(s => Stream(random, s, s % 4 == 3 ? 0 : random.Next(1, 400))).ToList();
        var expected = streams
            .SelectMany((points, s) => points.Select((p, i) => (p.EndTime, Source: s, Index: i, p.Volume)))
            .OrderBy(x => x.EndTime).ThenBy(x => x.Source).ThenBy(x => x.Index)
            .Select(x => x.Volume)
            .ToList();

        using var merger = new MarketDataMerger(streams.Select((points, s) => (IMarketDataSource)new InMemorySource(points, s)).ToList());
        Assert.Equal(expected.Count, merger.Count);
        var merged = new List<double>();
        while (merger.TryRead(out var point))
        {
            merged.Add(point.Volume);
        }

        Assert.Equal(expected, merged);
        Assert.False(merger.TryRead(out _));
    }
}
