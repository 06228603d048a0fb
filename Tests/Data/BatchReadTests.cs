using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;

namespace Backtesting.Tests.Data;

/// <summary>
/// The filters between a reader and the engine (the regular session, the date window with its warm-up, the quality
/// filters) read in batches: for every batch size, the points and the quality counts are those of reading one point at
/// a time, including batches that are all dropped, a window that ends inside a batch, and warm-up bars before the start.
/// </summary>
public class BatchReadTests
{
    private static readonly MarketHours UsEquity = MarketCalendar.FromDataRoot(TestPaths.LeanData).Hours("usa", AssetClass.Equity);
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly DateOnly First = new(2013, 11, 25);
    private static readonly int[] BatchSizes = [1, 2, 3, 7, 64, 256, 5000];

    /// <summary>Minute bars over four New York days around Thanksgiving 2013 (a holiday, then an early close), from
    /// 04:00 to 19:59, with bad, zero-volume and spiking bars sprinkled in by a fixed pattern.</summary>
    private static MarketData[] Days()
    {
        var points = new List<MarketData>();
        var price = 100.0;
        for (var day = First; day <= First.AddDays(4); day = day.AddDays(1))
        {
            for (var minute = 4 * 60; minute < 20 * 60; minute += 1)
            {
                var start = TimeZoneInfo.ConvertTimeToUtc(day.ToDateTime(new TimeOnly(minute / 60, minute % 60)), NewYork).Ticks;
                var n = points.Count;
                price += (n % 7) - 3 == 0 ? 0.01 : -0.01 * ((n % 5) - 2);
                var close = n % 97 == 0 ? price * 3 : price;
                var low = n % 89 == 0 ? close + 1 : close - 0.05;
                var volume = n % 13 == 0 ? 0 : 100 + n;
                points.Add(MarketData.CreateBar(0, start, start + TimeSpan.TicksPerMinute, day.DayNumber, price, close + 0.05, low, close, volume));
            }
        }

        return [.. points];
    }

    private static readonly QualityFilters Filters = new() { DropInvalid = true, DropZeroVolume = true, SpikeThreshold = 0.5 };

    private static QualityFilteredSource Chain(DateOnly start, DateOnly end, int warmup, bool regular) =>
        new(new DateWindowSource(regular ? new RegularSessionSource(new InMemorySource(Days(), 0), UsEquity) : new InMemorySource(Days(), 0),
            start, end, warmup), Filters, "SPY");

    private static List<MarketData> OneByOne(IMarketDataSource source)
    {
        var points = new List<MarketData>();
        while (source.TryRead(out var point))
            points.Add(point);
        return points;
    }

    private static List<MarketData> InBatches(IMarketDataSource source, int size)
    {
        var points = new List<MarketData>();
        var buffer = new MarketData[size];
        int n;
        while ((n = source.Read(buffer)) > 0)
            points.AddRange(buffer.AsSpan(0, n).ToArray());
        Assert.Equal(0, source.Read(buffer));
        return points;
    }

    public static TheoryData<int, int, int, bool> Shapes()
    {
        var shapes = new TheoryData<int, int, int, bool>();
        foreach (var regular in new[] { true, false })
        {
            // (first day offset, last day offset, warm-up bars): the whole span, a middle window (ends inside a batch),
            // a window after a holiday with warm-up bars, a window with more warm-up bars than exist, an empty window.
            foreach (var (from, to, warmup) in new[] { (0, 4, 0), (1, 2, 0), (3, 3, 50), (0, 1, 100_000), (9, 12, 5) })
                shapes.Add(from, to, warmup, regular);
        }

        return shapes;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_batch_size_reads_the_points_and_counts_that_one_by_one_reads(int from, int to, int warmup, bool regular)
    {
        var (start, end) = (First.AddDays(from), First.AddDays(to));
        using var single = Chain(start, end, warmup, regular);
        var expected = OneByOne(single);
        if (from == 0 && to == 4)
        {
            // The pattern does drop bars of every kind, or the comparison below would prove little.
            Assert.True(single.Counts.DroppedInvalid > 0 && single.Counts.DroppedZeroVolume > 0 && single.Counts.DroppedSpikes > 0);
        }

        foreach (var size in BatchSizes)
        {
            using var batched = Chain(start, end, warmup, regular);
            var read = InBatches(batched, size);
            Assert.Equal(expected.Count, read.Count);
            Assert.True(expected.SequenceEqual(read), $"batch size {size}: the points differ");
            Assert.Equal(single.Counts, batched.Counts);
            Assert.Equal(single.ObservedLocalDays, batched.ObservedLocalDays);
        }
    }

    [Fact]
    public void A_session_filter_whose_first_batches_are_all_outside_the_session_still_returns_the_session_s_bars()
    {
        using var single = new RegularSessionSource(new InMemorySource(Days(), 0), UsEquity);
        var expected = OneByOne(single);
        // 04:00 to 09:29 is 330 bars before the first one kept: several whole batches of 64 are dropped.
        using var batched = new RegularSessionSource(new InMemorySource(Days(), 0), UsEquity);
        Assert.True(expected.SequenceEqual(InBatches(batched, 64)));
        Assert.DoesNotContain(expected, p => p.LocalDay == First.AddDays(3).DayNumber);
    }
}
