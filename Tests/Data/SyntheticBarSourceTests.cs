using Backtesting.Engine.Data;

namespace Backtesting.Tests.Data;

public class SyntheticBarSourceTests
{
    private static readonly DateOnly Monday = new(2024, 1, 8);

    private static List<MarketData> ReadAll(IMarketDataSource source)
    {
        var bars = new List<MarketData>();
        while (source.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        return bars;
    }

    [Fact]
    public void Same_seed_gives_same_bars_and_other_seeds_differ()
    {
        var first = ReadAll(new SyntheticBarSource(0, 2_000, seed: 42, Monday));
        var again = ReadAll(new SyntheticBarSource(0, 2_000, seed: 42, Monday));
        var other = ReadAll(new SyntheticBarSource(0, 2_000, seed: 43, Monday));

        Assert.Equal(first, again);
        Assert.NotEqual(first.Select(b => b.Close), other.Select(b => b.Close));
    }

    [Fact]
    public void Yields_exactly_count_bars_stamped_with_the_instrument()
    {
        using var source = new SyntheticBarSource(7, 1_000, seed: 1, Monday);
        Assert.Equal(1_000, source.Count);
        var bars = ReadAll(source);

        Assert.Equal(1_000, bars.Count);
        Assert.All(bars, b => Assert.Equal(7, b.Instrument));
        Assert.All(bars, b => Assert.Equal(MarketDataKind.Bar, b.Kind));
        Assert.False(source.TryRead(out _));
    }

    [Fact]
    public void Minute_sessions_run_on_weekdays_from_the_open()
    {
        // Friday's session, then the weekend is skipped: 390 bars on Friday and the rest on Monday.
        var friday = new DateOnly(2024, 1, 12);
        var bars = ReadAll(new SyntheticBarSource(0, 500, seed: 3, friday));

        var open = friday.ToDateTime(new TimeOnly(14, 30), DateTimeKind.Utc).Ticks;
        Assert.Equal(open, bars[0].Time);
        Assert.Equal(open + TimeSpan.TicksPerMinute, bars[0].EndTime);
        Assert.Equal(390, bars.Count(b => b.LocalDay == friday.DayNumber));
        Assert.Equal(110, bars.Count(b => b.LocalDay == friday.AddDays(3).DayNumber));
        Assert.Equal(friday.AddDays(3).ToDateTime(new TimeOnly(14, 30), DateTimeKind.Utc).Ticks, bars[390].Time);
        for (var i = 1; i < bars.Count; i++)
        {
            Assert.True(bars[i].Time >= bars[i - 1].EndTime, $"bar {i} starts before the previous one ends");
        }

        // A first day on a weekend starts on the Monday after.
        var fromSunday = ReadAll(new SyntheticBarSource(0, 1, seed: 3, new DateOnly(2024, 1, 14)));
        Assert.Equal(Monday.AddDays(7).DayNumber, fromSunday[0].LocalDay);
    }

    [Fact]
    public void Daily_bars_one_per_session()
    {
        var bars = ReadAll(new SyntheticBarSource(0, 10, seed: 5, Monday, barsPerDay: 1, barLength: TimeSpan.FromHours(6.5)));

        Assert.Equal(10, bars.Select(b => b.LocalDay).Distinct().Count());
        Assert.All(bars, b => Assert.Equal(TimeSpan.FromHours(6.5).Ticks, b.EndTime - b.Time));
        Assert.All(bars, b => Assert.True(DateOnly.FromDayNumber(b.LocalDay).DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)));
    }

    [Fact]
    public void Bars_are_consistent_and_prices_stay_in_a_range()
    {
        // A long run: the pull towards the start price keeps the walk positive and bounded.
        using var source = new SyntheticBarSource(0, 1_000_000, seed: 11, Monday, startPrice: 50);
        var previousClose = 50.0;
        double min = double.MaxValue, max = 0;
        while (source.TryRead(out var bar))
        {
            Assert.Equal(previousClose, bar.Open);
            if (!(bar.Low <= Math.Min(bar.Open, bar.Close) && bar.High >= Math.Max(bar.Open, bar.Close) && bar.Low > 0))
            {
                Assert.Fail($"inconsistent bar at {bar.Time}: O {bar.Open} H {bar.High} L {bar.Low} C {bar.Close}");
            }

            if (bar.Volume is < 1_000 or >= 10_000)
            {
                Assert.Fail($"volume {bar.Volume} out of range");
            }

            previousClose = bar.Close;
            min = Math.Min(min, bar.Close);
            max = Math.Max(max, bar.Close);
        }

        Assert.InRange(min, 10, 50);
        Assert.InRange(max, 50, 250);
        Assert.True(max / min > 1.2, "the walk should move");
    }

    [Fact]
    public void Rejects_impossible_settings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticBarSource(0, -1, 1, Monday));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticBarSource(0, 1, 1, Monday, barsPerDay: 0));
        Assert.Throws<ArgumentException>(() => new SyntheticBarSource(0, 1, 1, Monday, barsPerDay: 24 * 60));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticBarSource(0, 1, 1, Monday, startPrice: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticBarSource(0, 1, 1, Monday, volatility: double.NaN));
    }
}
