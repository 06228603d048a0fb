using Backtesting.Engine.Data;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

/// <summary>The regular-session filter on its edges: the open, the close, an early close, a holiday, ticks on the bell.</summary>
public class RegularSessionSourceTests
{
    private static readonly MarketHours UsEquity = MarketCalendar.FromDataRoot(TestPaths.LeanData).Hours("usa", AssetClass.Equity);
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private static long Utc(DateOnly date, int hour, int minute, int second = 0) =>
        TimeZoneInfo.ConvertTimeToUtc(date.ToDateTime(new TimeOnly(hour, minute, second)), NewYork).Ticks;

    private static MarketData MinuteBar(DateOnly date, int hour, int minute) =>
        MarketData.CreateBar(0, Utc(date, hour, minute), Utc(date, hour, minute) + TimeSpan.TicksPerMinute, date.DayNumber, 10, 10, 10, 10, 1);

    private static List<MarketData> Kept(params MarketData[] points)
    {
        using var source = new RegularSessionSource(new InMemorySource(points, 0), UsEquity);
        var kept = new List<MarketData>();
        while (source.TryRead(out var point))
            kept.Add(point);
        return kept;
    }

    private static readonly DateOnly Monday = new(2013, 10, 7);
    private static readonly DateOnly EarlyClose = new(2013, 11, 29);
    private static readonly DateOnly Thanksgiving = new(2013, 11, 28);

    [Fact]
    public void Minute_bars_are_kept_from_the_opening_bell_to_the_last_bar_ending_at_the_close()
    {
        var kept = Kept(MinuteBar(Monday, 4, 0), MinuteBar(Monday, 9, 29), MinuteBar(Monday, 9, 30), MinuteBar(Monday, 15, 59),
            MinuteBar(Monday, 16, 0), MinuteBar(Monday, 19, 59));
        Assert.Equal([Utc(Monday, 9, 30), Utc(Monday, 15, 59)], kept.Select(p => p.Time));
    }

    [Fact]
    public void On_an_early_close_the_last_bar_kept_ends_at_the_early_close()
    {
        var kept = Kept(MinuteBar(EarlyClose, 12, 59), MinuteBar(EarlyClose, 13, 0), MinuteBar(EarlyClose, 15, 59));
        Assert.Equal([Utc(EarlyClose, 12, 59)], kept.Select(p => p.Time));
    }

    [Fact]
    public void A_holiday_has_no_session_so_nothing_of_it_is_kept()
    {
        Assert.Empty(Kept(MinuteBar(Thanksgiving, 9, 30), MinuteBar(Thanksgiving, 12, 0)));
    }

    [Fact]
    public void A_bar_straddling_the_open_or_the_close_is_outside()
    {
        var straddleOpen = MarketData.CreateBar(0, Utc(Monday, 9, 29, 30), Utc(Monday, 9, 30, 30), Monday.DayNumber, 10, 10, 10, 10, 1);
        var straddleClose = MarketData.CreateBar(0, Utc(Monday, 15, 59, 30), Utc(Monday, 16, 0, 30), Monday.DayNumber, 10, 10, 10, 10, 1);
        Assert.Empty(Kept(straddleOpen, straddleClose));
    }

    [Fact]
    public void Ticks_count_from_the_opening_bell_and_stop_at_the_closing_bell()
    {
        var kept = Kept(
            MarketData.CreateTrade(0, Utc(Monday, 9, 29, 59), Monday.DayNumber, 10, 1),
            MarketData.CreateTrade(0, Utc(Monday, 9, 30), Monday.DayNumber, 10, 1),
            MarketData.CreateQuote(0, Utc(Monday, 15, 59, 59), Monday.DayNumber, 9.9, 1, 10.1, 1),
            MarketData.CreateTrade(0, Utc(Monday, 16, 0), Monday.DayNumber, 10, 1));
        Assert.Equal([Utc(Monday, 9, 30), Utc(Monday, 15, 59, 59)], kept.Select(p => p.Time));
    }

    [Theory]
    [InlineData(false, 390)]
    [InlineData(true, 828)]
    public void The_provider_reads_the_regular_session_unless_extended_hours_are_asked_for(bool extendedHours, int bars)
    {
        var provider = new LeanDataProvider(TestPaths.LeanData);
        Assert.True(provider.Catalog.TryResolve("SPY", out var spy));
        var request = new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, Monday, Monday, ExtendedHours: extendedHours);
        using var source = provider.Open(spy, 0, request);
        var count = 0;
        while (source.TryRead(out _))
            count++;
        Assert.Equal(bars, count);
        Assert.NotEqual(provider.DataVersion(spy, request), provider.DataVersion(spy, request with { ExtendedHours = !extendedHours }));
    }

    [Fact]
    public void Forex_and_daily_equity_data_ignore_the_session_setting()
    {
        var provider = new LeanDataProvider(TestPaths.LeanData);
        Assert.True(provider.Catalog.TryResolve("SPY", out var spy));
        Assert.True(provider.Catalog.TryResolve("EURUSD", out var eurusd));
        var daily = new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.Raw, Monday, Monday);
        Assert.False(LeanDataProvider.RegularSessionOnly(spy, daily));
        Assert.False(LeanDataProvider.RegularSessionOnly(eurusd, daily with { Resolution = Resolution.Minute }));
        Assert.True(LeanDataProvider.RegularSessionOnly(spy, daily with { Resolution = Resolution.Tick, DataType = DataType.Ticks }));
        Assert.Equal(provider.DataVersion(spy, daily), provider.DataVersion(spy, daily with { ExtendedHours = true }));
    }
}
