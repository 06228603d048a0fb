using System.Globalization;
using Backtesting.Engine.Data.Lean;

namespace Backtesting.Engine.Data;

/// <summary>What an import wrote.</summary>
public sealed record ImportResult(Instrument Instrument, Resolution Resolution, long BarCount, DateOnly First, DateOnly Last, string BarFile);

/// <summary>
/// Imports an OHLCV CSV into a data folder as a <see cref="BinaryBarFile"/> and registers the
/// instrument in <c>custom/instruments.csv</c>, so <see cref="LeanDataProvider"/> lists it.
/// <para>Accepted layouts, told apart by the header:
/// <c>timestamp,open,high,low,close,volume</c> with ISO-8601 timestamps (<c>2020-01-02</c>,
/// <c>2020-01-02T09:30:00</c>, optionally with <c>Z</c> or an offset), or Yahoo's
/// <c>Date,Open,High,Low,Close,Adj Close,Volume</c>. From Yahoo the Close column is imported as
/// is (Yahoo already split-adjusts it) and Adj Close is ignored: it rewrites history for dividends.</para>
/// <para>The resolution follows from the smallest spacing between rows: dates only or 20 hours and
/// more is daily, an hour and more hourly, a minute and more minute bars (an intraday bar lasts
/// that smallest spacing). Times without an offset are in the instrument's time zone (by default the
/// exchange zone of its market in the market-hours database, else UTC). Daily rows are dated by the
/// date as written and end at the market's close that day (the next local midnight when unknown).</para>
/// <para>Two streaming passes: the first checks every row and finds the resolution, so a bad row
/// fails the import (naming line and column) before anything is written; the second writes.</para>
/// </summary>
public static class CsvImporter
{
    private static readonly string[] GenericColumns = ["timestamp", "open", "high", "low", "close", "volume"];
    private static readonly string[] YahooColumns = ["date", "open", "high", "low", "close", "adj close", "volume"];

    private static readonly string[] LocalFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm",
    ];

    /// <param name="requiredResolution">When set, a file of another resolution is refused before anything is written
    /// (exchange-rate series must be daily).</param>
    public static ImportResult Import(string csvPath, string symbol, string venue, AssetClass assetClass, string quoteCurrency,
        string dataRoot, string? timeZone = null, Resolution? requiredResolution = null)
    {
        symbol = CheckName(symbol, nameof(symbol));
        venue = CheckName(venue, nameof(venue));
        quoteCurrency = CheckName(quoteCurrency, nameof(quoteCurrency));
        var market = LeanInstrumentCatalog.MarketFor(assetClass, venue);
        var calendar = File.Exists(Path.Combine(dataRoot, "market-hours", "market-hours-database.json"))
            ? MarketCalendar.FromDataRoot(dataRoot)
            : null;
        RefuseLeanDuplicate(dataRoot, calendar, symbol, venue);
        var hours = calendar?.Hours(market, assetClass) ?? MarketHours.Default(assetClass);
        var zone = timeZone is null ? hours.ExchangeTimeZone : TimeZoneInfo.FindSystemTimeZoneById(timeZone);

        var scan = Scan(csvPath, zone);
        var resolution = scan.Resolution;
        if (requiredResolution is { } required && resolution != required)
        {
            throw new InvalidDataException(
                $"{csvPath}: rows are {resolution.ToString().ToLowerInvariant()} bars; {required.ToString().ToLowerInvariant()} bars are needed here");
        }
        var target = CustomInstruments.BarFile(dataRoot, symbol, venue, resolution);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + ".tmp";
        var clock = new ExchangeClock(zone);
        using (var writer = BinaryBarFile.Create(temp))
        {
            foreach (var row in Rows(csvPath, zone))
            {
                long time, endTime;
                if (resolution == Resolution.Daily)
                {
                    time = clock.ToUtcTicks(row.Date.DayNumber, 0);
                    var close = hours.MarketClose(row.Date) ?? TimeSpan.FromDays(1);
                    endTime = clock.ToUtcTicks(row.Date.DayNumber, close.Ticks);
                }
                else
                {
                    time = row.UtcTicks;
                    endTime = time + scan.PeriodTicks;
                }
                var day = resolution == Resolution.Daily ? row.Date : row.LocalDay;
                writer.Write(MarketData.CreateBar(0, time, endTime, day.DayNumber,
                    row.Open, row.High, row.Low, row.Close, row.Volume));
            }
        }
        File.Move(temp, target, overwrite: true);

        var properties = SymbolPropertiesDatabase.FromDataRoot(dataRoot, [market]).Get(market, symbol, assetClass);
        var entry = new CustomInstrumentRow(symbol, venue, assetClass, quoteCurrency, properties.LotSize, properties.TickSize, zone.Id);
        CustomInstruments.Upsert(dataRoot, entry);
        var instrument = new Instrument(symbol, venue, assetClass, quoteCurrency, entry.LotSize, entry.TickSize, market, zone.Id);
        return new ImportResult(instrument, resolution, scan.Count, scan.First, scan.Last, target);
    }

    private static string CheckName(string value, string parameter)
    {
        if (InstrumentIds.NameProblem(value) is { } problem)
            throw new ArgumentException($"{parameter} '{value}' {problem}", parameter);
        return value.ToUpperInvariant();
    }

    private static void RefuseLeanDuplicate(string dataRoot, MarketCalendar? calendar, string symbol, string venue)
    {
        if (calendar is null)
            return;
        var catalog = new LeanInstrumentCatalog(dataRoot, calendar);
        if (catalog.TryResolve($"{symbol}.{venue}", out var existing) && catalog.Find(existing)?.Kind != InstrumentDataKind.Custom)
            throw new InvalidOperationException($"{symbol}.{venue} is already in the LEAN data of {dataRoot}; import it under another venue");
    }

    private sealed record ScanResult(Resolution Resolution, long PeriodTicks, long Count, DateOnly First, DateOnly Last);

    private static ScanResult Scan(string csvPath, TimeZoneInfo zone)
    {
        long count = 0;
        var allDates = true;
        var minSpacing = long.MaxValue;
        Row first = default;
        Row previous = default;
        foreach (var row in Rows(csvPath, zone))
        {
            if (count == 0)
                first = row;
            else
            {
                var spacing = row.UtcTicks - previous.UtcTicks;
                if (spacing <= 0)
                    throw new InvalidDataException($"{csvPath} line {row.LineNumber}, column '{row.TimestampColumn}': not after the previous row's time");
                minSpacing = Math.Min(minSpacing, spacing);
            }
            allDates &= row.IsDateOnly;
            previous = row;
            count++;
        }
        if (count == 0)
            throw new InvalidDataException($"{csvPath}: no data rows");
        var resolution = allDates || minSpacing >= TimeSpan.TicksPerHour * 20 || (count == 1 && previous.UtcTicks % TimeSpan.TicksPerDay == 0)
            ? Resolution.Daily
            : count == 1 ? throw new InvalidDataException($"{csvPath}: one intraday row is not enough to tell the bar length")
            : minSpacing >= TimeSpan.TicksPerHour ? Resolution.Hour
            : minSpacing >= TimeSpan.TicksPerMinute ? Resolution.Minute
            : throw new InvalidDataException($"{csvPath}: rows {TimeSpan.FromTicks(minSpacing)} apart; bars shorter than a minute are not supported");
        return resolution == Resolution.Daily
            ? new ScanResult(resolution, TimeSpan.TicksPerDay, count, first.Date, previous.Date)
            : new ScanResult(resolution, minSpacing, count, first.LocalDay, previous.LocalDay);
    }

    /// <summary>One parsed row; UtcTicks orders rows (for date-only rows, local midnight).</summary>
    private readonly record struct Row(
        int LineNumber,
        string TimestampColumn,
        DateOnly Date,
        DateOnly LocalDay,
        long UtcTicks,
        bool IsDateOnly,
        double Open,
        double High,
        double Low,
        double Close,
        double Volume);

    private static IEnumerable<Row> Rows(string csvPath, TimeZoneInfo zone)
    {
        using var reader = new StreamReader(csvPath);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{csvPath}: empty file");
        var names = header.Split(',').Select(n => n.Trim().Trim('"')).ToArray();
        var lowered = names.Select(n => n.ToLowerInvariant()).ToArray();
        var isYahoo = lowered.SequenceEqual(YahooColumns);
        if (!isYahoo && !lowered.SequenceEqual(GenericColumns))
        {
            throw new InvalidDataException(
                $"{csvPath} line 1: header '{header}' is neither '{string.Join(',', GenericColumns)}' nor Yahoo's 'Date,Open,High,Low,Close,Adj Close,Volume'");
        }
        // Column positions of open, high, low, close, volume; Yahoo's Adj Close (5) is skipped.
        int[] priceColumns = isYahoo ? [1, 2, 3, 4, 6] : [1, 2, 3, 4, 5];
        var clock = new ExchangeClock(zone);
        var values = new double[5];
        var fields = new Range[names.Length + 1];
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var text = line.AsSpan();
            var fieldCount = text.Split(fields, ',');
            if (fieldCount != names.Length)
                throw new InvalidDataException($"{csvPath} line {lineNumber}: expected {names.Length} columns, found {fieldCount}");
            var stamp = text[fields[0]].Trim();
            if (!TryParseTimestamp(stamp, clock, out var date, out var localDay, out var utcTicks, out var dateOnly))
            {
                throw new InvalidDataException(
                    $"{csvPath} line {lineNumber}, column '{names[0]}': '{stamp}' is not an ISO-8601 date or time");
            }
            for (var i = 0; i < 5; i++)
            {
                var column = priceColumns[i];
                var field = text[fields[column]].Trim();
                if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                    throw new InvalidDataException($"{csvPath} line {lineNumber}, column '{names[column]}': '{field}' is not a number");
            }
            yield return new Row(lineNumber, names[0], date, localDay, utcTicks, dateOnly, values[0], values[1], values[2], values[3], values[4]);
        }
    }

    private static bool TryParseTimestamp(ReadOnlySpan<char> text, ExchangeClock clock, out DateOnly date, out DateOnly localDay,
        out long utcTicks, out bool dateOnly)
    {
        localDay = default;
        utcTicks = 0;
        dateOnly = text.Length == 10;
        if (dateOnly)
        {
            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
                return false;
            localDay = date;
            utcTicks = clock.ToUtcTicks(date.DayNumber, 0);
            return true;
        }
        date = default;
        if (text.Length < 16)
            return false;
        // An explicit offset ('Z' or +hh:mm after the date) fixes the instant; otherwise the time is local.
        var offsetAt = text[^1] is 'Z' or 'z' ? text.Length - 1 : text[10..].LastIndexOfAny('+', '-') is var i and >= 0 ? i + 10 : -1;
        if (offsetAt >= 0)
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
                || !DateTime.TryParseExact(text[..offsetAt], LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var written))
            {
                return false;
            }
            date = DateOnly.FromDateTime(written);
            utcTicks = instant.UtcTicks;
            localDay = clock.LocalDate(utcTicks);
            return true;
        }
        if (!DateTime.TryParseExact(text, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
            return false;
        date = localDay = DateOnly.FromDateTime(local);
        utcTicks = clock.ToUtcTicks(date.DayNumber, local.TimeOfDay.Ticks);
        return true;
    }
}
