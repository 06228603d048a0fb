using System.Text.Json;
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

    [Fact]
    public void Every_entry_of_the_database_is_found_with_the_bytes_a_whole_parse_gives()
    {
        // The lazy index against a parse of the whole file: every entry, asked in file order (each lookup resumes the
        // scan) and in reverse order (the first lookup reads to the last entry), holds exactly the entry's bytes.
        var path = Path.Combine(TestPaths.LeanData, "market-hours", "market-hours-database.json");
        using var whole = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var expected = new List<(string Name, string Json)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in whole.RootElement.GetProperty("entries").EnumerateObject())
        {
            if (seen.Add(entry.Name))
                expected.Add((entry.Name, entry.Value.GetRawText()));
        }

        Assert.True(expected.Count > 500, $"the bundled database has {expected.Count} entries");
        var forward = new MarketCalendar(path);
        foreach (var (name, json) in expected)
            Assert.Equal(json, forward.EntryText(name));
        var backward = new MarketCalendar(path);
        foreach (var (name, json) in Enumerable.Reverse(expected))
            Assert.Equal(json, backward.EntryText(name));
        Assert.Null(backward.EntryText("Equity-nowhere-[*]"));
    }

    private const string SmallDatabase = """
        {"comment": {"a": [1, 2, {"b": "}"}]},
         "entries": {
          "Equity-usa-[*]": {"dataTimeZone": "America/New_York", "exchangeTimeZone": "America/New_York",
            "monday": [{"start": "09:30:00", "end": "16:00:00", "state": "market"}], "holidays": ["1/1/2020"]},
          "Forex-oanda-[*]": {"dataTimeZone": "UTC", "exchangeTimeZone": "America/New_York",
            "sunday": [{"start": "17:00:00", "end": "1.00:00:00", "state": "market"}]},
          "Crypto-coinbase-[*]": {"dataTimeZone": "UTC", "exchangeTimeZone": "UTC",
            "saturday": [{"start": "00:00:00", "end": "1.00:00:00", "state": "market"}]}
         },
         "tail": [true, null, "x"]}
        """;

    [Fact]
    public void A_broken_database_fails_every_lookup_that_reads_the_break()
    {
        // Every truncation of a valid database is broken JSON, which the calendar used to refuse when it was made.
        // Now it is refused by the first read that reaches the break: the constructor when it comes before the first
        // entry, and always the lookup of a name the file lacks, which reads the whole file (and every read after it).
        // An entry that ends before the break is still found.
        var text = SmallDatabase.Trim();
        var equityEnd = text.IndexOf("\"Forex-oanda", StringComparison.Ordinal);
        var cryptoStart = text.IndexOf("\"Crypto-coinbase", StringComparison.Ordinal);
        var tailStart = text.IndexOf("\"tail\"", StringComparison.Ordinal);
        Assert.True(equityEnd > 0 && cryptoStart > equityEnd && tailStart > cryptoStart);
        using var folder = new TempFolder();
        var path = folder.File("market-hours-database.json");
        var refusedByConstructor = 0;
        for (var length = 0; length < text.Length; length++)
        {
            File.WriteAllText(path, text[..length]);
            MarketCalendar calendar;
            try
            {
                calendar = new MarketCalendar(path);
            }
            catch (InvalidDataException)
            {
                refusedByConstructor++;
                continue;
            }

            // Made, it has read the first entry whole: that entry is found whatever follows it.
            Assert.Equal("America/New_York", calendar.Hours("usa", AssetClass.Equity).ExchangeTimeZone.Id);
            Assert.Throws<InvalidDataException>(() => calendar.Hours("nowhere", AssetClass.Equity));
            // Refused again, not taken for a database without that entry.
            Assert.Throws<InvalidDataException>(() => calendar.Hours("nowhere", AssetClass.Equity));
            // Another entry: refused while the break comes before it, found once the file holds it whole.
            if (length < cryptoStart)
                Assert.Throws<InvalidDataException>(() => calendar.Hours("coinbase", AssetClass.Crypto));
            else if (length >= tailStart)
                Assert.Equal("UTC", calendar.Hours("coinbase", AssetClass.Crypto).ExchangeTimeZone.Id);
        }

        Assert.True(refusedByConstructor > 0 && refusedByConstructor < equityEnd, $"{refusedByConstructor} of {text.Length} refused when made");

        File.WriteAllText(path, text);
        var whole = new MarketCalendar(path);
        Assert.Equal("UTC", whole.Hours("coinbase", AssetClass.Crypto).ExchangeTimeZone.Id);
        Assert.True(whole.IsTradingDay("oanda", AssetClass.Forex, new DateOnly(2015, 3, 15)));
        Assert.True(whole.IsTradingDay("usa", AssetClass.Equity, new DateOnly(2020, 1, 6))); // a Monday
        Assert.False(whole.IsTradingDay("usa", AssetClass.Equity, new DateOnly(2020, 1, 7))); // a Tuesday: no session in this file
        Assert.True(whole.IsTradingDay("nowhere", AssetClass.Equity, new DateOnly(2020, 1, 1))); // the default: read to the end, no error

        foreach (var notACalendar in new[] { "[]", "{}", """{"entries": {}}""", """{"entries": []}""", """{"other": 1}""", "\"entries\"" })
        {
            File.WriteAllText(path, notACalendar);
            Assert.Throws<InvalidDataException>(() => new MarketCalendar(path));
        }
    }
}
