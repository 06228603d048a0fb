using Backtesting.Engine.Data;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

public sealed class CsvImporterTests : IDisposable
{
    private readonly TempFolder _root = new();

    public CsvImporterTests()
    {
        // A data folder with just the calendar: imports need the market hours, not LEAN's bars.
        Copy("market-hours/market-hours-database.json");
    }

    public void Dispose() => _root.Dispose();

    private void Copy(string relative)
    {
        var target = Path.Combine(_root.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(TestPaths.LeanData, relative), target);
    }

    private string WriteCsv(string name, string text)
    {
        var path = Path.Combine(_root.Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Yahoo = """
        Date,Open,High,Low,Close,Adj Close,Volume
        2020-01-02,100.0,101.5,99.5,101.0,95.0,1200
        2020-01-03,101.0,102.0,100.0,100.5,94.5,1300
        2020-01-06,100.5,103.0,100.5,102.5,96.4,1100
        2020-01-07,102.5,102.5,101.0,101.5,95.4,900

        """;

    private static DateOnly D(int y, int m, int d) => new(y, m, d);

    [Fact]
    public void Imports_yahoo_daily_bars_and_registers_the_instrument()
    {
        var result = CsvImporter.Import(WriteCsv("acme.csv", Yahoo), "ACME", "NYSE", AssetClass.Equity, "USD", _root.Path);

        Assert.Equal(Resolution.Daily, result.Resolution);
        Assert.Equal(4, result.BarCount);
        Assert.Equal((D(2020, 1, 2), D(2020, 1, 7)), (result.First, result.Last));
        Assert.Equal(Path.Combine(_root.Path, "custom", "nyse", "daily", "acme.bin"), result.BarFile);
        Assert.Equal(new Instrument("ACME", "NYSE", AssetClass.Equity, "USD", 1, 0.01, "usa", "America/New_York"), result.Instrument);
        Assert.Equal(
            ["symbol,venue,assetClass,quoteCurrency,lotSize,tickSize,timeZone", "ACME,NYSE,Equity,USD,1,0.01,America/New_York"],
            File.ReadAllLines(Path.Combine(_root.Path, "custom", "instruments.csv")));

        var provider = new LeanDataProvider(_root.Path);
        Assert.True(provider.Catalog.TryResolve("ACME", out var acme));
        Assert.Equal(result.Instrument, acme);
        Assert.Equal(new DateRange(D(2020, 1, 2), D(2020, 1, 7)), provider.Catalog.Availability(acme, Resolution.Daily, DataType.Bars));

        var bars = LeanReaderTests.ReadAll(provider.Open(acme, 2,
            new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.SplitDividend, D(2020, 1, 3), D(2020, 1, 7), WarmupBars: 1)));
        Assert.Equal([D(2020, 1, 2), D(2020, 1, 3), D(2020, 1, 6), D(2020, 1, 7)], bars.Select(b => b.Date));
        Assert.Equal(101.0, bars[0].Close); // Close, not Adj Close
        Assert.Equal(1200, bars[0].Volume);
        Assert.Equal(2, bars[0].Instrument);
        // Dated 00:00 New York, known at the 16:00 close.
        Assert.Equal(new DateTime(2020, 1, 2, 5, 0, 0, DateTimeKind.Utc).Ticks, bars[0].Time);
        Assert.Equal(new DateTime(2020, 1, 2, 21, 0, 0, DateTimeKind.Utc).Ticks, bars[0].EndTime);
        Assert.Matches("^[0-9a-f]{64}$", provider.DataVersion(acme, new DataRequest(Resolution.Daily, DataType.Bars, PriceAdjustment.Raw, D(2020, 1, 1), D(2020, 2, 1))));
    }

    [Fact]
    public void Imports_generic_minute_bars_with_utc_timestamps()
    {
        var csv = WriteCsv("eth.csv", """
            timestamp,open,high,low,close,volume
            2021-03-01T23:58:00Z,1400,1402,1399,1401,5.5
            2021-03-01T23:59:00Z,1401,1403,1400,1402,4.0
            2021-03-02T00:00:00Z,1402,1404,1401,1403,3.25
            2021-03-02T00:02:00Z,1403,1405,1402,1404,1.0
            """);
        var result = CsvImporter.Import(csv, "ethusd", "myex", AssetClass.Crypto, "usd", _root.Path);

        Assert.Equal(Resolution.Minute, result.Resolution);
        Assert.Equal("ETHUSD.MYEX", result.Instrument.Id);
        Assert.Equal("UTC", result.Instrument.TimeZone);
        Assert.Equal("myex", result.Instrument.Market);
        Assert.Equal(0.00000001, result.Instrument.LotSize);

        using var reader = BinaryBarFile.OpenRead(result.BarFile, 0);
        var bars = LeanReaderTests.ReadAll(reader);
        Assert.Equal(4, bars.Count);
        Assert.Equal(new DateTime(2021, 3, 1, 23, 58, 0, DateTimeKind.Utc).Ticks, bars[0].Time);
        Assert.Equal(bars[0].Time + TimeSpan.TicksPerMinute, bars[0].EndTime);
        Assert.Equal(D(2021, 3, 1), bars[1].Date);
        Assert.Equal(D(2021, 3, 2), bars[2].Date);
        Assert.Equal(3.25, bars[2].Volume);
    }

    [Fact]
    public void Detects_hourly_bars_and_local_times()
    {
        var csv = WriteCsv("h.csv", """
            timestamp,open,high,low,close,volume
            2020-03-06 10:00,10,11,9,10.5,100
            2020-03-06 11:00,10.5,11,10,10.8,100
            2020-03-09 10:00,10.8,12,10,11.5,100
            """);
        var result = CsvImporter.Import(csv, "HOURLY", "NASDAQ", AssetClass.Equity, "USD", _root.Path);

        Assert.Equal(Resolution.Hour, result.Resolution);
        using var reader = BinaryBarFile.OpenRead(result.BarFile, 0);
        var bars = LeanReaderTests.ReadAll(reader);
        // New York local times: EST before the 2020-03-08 switch, EDT after.
        Assert.Equal(new DateTime(2020, 3, 6, 15, 0, 0, DateTimeKind.Utc).Ticks, bars[0].Time);
        Assert.Equal(new DateTime(2020, 3, 6, 16, 0, 0, DateTimeKind.Utc).Ticks, bars[0].EndTime);
        Assert.Equal(new DateTime(2020, 3, 9, 14, 0, 0, DateTimeKind.Utc).Ticks, bars[2].Time);
    }

    [Fact]
    public void Bad_row_names_line_and_column_and_writes_nothing()
    {
        var csv = WriteCsv("bad.csv", """
            Date,Open,High,Low,Close,Adj Close,Volume
            2020-01-02,100.0,101.5,99.5,101.0,95.0,1200
            2020-01-03,101.0,102.0,100.0,100.5,94.5,1300
            2020-01-06,null,null,null,null,null,null
            """);

        var error = Assert.Throws<InvalidDataException>(() => CsvImporter.Import(csv, "BAD", "NYSE", AssetClass.Equity, "USD", _root.Path));

        Assert.Contains("line 4, column 'Open': 'null' is not a number", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_root.Path, "custom")));
    }

    [Theory]
    [InlineData("timestamp,open,high,low,close,volume\n2020-01-02,1,1,1,1,1\n2020-01-0x,1,1,1,1,1\n", "line 3, column 'timestamp'")]
    [InlineData("timestamp,open,high,low,close,volume\n2020-01-03,1,1,1,1,1\n2020-01-02,1,1,1,1,1\n", "line 3, column 'timestamp': not after")]
    [InlineData("timestamp,open,high,low,close,volume\n2020-01-02,1,1,1,1\n", "line 2: expected 6 columns, found 5")]
    [InlineData("time,o,h,l,c,v\n2020-01-02,1,1,1,1,1\n", "line 1: header")]
    public void RejectsMalformedFiles(string text, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            CsvImporter.Import(WriteCsv("x.csv", text), "X", "NYSE", AssetClass.Equity, "USD", _root.Path));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Refuses_an_instrument_the_lean_data_already_has()
    {
        Copy("equity/usa/daily/spy.zip");
        Copy("equity/usa/primary-listings.csv");

        Assert.Throws<InvalidOperationException>(() =>
            CsvImporter.Import(WriteCsv("spy.csv", Yahoo), "SPY", "ARCA", AssetClass.Equity, "USD", _root.Path));
        CsvImporter.Import(WriteCsv("spy.csv", Yahoo), "SPY", "YAHOO", AssetClass.Equity, "USD", _root.Path);

        var provider = new LeanDataProvider(_root.Path);
        Assert.True(provider.Catalog.TryResolve("SPY", out var spy));
        Assert.Equal("SPY.ARCA", spy.Id); // the bare symbol keeps resolving to the LEAN listing
        Assert.True(provider.Catalog.TryResolve("SPY.YAHOO", out _));
    }

    [Fact]
    public void Reimport_replaces_the_row()
    {
        CsvImporter.Import(WriteCsv("a.csv", Yahoo), "ACME", "NYSE", AssetClass.Equity, "USD", _root.Path);
        CsvImporter.Import(WriteCsv("a.csv", Yahoo), "ACME", "NYSE", AssetClass.Equity, "USD", _root.Path);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_root.Path, "custom", "instruments.csv")).Length);
    }

    [Theory]
    [InlineData("BRK-B", "NYSE")]
    [InlineData("X_1", "VENUE2")]
    [InlineData("A", "V")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE")]
    public void AnImportedInstrumentRunsByItsIdAndSymbol(string symbol, string venue)
    {
        CsvImporter.Import(WriteCsv("a.csv", Yahoo), symbol, venue, AssetClass.Equity, "USD", _root.Path);
        var provider = new LeanDataProvider(_root.Path);
        foreach (var name in new[] { $"{symbol}.{venue}", symbol })
        {
            var config = new Backtesting.Engine.Configuration.BacktestConfig
            {
                StrategyClass = "BuyAndHold", StartDate = "2020-01-02", EndDate = "2020-01-07", Instruments = [name],
                InitialBalance = 100_000, BaseCurrency = "USD",
            };
            var outcome = Backtesting.Engine.Configuration.ConfigValidator.Validate(config, provider,
                Backtesting.Engine.Strategies.StrategyCatalog.Templates, Backtesting.Engine.Configuration.ValidationPolicy.Local, D(2026, 1, 1));
            Assert.True(outcome.IsValid, string.Join("; ", outcome.Errors.Select(e => e.Message)));
        }
    }

    [Theory]
    [InlineData("", "NYSE")]
    [InlineData("A B", "NYSE")]
    [InlineData("A.B", "NYSE")]
    [InlineData("ACME", "NY.SE")]
    [InlineData("ACME", "NYSE\n")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", "NYSE")]
    public void RefusesANameNoIdCouldCarry(string symbol, string venue) =>
        Assert.Throws<ArgumentException>(() =>
            CsvImporter.Import(WriteCsv("a.csv", Yahoo), symbol, venue, AssetClass.Equity, "USD", _root.Path));
}
