using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;

namespace Backtesting.Tests.Data;

/// <summary>A source over points held in memory, for tests.</summary>
internal sealed class ListSource(IEnumerable<MarketData> points) : IMarketDataSource
{
    private readonly IEnumerator<MarketData> _points = points.GetEnumerator();

    public long Count => -1;

    public bool TryRead(out MarketData point)
    {
        var more = _points.MoveNext();
        point = more ? _points.Current : default;
        return more;
    }

    public void Dispose() => _points.Dispose();
}

public class DataQualityTests
{
    private static readonly Instrument Spy = new("SPY", "ARCA", AssetClass.Equity, "USD", 1, 0.01, "usa", "America/New_York");

    private static MarketData Bar(int dayOffset, double close, double volume = 1000, double? high = null, double? low = null)
    {
        var date = new DateOnly(2013, 10, 7).AddDays(dayOffset);
        var time = date.ToDateTime(new TimeOnly(13, 30), DateTimeKind.Utc).Ticks;
        return MarketData.CreateBar(0, time, time + TimeSpan.TicksPerHour, date.DayNumber,
            close, high ?? close + 1, low ?? close - 1, close, volume);
    }

    private static (List<MarketData> Kept, QualityFilteredSource Source) Filter(QualityFilters filters, params MarketData[] bars)
    {
        var source = new QualityFilteredSource(new ListSource(bars), filters, "SPY.ARCA");
        var kept = new List<MarketData>();
        while (source.TryRead(out var p))
            kept.Add(p);
        return (kept, source);
    }

    [Fact]
    public void Drops_invalid_bars()
    {
        var (kept, source) = Filter(new QualityFilters(),
            Bar(0, 100), Bar(1, 0), Bar(2, -5), Bar(3, 100, high: 99, low: 101), Bar(4, double.NaN), Bar(5, 101));

        Assert.Equal([100.0, 101.0], kept.Select(b => b.Close));
        Assert.Equal(new DataQualityCounts("SPY.ARCA", 6, 4, 0, 0, 0), source.Counts);
        Assert.Equal(2, source.Counts.Kept);
    }

    [Fact]
    public void Keeps_invalid_bars_when_the_filter_is_off()
    {
        var (kept, _) = Filter(new QualityFilters { DropInvalid = false }, Bar(0, 100), Bar(1, 0));
        Assert.Equal(2, kept.Count);
    }

    [Fact]
    public void Drops_zero_volume_only_when_asked_and_only_for_traded_data()
    {
        var quoteBar = Bar(2, 100, volume: 0);
        quoteBar.Bid = 99.9;
        quoteBar.Ask = 100.1;
        var bars = new[] { Bar(0, 100, volume: 0), Bar(1, 100), quoteBar };

        var (keptDefault, _) = Filter(new QualityFilters(), bars);
        Assert.Equal(3, keptDefault.Count);

        var (kept, source) = Filter(new QualityFilters { DropZeroVolume = true }, bars);
        Assert.Equal(2, kept.Count);
        Assert.Equal(1, source.Counts.DroppedZeroVolume);
    }

    [Fact]
    public void Drops_a_one_bar_spike()
    {
        var (kept, source) = Filter(new QualityFilters { SpikeThreshold = 0.2 },
            Bar(0, 100), Bar(1, 101), Bar(2, 150), Bar(3, 102), Bar(4, 103));

        Assert.Equal([100.0, 101.0, 102.0, 103.0], kept.Select(b => b.Close));
        Assert.Equal(1, source.Counts.DroppedSpikes);
    }

    [Fact]
    public void Accepts_a_level_shift_confirmed_by_the_next_bar()
    {
        var (kept, source) = Filter(new QualityFilters { SpikeThreshold = 0.2 },
            Bar(0, 100), Bar(1, 150), Bar(2, 151), Bar(3, 152));

        Assert.Equal([100.0, 151.0, 152.0], kept.Select(b => b.Close));
        Assert.Equal(1, source.Counts.DroppedSpikes);
    }

    [Fact]
    public void Reports_missing_sessions_against_the_calendar()
    {
        // Mon 2013-10-07 .. Fri 2013-10-11 traded; Wednesday's bar is invalid and dropped.
        var (_, source) = Filter(new QualityFilters(),
            Bar(0, 100), Bar(1, 100), Bar(2, 0), Bar(3, 100), Bar(4, 100));
        var report = source.Report(MarketCalendarTests.Calendar, Spy, new DateOnly(2013, 10, 7), new DateOnly(2013, 10, 13));

        Assert.Equal(1, report.MissingSessions);
        Assert.Equal(1, report.DroppedInvalid);
        Assert.Equal([new DateOnly(2013, 10, 9)], GapReport.MissingSessions(MarketCalendarTests.Calendar, Spy,
            source.ObservedLocalDays, new DateOnly(2013, 10, 7), new DateOnly(2013, 10, 13)));
    }

    [Fact]
    public void Gap_report_ignores_holidays()
    {
        // 2013-07-04 is a holiday: a week with data on the other four weekdays has no gap.
        var days = new[] { 1, 2, 3, 5 }.Select(d => new DateOnly(2013, 7, d).DayNumber);
        Assert.Equal(0, GapReport.CountMissingSessions(MarketCalendarTests.Calendar, Spy, days,
            new DateOnly(2013, 7, 1), new DateOnly(2013, 7, 7)));
    }
    [Fact]
    public void Gap_report_finds_the_same_missing_sessions_whatever_the_order_of_the_observed_days()
    {
        // October 2013: 23 sessions. Observed: days before and after the range, duplicates, holes at the edges and inside.
        var start = new DateOnly(2013, 10, 1);
        var end = new DateOnly(2013, 10, 31);
        var ascending = new List<int> { new DateOnly(2013, 9, 30).DayNumber };
        for (var d = 2; d <= 30; d++)
        {
            if (d is not (9 or 10 or 22))
            {
                ascending.Add(new DateOnly(2013, 10, d).DayNumber);
                if (d % 7 == 0)
                    ascending.Add(new DateOnly(2013, 10, d).DayNumber);
            }
        }
        ascending.Add(new DateOnly(2013, 11, 1).DayNumber);
        DateOnly[] expected = [new(2013, 10, 1), new(2013, 10, 9), new(2013, 10, 10), new(2013, 10, 22), new(2013, 10, 31)];

        var shuffled = ascending.OrderBy(d => (d * 7919) % 31).ToList();
        Assert.NotEqual(ascending, shuffled);
        foreach (var observed in new IEnumerable<int>[] { ascending, shuffled, ascending.ToHashSet(), ascending.Select(d => d) })
        {
            Assert.Equal(expected, GapReport.MissingSessions(MarketCalendarTests.Calendar, Spy, observed, start, end));
            Assert.Equal(expected.Length, GapReport.CountMissingSessions(MarketCalendarTests.Calendar, Spy, observed, start, end));
        }

        Assert.Equal(23, GapReport.CountMissingSessions(MarketCalendarTests.Calendar, Spy, new List<int>(), start, end));
    }
}
