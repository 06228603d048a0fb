using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Lean;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

public class MarketCalendarTests
{
    internal static readonly MarketCalendar Calendar = MarketCalendar.FromDataRoot(TestPaths.LeanData);

    [Fact]
    public void Us_equity_holidays_weekends_and_early_closes()
    {
        Assert.False(Calendar.IsTradingDay("usa", AssetClass.Equity, new DateOnly(2013, 7, 4)));
        Assert.False(Calendar.IsTradingDay("usa", AssetClass.Equity, new DateOnly(2020, 1, 1)));
        Assert.False(Calendar.IsTradingDay("usa", AssetClass.Equity, new DateOnly(2013, 7, 6))); // Saturday
        Assert.True(Calendar.IsTradingDay("usa", AssetClass.Equity, new DateOnly(2013, 7, 5)));

        Assert.Equal(new TimeSpan(13, 0, 0), Calendar.MarketClose("usa", AssetClass.Equity, new DateOnly(2013, 11, 29)));
        Assert.Equal(new TimeSpan(16, 0, 0), Calendar.MarketClose("usa", AssetClass.Equity, new DateOnly(2013, 11, 27)));
        Assert.Null(Calendar.MarketClose("usa", AssetClass.Equity, new DateOnly(2013, 7, 4)));
        Assert.Equal(new TimeSpan(9, 30, 0), Calendar.MarketOpen("usa", AssetClass.Equity, new DateOnly(2013, 11, 29)));
    }

    [Fact]
    public void Trading_days_match_spy_daily_bars()
    {
        var bars = LeanReaderTests.ReadAll(LeanReaders.EquityDaily(TestPaths.Lean("equity", "usa", "daily", "spy.zip"), 0));
        foreach (var year in new[] { 2013, 2020 })
        {
            var days = Calendar.TradingDays("usa", AssetClass.Equity, new DateOnly(year, 1, 1), new DateOnly(year, 12, 31)).ToList();
            var barDays = bars.Where(b => b.Date.Year == year).Select(b => b.Date).ToList();
            Assert.Equal(barDays, days);
        }
    }

    [Fact]
    public void Crypto_trades_every_day()
    {
        var days = Calendar.TradingDays("coinbase", AssetClass.Crypto, new DateOnly(2020, 1, 1), new DateOnly(2020, 12, 31)).Count();
        Assert.Equal(366, days);
        Assert.Equal(TimeZoneInfo.Utc.Id, Calendar.Hours("coinbase", AssetClass.Crypto).ExchangeTimeZone.Id);
    }

    [Fact]
    public void Forex_trades_sunday_to_friday()
    {
        Assert.True(Calendar.IsTradingDay("oanda", AssetClass.Forex, new DateOnly(2015, 3, 15))); // Sunday evening session
        Assert.False(Calendar.IsTradingDay("oanda", AssetClass.Forex, new DateOnly(2015, 3, 14))); // Saturday
        var hours = Calendar.Hours("oanda", AssetClass.Forex);
        Assert.Equal("UTC", hours.DataTimeZone.Id);
        Assert.Equal("America/New_York", hours.ExchangeTimeZone.Id);
        Assert.Equal(new TimeSpan(17, 0, 0), hours.MarketClose(new DateOnly(2018, 12, 31)));
    }

    [Fact]
    public void Unknown_market_falls_back_to_weekdays()
    {
        Assert.True(Calendar.IsTradingDay("nowhere", AssetClass.Equity, new DateOnly(2020, 1, 1)));
        Assert.False(Calendar.IsTradingDay("nowhere", AssetClass.Equity, new DateOnly(2020, 1, 4)));
        Assert.True(Calendar.IsTradingDay("nowhere", AssetClass.Crypto, new DateOnly(2020, 1, 4)));
    }
}
