using Backtesting.Engine.Data;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

public class LeanDataProviderTests
{
    internal static readonly LeanDataProvider Provider = new(TestPaths.LeanData);

    private static Instrument Resolve(string id)
    {
        Assert.True(Provider.Catalog.TryResolve(id, out var instrument), id);
        return instrument;
    }

    private static DateOnly D(int y, int m, int d) => new(y, m, d);

    private static List<MarketData> Read(string id, DataRequest request, int index = 0) =>
        LeanReaderTests.ReadAll(Provider.Open(Resolve(id), index, request));

    [Fact]
    public void Catalog_lists_equities_forex_and_crypto()
    {
        var ids = Provider.Catalog.Instruments.Select(i => i.Id).ToHashSet();
        foreach (var id in new[] { "SPY.ARCA", "QQQ.NASDAQ", "AAPL.NASDAQ", "IBM.NYSE", "BAC.NYSE", "SHY.NASDAQ", "TWX.NYSE",
                     "EURUSD.OANDA", "GBPUSD.OANDA", "EURGBP.OANDA", "NZDUSD.OANDA", "BTCUSD.COINBASE" })
        {
            Assert.Contains(id, ids);
        }
        Assert.Equal(ids.Count, Provider.Catalog.Instruments.Count);
    }

    [Fact]
    public void Resolves_symbols_and_ids()
    {
        Assert.Equal("SPY.ARCA", Resolve("SPY").Id);
        Assert.Equal("SPY.ARCA", Resolve("SPY.ARCA").Id);
        Assert.Equal("EURUSD.OANDA", Resolve("EURUSD").Id);
        Assert.False(Provider.Catalog.TryResolve("spy", out _));
        Assert.False(Provider.Catalog.TryResolve("SPY.NYSE", out _));
        Assert.False(Provider.Catalog.TryResolve("MSFT", out _));
    }

    [Fact]
    public void Instrument_properties()
    {
        Assert.Equal(new Instrument("SPY", "ARCA", AssetClass.Equity, "USD", 1, 0.01, "usa", "America/New_York"), Resolve("SPY"));
        Assert.Equal(new Instrument("EURUSD", "OANDA", AssetClass.Forex, "USD", 1, 0.00001, "oanda", "America/New_York"), Resolve("EURUSD"));
        Assert.Equal(new Instrument("EURGBP", "OANDA", AssetClass.Forex, "GBP", 1, 0.00001, "oanda", "America/New_York"), Resolve("EURGBP"));
        Assert.Equal(new Instrument("BTCUSD", "COINBASE", AssetClass.Crypto, "USD", 0.00000001, 0.01, "coinbase", "UTC"), Resolve("BTCUSD"));
    }

    [Fact]
    public void Spy_availability_per_resolution_and_type()
    {
        var spy = Resolve("SPY");
        var catalog = Provider.Catalog;
        Assert.Equal(new DateRange(D(1998, 1, 2), D(2021, 3, 31)), catalog.Availability(spy, Resolution.Daily, DataType.Bars));
        Assert.Equal(new DateRange(D(1998, 1, 2), D(2021, 3, 31)), catalog.Availability(spy, Resolution.Hour, DataType.Bars));
        Assert.Equal(new DateRange(D(2013, 10, 4), D(2023, 8, 3)), catalog.Availability(spy, Resolution.Minute, DataType.Bars));
        Assert.Equal(new DateRange(D(2013, 10, 7), D(2013, 10, 11)), catalog.Availability(spy, Resolution.Tick, DataType.Ticks));
        Assert.Null(catalog.Availability(spy, Resolution.Tick, DataType.Bars));
        Assert.Null(catalog.Availability(spy, Resolution.Daily, DataType.Ticks));
        Assert.Null(catalog.Availability(Resolve("QQQ"), Resolution.Hour, DataType.Bars));
    }

    [Fact]
    public void Forex_and_crypto_availability()
    {
        Assert.Equal(new DateRange(D(2014, 12, 1), D(2018, 8, 13)),
            Provider.Catalog.Availability(Resolve("BTCUSD.COINBASE"), Resolution.Daily, DataType.Bars));
        Assert.Equal(new DateRange(D(2007, 1, 1), D(2018, 12, 31)),
            Provider.Catalog.Availability(Resolve("EURUSD.OANDA"), Resolution.Daily, DataType.Bars));
        Assert.Null(Provider.Catalog.Availability(Resolve("EURUSD.OANDA"), Resolution.Minute, DataType.Bars));
    }

    [Fact]
    public void Open_restricts_to_the_date_range()
    {
        var bars = Read("SPY", new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.Raw, D(2013, 10, 1), D(2013, 10, 31)), index: 7);

        Assert.Equal(23, bars.Count);
        Assert.All(bars, b => Assert.InRange(b.Date, D(2013, 10, 1), D(2013, 10, 31)));
        Assert.All(bars, b => Assert.Equal(7, b.Instrument));
    }

    [Fact]
    public void Daily_bars_end_at_the_calendar_close()
    {
        var bars = Read("SPY", new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.Raw, D(2013, 11, 27), D(2013, 11, 29)));
        Assert.Equal(new DateTime(2013, 11, 29, 18, 0, 0, DateTimeKind.Utc).Ticks, bars.Single(b => b.Date == D(2013, 11, 29)).EndTime);
        Assert.Equal(new DateTime(2013, 11, 27, 21, 0, 0, DateTimeKind.Utc).Ticks, bars.Single(b => b.Date == D(2013, 11, 27)).EndTime);
    }

    [Fact]
    public void Warmup_yields_the_last_bars_before_start()
    {
        var bars = Read("SPY", new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.SplitDividend, D(2013, 10, 1), D(2013, 10, 31), WarmupBars: 5));

        Assert.Equal(28, bars.Count);
        Assert.Equal([D(2013, 9, 24), D(2013, 9, 25), D(2013, 9, 26), D(2013, 9, 27), D(2013, 9, 30)], bars.Take(5).Select(b => b.Date));
        Assert.Equal(D(2013, 10, 1), bars[5].Date);
        LeanReaderTests.AssertOrdered(bars);
    }

    [Fact]
    public void Minute_warmup_reaches_into_the_previous_day_file()
    {
        // The whole file (the post-market of the 4th supplies the warm-up), so extended hours.
        var bars = Read("SPY", new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, D(2013, 10, 7), D(2013, 10, 7), WarmupBars: 10,
            ExtendedHours: true));

        Assert.Equal(10 + 828, bars.Count);
        Assert.All(bars.Take(10), b => Assert.Equal(D(2013, 10, 4), b.Date));
        Assert.Equal(new DateTime(2013, 10, 4, 23, 59, 0, DateTimeKind.Utc).Ticks, bars[9].Time);
        Assert.All(bars.Skip(10), b => Assert.Equal(D(2013, 10, 7), b.Date));
    }

    [Fact]
    public void Ticks_interleave_quotes_and_trades()
    {
        // Every tick of the files, pre- and post-market included.
        var ticks = Read("IBM", new DataRequest(Resolution.Tick, DataType.Ticks, PriceAdjustment.Raw, D(2013, 10, 7), D(2013, 10, 7),
            ExtendedHours: true));

        Assert.Equal(24_293, ticks.Count(t => t.Kind == MarketDataKind.TradeTick));
        Assert.Equal(109_067 - 1, ticks.Count(t => t.Kind == MarketDataKind.QuoteTick));
        LeanReaderTests.AssertOrdered(ticks);
    }

    [Fact]
    public void Forex_and_crypto_open()
    {
        var fx = Read("EURUSD", new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.SplitDividend, D(2015, 3, 12), D(2015, 3, 16)));
        Assert.Equal([D(2015, 3, 12), D(2015, 3, 13), D(2015, 3, 15), D(2015, 3, 16)], fx.Select(b => b.Date));
        Assert.Equal((1.06261 + 1.06275) / 2, fx[0].Close, 1e-12);

        var btc = Read("BTCUSD", new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.Raw, D(2018, 8, 1), D(2030, 1, 1)));
        Assert.Equal(13, btc.Count);
    }

    [Fact]
    public void Open_rejects_missing_data()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Provider.Open(Resolve("QQQ"), 0, new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, D(2013, 10, 7), D(2013, 10, 7))));
        Assert.Contains("QQQ.NASDAQ has no Minute Bars data", error.Message);
        Assert.Contains("Daily Bars 1999-03-10..2021-03-31", error.Message);
    }

    [Fact]
    public void Data_version_is_stable_and_tracks_the_request()
    {
        var spy = Resolve("SPY");
        var daily = new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.SplitDividend, D(2010, 1, 1), D(2012, 12, 31));
        var version = Provider.DataVersion(spy, daily);

        Assert.Matches("^[0-9a-f]{64}$", version);
        Assert.Equal(version, Provider.DataVersion(spy, daily));
        Assert.NotEqual(version, Provider.DataVersion(spy, daily with { Adjustment = PriceAdjustment.Raw }));
        Assert.NotEqual(version, Provider.DataVersion(Resolve("QQQ"), daily));

        var minute = new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, D(2013, 10, 7), D(2013, 10, 8));
        Assert.NotEqual(Provider.DataVersion(spy, minute), Provider.DataVersion(spy, minute with { End = D(2013, 10, 9) }));
    }

    [Fact]
    public void Data_version_is_the_same_in_a_copy_of_the_data()
    {
        using var temp = new TempFolder();
        foreach (var relative in new[] { "equity/usa/daily/spy.zip", "equity/usa/factor_files/spy.csv",
                     "equity/usa/primary-listings.csv", "market-hours/market-hours-database.json" })
        {
            var target = Path.Combine(temp.Path, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(TestPaths.LeanData, relative), target);
        }
        var copy = new LeanDataProvider(temp.Path);
        var request = new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.Split, D(2010, 1, 1), D(2012, 12, 31));

        Assert.True(copy.Catalog.TryResolve("SPY", out var spyInCopy));
        Assert.Equal(Provider.DataVersion(Resolve("SPY"), request), copy.DataVersion(spyInCopy, request));
        Assert.Single(copy.Catalog.Instruments);
    }
}
