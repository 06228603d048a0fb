using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Lean;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

public class LeanReaderTests
{
    private const double Tolerance = 1e-9;

    internal static List<MarketData> ReadAll(IMarketDataSource source)
    {
        using (source)
        {
            var points = new List<MarketData>();
            while (source.TryRead(out var point))
                points.Add(point);
            return points;
        }
    }

    private static long Utc(int year, int month, int day, int hour, int minute = 0, int second = 0, int millisecond = 0) =>
        new DateTime(year, month, day, hour, minute, second, millisecond, DateTimeKind.Utc).Ticks;

    private static int Day(int year, int month, int day) => new DateOnly(year, month, day).DayNumber;

    [Fact]
    public void EquityDaily_SpyFirstAndLastBars()
    {
        var bars = ReadAll(LeanReaders.EquityDaily(TestPaths.Lean("equity", "usa", "daily", "spy.zip"), instrument: 3));

        Assert.Equal(5849, bars.Count);
        var first = bars[0];
        Assert.Equal(3, first.Instrument);
        Assert.Equal(MarketDataKind.Bar, first.Kind);
        Assert.Equal(Day(1998, 1, 2), first.LocalDay);
        Assert.Equal(97.31, first.Open, Tolerance);
        Assert.Equal(97.53, first.High, Tolerance);
        Assert.Equal(96.53, first.Low, Tolerance);
        Assert.Equal(97.36, first.Close, Tolerance);
        Assert.Equal(2_150_000, first.Volume);
        // Winter: New York is UTC-5; the bar starts at the 09:30 open and is known at the 16:00 close.
        Assert.Equal(Utc(1998, 1, 2, 14, 30), first.Time);
        Assert.Equal(Utc(1998, 1, 2, 21), first.EndTime);

        var last = bars[^1];
        Assert.Equal(Day(2021, 3, 31), last.LocalDay);
        Assert.Equal(396.33, last.Close, Tolerance);
        Assert.Equal(90_673_494, last.Volume);
        Assert.Equal(Utc(2021, 3, 31, 20), last.EndTime); // summer: UTC-4
    }

    [Fact]
    public void EquityDaily_CloseMovesAcrossTheDstSwitch()
    {
        var bars = ReadAll(LeanReaders.EquityDaily(TestPaths.Lean("equity", "usa", "daily", "spy.zip"), 0));
        var friday = bars.Single(b => b.LocalDay == Day(2013, 11, 1));
        var monday = bars.Single(b => b.LocalDay == Day(2013, 11, 4)); // DST ended Sunday 2013-11-03

        Assert.Equal(Utc(2013, 11, 1, 20), friday.EndTime);
        Assert.Equal(Utc(2013, 11, 1, 13, 30), friday.Time);
        Assert.Equal(Utc(2013, 11, 4, 21), monday.EndTime);
        Assert.Equal(Utc(2013, 11, 4, 14, 30), monday.Time);
    }

    [Fact]
    public void EquityDaily_UsesTheGivenSessionClose()
    {
        var close = (DateOnly d) => d == new DateOnly(2013, 11, 29) ? new TimeSpan(13, 0, 0) : LeanReaders.EquityClose;
        var bars = ReadAll(LeanReaders.EquityDaily(TestPaths.Lean("equity", "usa", "daily", "spy.zip"), 0, sessionClose: close));

        Assert.Equal(Utc(2013, 11, 29, 18), bars.Single(b => b.LocalDay == Day(2013, 11, 29)).EndTime);
        Assert.Equal(Utc(2013, 11, 27, 21), bars.Single(b => b.LocalDay == Day(2013, 11, 27)).EndTime);
    }

    [Fact]
    public void EquityHour_SpyBars()
    {
        var bars = ReadAll(LeanReaders.EquityHour(TestPaths.Lean("equity", "usa", "hour", "spy.zip"), 0));

        Assert.Equal(40832, bars.Count);
        Assert.Equal(Utc(1998, 1, 2, 14), bars[0].Time);
        Assert.Equal(Utc(1998, 1, 2, 15), bars[0].EndTime);
        Assert.Equal(97.03, bars[0].Close, Tolerance);
        Assert.Equal(384_500, bars[0].Volume);
        Assert.Equal(Utc(2021, 3, 31, 19), bars[^1].Time);
        Assert.Equal(396.33, bars[^1].Close, Tolerance);
        AssertOrdered(bars);
    }

    [Fact]
    public void EquityMinute_SpyDayFiles()
    {
        var files = LeanReaders.DayFiles(TestPaths.Lean("equity", "usa", "minute", "spy"), "_trade.zip");
        Assert.Equal(7, files.Count);
        Assert.Equal(new DateOnly(2013, 10, 4), files[0].Date);
        Assert.Equal(new DateOnly(2023, 8, 3), files[^1].Date);

        var bars = ReadAll(LeanReaders.EquityMinute(files, 1));

        Assert.Equal(711 + 828 + 828 + 813 + 883 + 776 + 947, bars.Count);
        var first = bars[0]; // 2013-10-04 14,760,000 ms = 04:06 EDT
        Assert.Equal(Utc(2013, 10, 4, 8, 6), first.Time);
        Assert.Equal(Utc(2013, 10, 4, 8, 7), first.EndTime);
        Assert.Equal(Day(2013, 10, 4), first.LocalDay);
        Assert.Equal(167.65, first.Open, Tolerance);
        Assert.Equal(20_000, first.Volume);
        var last = bars[^1]; // 2023-08-03 71,940,000 ms = 19:59 EDT
        Assert.Equal(Utc(2023, 8, 3, 23, 59), last.Time);
        Assert.Equal(449.88, last.Close, Tolerance);
        AssertOrdered(bars);
    }

    [Fact]
    public void EquityMinute_UtcOffsetChangesWithDst()
    {
        // DST began Sunday 2008-03-09: SHY's Friday bars are UTC-5, Monday's UTC-4.
        var files = LeanReaders.DayFiles(TestPaths.Lean("equity", "usa", "minute", "shy"), "_trade.zip");
        var bars = ReadAll(LeanReaders.EquityMinute(files, 0));

        var friday = bars.First(b => b.LocalDay == Day(2008, 3, 7));
        var monday = bars.First(b => b.LocalDay == Day(2008, 3, 10));
        Assert.Equal(Utc(2008, 3, 7, 13, 54), friday.Time); // 32,040,000 ms = 08:54 EST
        Assert.Equal(Utc(2008, 3, 10, 12, 33), monday.Time); // 30,780,000 ms = 08:33 EDT
    }

    [Fact]
    public void EquityMinuteQuotes_MidAndSides()
    {
        var files = LeanReaders.DayFiles(TestPaths.Lean("equity", "usa", "minute", "spy"), "_quote.zip")
            .Where(f => f.Date == new DateOnly(2013, 10, 7)).ToList();
        var bars = ReadAll(LeanReaders.EquityMinuteQuotes(files, 0));

        Assert.Equal(908, bars.Count);
        // 14400000,1672700,1672700,1671500,1672500,300,1680000,1680000,1672600,1672700,20000
        var first = bars[0];
        Assert.Equal(Utc(2013, 10, 7, 8), first.Time);
        Assert.Equal(167.25, first.Bid, Tolerance);
        Assert.Equal(167.27, first.Ask, Tolerance);
        Assert.Equal(300, first.BidSize);
        Assert.Equal(20_000, first.AskSize);
        Assert.Equal((167.27 + 168.0) / 2, first.Open, Tolerance);
        Assert.Equal((167.25 + 167.27) / 2, first.Close, Tolerance);
        Assert.Equal(0, first.Volume);
    }

    [Fact]
    public void TradeTicks_SpyFirstTradeOf20131007()
    {
        var files = LeanReaders.DayFiles(TestPaths.Lean("equity", "usa", "tick", "spy"), "_trade.zip");
        var ticks = ReadAll(LeanReaders.TradeTicks([files[0]], 0));

        Assert.Equal(new DateOnly(2013, 10, 7), files[0].Date);
        Assert.Equal(250_601, ticks.Count);
        var first = ticks[0]; // 14,400,464 ms = 04:00:00.464 EDT
        Assert.Equal(MarketDataKind.TradeTick, first.Kind);
        Assert.Equal(Utc(2013, 10, 7, 8, 0, 0, 464), first.Time);
        Assert.Equal(first.Time, first.EndTime);
        Assert.Equal(167.41, first.Close, Tolerance);
        Assert.Equal(100, first.Volume);
        AssertOrdered(ticks);
    }

    [Fact]
    public void TradeTicks_DropSuspicious()
    {
        var file = LeanReaders.DayFiles(TestPaths.Lean("equity", "usa", "tick", "spy"), "_trade.zip")
            .Single(f => f.Date == new DateOnly(2013, 10, 10));
        var ticks = ReadAll(LeanReaders.TradeTicks([file], 0));

        Assert.Equal(460_032 - 10, ticks.Count); // the file flags 10 ticks suspicious
    }

    [Fact]
    public void QuoteTicks_CarryTheOtherSideForward()
    {
        var file = LeanReaders.DayFiles(TestPaths.Lean("equity", "usa", "tick", "ibm"), "_quote.zip")[0];
        var quotes = ReadAll(LeanReaders.QuoteTicks([file], 0));

        Assert.Equal(109_067 - 1, quotes.Count);
        // 14400054,0,0,1836300,100,...: only an ask so far.
        Assert.Equal(MarketDataKind.QuoteTick, quotes[0].Kind);
        Assert.Equal(0, quotes[0].Bid);
        Assert.Equal(183.63, quotes[0].Ask, Tolerance);
        Assert.Equal(183.63, quotes[0].Close, Tolerance);
        // 14400241,1800100,300,0,0: a bid arrives; the ask is carried.
        Assert.Equal(180.01, quotes[1].Bid, Tolerance);
        Assert.Equal(183.63, quotes[1].Ask, Tolerance);
        Assert.Equal((180.01 + 183.63) / 2, quotes[1].Close, Tolerance);
        Assert.All(quotes.Skip(10), q => Assert.True(q.Bid > 0 && q.Ask > 0));
    }

    [Fact]
    public void ForexDaily_EurUsdMid()
    {
        var bars = ReadAll(LeanReaders.ForexDaily(TestPaths.Lean("forex", "oanda", "daily", "eurusd.zip"), 0));

        Assert.Equal(3738, bars.Count);
        var first = bars[0];
        Assert.Equal(Day(2007, 1, 1), first.LocalDay);
        Assert.Equal(Utc(2007, 1, 1, 0), first.Time);
        Assert.Equal(Utc(2007, 1, 2, 0), first.EndTime);
        Assert.Equal((1.31927 + 1.32027) / 2, first.Open, Tolerance);
        Assert.Equal((1.32095 + 1.32195) / 2, first.Close, Tolerance);
        Assert.Equal(1.32095, first.Bid, Tolerance);
        Assert.Equal(1.32195, first.Ask, Tolerance);
        Assert.Equal((1.14607 + 1.14707) / 2, bars[^1].Close, Tolerance);
    }

    [Fact]
    public void CryptoDaily_BtcUsd()
    {
        var bars = ReadAll(LeanReaders.CryptoDaily(TestPaths.Lean("crypto", "coinbase", "daily", "btcusd_trade.zip"), 0));

        Assert.Equal(1318, bars.Count);
        Assert.Equal(Utc(2014, 12, 1, 0), bars[0].Time);
        Assert.Equal(Utc(2014, 12, 2, 0), bars[0].EndTime);
        Assert.Equal(300, bars[0].Open);
        Assert.Equal(370, bars[0].Close);
        Assert.Equal(0.05655554, bars[0].Volume, Tolerance);
        Assert.Equal(Day(2018, 8, 13), bars[^1].LocalDay);
        Assert.Equal(6253.67, bars[^1].Close, Tolerance);
    }

    [Fact]
    public void BadLine_NamesFileLineAndColumn()
    {
        using var temp = new TempFolder();
        var path = temp.File("bad.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
        using (var writer = new StreamWriter(zip.CreateEntry("bad.csv").Open()))
            writer.Write("19980102 00:00,973100,975300,965300,973600,2150000\n19980105 00:00,978400,x,967800,977500,4030800\n");

        using var source = LeanReaders.EquityDaily(path, 0);
        Assert.True(source.TryRead(out _));
        var error = Assert.Throws<InvalidDataException>(() => source.TryRead(out _));
        Assert.Contains("line 2", error.Message);
        Assert.Contains("column 3", error.Message);
    }

    [Fact]
    public void Zip_readers_do_not_allocate_per_line()
    {
        var path = TestPaths.Lean("equity", "usa", "hour", "spy.zip");
        using (var warm = LeanReaders.EquityHour(path, 0))
            warm.TryRead(out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        long count = 0;
        using (var source = LeanReaders.EquityHour(path, 0))
        {
            while (source.TryRead(out _))
                count++;
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(40832, count);
        // The zip directory, the inflater and one 64 KB line buffer; nothing per line.
        Assert.True(allocated < 512 * 1024, $"allocated {allocated:N0} bytes for {count} lines");
    }

    internal static void AssertOrdered(List<MarketData> points)
    {
        for (var i = 1; i < points.Count; i++)
            Assert.True(points[i].EndTime >= points[i - 1].EndTime, $"point {i} is out of order");
    }
}
