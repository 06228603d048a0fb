using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace Backtesting.Engine.Data;

/// <summary>One trading session of a weekday, in exchange-local time; End may be 1.00:00:00 (midnight).</summary>
public sealed record MarketSession(TimeSpan Start, TimeSpan End, string State)
{
    public bool IsMarket => State == "market";
}

/// <summary>
/// The trading hours of one market (an entry of LEAN's market-hours database): time zones,
/// weekly sessions, holidays, early closes and late opens, all in exchange-local time.
/// </summary>
public sealed class MarketHours
{
    private readonly IReadOnlyList<MarketSession>[] _sessions;
    private readonly HashSet<DateOnly> _holidays;
    private readonly Dictionary<DateOnly, TimeSpan> _earlyCloses;
    private readonly Dictionary<DateOnly, TimeSpan> _lateOpens;
    // Whether each weekday has a regular market session: asked for every date of every trading-day count.
    private readonly bool[] _marketWeekday = new bool[7];

    public MarketHours(TimeZoneInfo dataTimeZone, TimeZoneInfo exchangeTimeZone,
        IReadOnlyList<MarketSession>[] sessionsByDayOfWeek, IEnumerable<DateOnly> holidays,
        IReadOnlyDictionary<DateOnly, TimeSpan> earlyCloses, IReadOnlyDictionary<DateOnly, TimeSpan> lateOpens)
    {
        if (sessionsByDayOfWeek.Length != 7)
            throw new ArgumentException("one session list per day of the week, Sunday first", nameof(sessionsByDayOfWeek));
        DataTimeZone = dataTimeZone;
        ExchangeTimeZone = exchangeTimeZone;
        _sessions = sessionsByDayOfWeek;
        _holidays = [.. holidays];
        _earlyCloses = new(earlyCloses);
        _lateOpens = new(lateOpens);
        for (var d = 0; d < 7; d++)
            _marketWeekday[d] = _sessions[d].Any(s => s.IsMarket);
    }

    /// <summary>Time zone of the time stamps in the data files.</summary>
    public TimeZoneInfo DataTimeZone { get; }

    /// <summary>Time zone of the exchange's trading dates and sessions.</summary>
    public TimeZoneInfo ExchangeTimeZone { get; }

    public IReadOnlyList<MarketSession> Sessions(DayOfWeek day) => _sessions[(int)day];

    public bool IsHoliday(DateOnly date) => _holidays.Contains(date);

    /// <summary>The early close time of that date, if it is an early-close day.</summary>
    public TimeSpan? EarlyClose(DateOnly date) => _earlyCloses.TryGetValue(date, out var close) ? close : null;

    /// <summary>True when the date has a regular market session and is not a holiday.</summary>
    public bool IsTradingDay(DateOnly date) => _marketWeekday[(int)date.DayOfWeek] && !_holidays.Contains(date);

    /// <summary>Start of the regular market session (a late open if any), or null when closed.</summary>
    public TimeSpan? MarketOpen(DateOnly date)
    {
        if (!IsTradingDay(date))
            return null;
        var open = _sessions[(int)date.DayOfWeek].Where(s => s.IsMarket).Min(s => s.Start);
        return _lateOpens.TryGetValue(date, out var late) && late > open ? late : open;
    }

    /// <summary>End of the regular market session (an early close if any), or null when closed.</summary>
    public TimeSpan? MarketClose(DateOnly date)
    {
        if (!IsTradingDay(date))
            return null;
        var close = _sessions[(int)date.DayOfWeek].Where(s => s.IsMarket).Max(s => s.End);
        return _earlyCloses.TryGetValue(date, out var early) && early < close ? early : close;
    }

    /// <summary>
    /// Hours assumed for a market the database does not list: crypto trades every day around the
    /// clock, anything else Monday to Friday around the clock; UTC, no holidays.
    /// </summary>
    public static MarketHours Default(AssetClass assetClass)
    {
        var allDay = new[] { new MarketSession(TimeSpan.Zero, TimeSpan.FromDays(1), "market") };
        var sessions = new IReadOnlyList<MarketSession>[7];
        for (var d = 0; d < 7; d++)
            sessions[d] = assetClass == AssetClass.Crypto || d is >= 1 and <= 5 ? allDay : [];
        return new MarketHours(TimeZoneInfo.Utc, TimeZoneInfo.Utc, sessions, [], new Dictionary<DateOnly, TimeSpan>(),
            new Dictionary<DateOnly, TimeSpan>());
    }
}

/// <summary>
/// Trading calendars from LEAN's <c>market-hours/market-hours-database.json</c>. Entries are
/// looked up as <c>{AssetClass}-{market}-{symbol}</c>, then <c>{AssetClass}-{market}-[*]</c>, and
/// parsed on first use; markets the file lacks get <see cref="MarketHours.Default"/>.
/// </summary>
/// <remarks>
/// The file is 3 MB and a run needs one or two of its hundreds of entries, so it is indexed lazily: a lookup tokenizes
/// the file from where the last one stopped until it has passed the entry it wants (US equities come first), and only a
/// name the file lacks reads it to the end. Every byte read is checked by the same JSON reader as before, so a broken
/// file fails at the first lookup that reaches the break (a lookup of a missing entry reads it all), and a file without
/// an <c>entries</c> object still fails when the calendar is made. When a name appears twice, the first one counts.
/// </remarks>
public sealed class MarketCalendar : IMarketCalendar
{
    private static readonly string[] DayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

    private readonly byte[] _json;
    private readonly Dictionary<string, (int Start, int Length)> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, MarketHours> _parsed = new();
    private readonly Lock _scan = new();

    // Where the index scan stopped: the reader's state and the offset of the next byte, and what it is inside.
    private JsonReaderState _state = new(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
    private int _position;
    private bool _started;
    private bool _inEntries;
    private bool _finished;
    private InvalidDataException? _broken;

    public MarketCalendar(string marketHoursDatabasePath)
    {
        Source = marketHoursDatabasePath;
        _json = File.ReadAllBytes(marketHoursDatabasePath);
        lock (_scan)
        {
            // The first entry (or the end of a file without one), so a file that is no calendar fails here.
            while (_entries.Count == 0 && !_finished)
                IndexNext();
        }
        if (_entries.Count == 0)
            throw new InvalidDataException($"{marketHoursDatabasePath}: no 'entries' object");
    }

    /// <summary>The bytes of the entry of that name as the file holds them (its object), or null when it has none.</summary>
    internal string? EntryText(string name)
    {
        lock (_scan)
        {
            return Has(name) ? System.Text.Encoding.UTF8.GetString(_json, _entries[name].Start, _entries[name].Length) : null;
        }
    }

    /// <summary>Whether the file has an entry of that name, indexing as far as needed to know.</summary>
    private bool Has(string name)
    {
        lock (_scan)
        {
            while (!_entries.ContainsKey(name) && !_finished)
                IndexNext();
            return _entries.ContainsKey(name);
        }
    }

    /// <summary>One step of the scan: through the top level up to the next entry, which is indexed, or to the end.</summary>
    private void IndexNext()
    {
        if (_broken is not null)
            throw new InvalidDataException(_broken.Message, _broken.InnerException);
        var reader = new Utf8JsonReader(_json.AsSpan(_position), isFinalBlock: true, _state);
        try
        {
            if (!_started)
            {
                Expect(ref reader, JsonTokenType.StartObject);
                _started = true;
            }
            while (true)
            {
                if (_inEntries)
                {
                    if (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var name = reader.GetString()!;
                        Expect(ref reader, JsonTokenType.StartObject);
                        var start = _position + (int)reader.TokenStartIndex;
                        reader.Skip();
                        _entries.TryAdd(name, (start, _position + (int)reader.BytesConsumed - start));
                        return;
                    }
                    _inEntries = false; // the end of the entries object: back to the top level
                    continue;
                }
                if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName)
                {
                    _finished = true; // the end of the top-level object
                    return;
                }
                if (reader.ValueTextEquals("entries"u8))
                {
                    Expect(ref reader, JsonTokenType.StartObject);
                    _inEntries = true;
                    continue;
                }
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException e)
        {
            // Every later scan fails the same way: an entry past the break is never taken for a missing one. The reader
            // counts from where this step began, so the message says where that is in the file.
            var line = _json.AsSpan(0, _position).Count((byte)'\n') + 1;
            _broken = new InvalidDataException($"{Source}: {e.Message} (counted from byte {_position}, line {line} of the file)", e);
            throw _broken;
        }
        finally
        {
            _position += (int)reader.BytesConsumed;
            _state = reader.CurrentState;
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token)
    {
        if (!reader.Read() || reader.TokenType != token)
            throw new JsonException($"expected {token} at byte {reader.TokenStartIndex}");
    }

    /// <summary>The calendar of a LEAN data folder: <c>&lt;root&gt;/market-hours/market-hours-database.json</c>.</summary>
    public static MarketCalendar FromDataRoot(string dataRoot) =>
        new(Path.Combine(dataRoot, "market-hours", "market-hours-database.json"));

    public string Source { get; }

    /// <summary>The hours of a market, optionally for one symbol with its own entry.</summary>
    public MarketHours Hours(string market, AssetClass assetClass, string? symbol = null)
    {
        var prefix = $"{assetClass}-{market.ToLowerInvariant()}-";
        if (symbol is not null && Has(prefix + symbol))
            return _parsed.GetOrAdd(prefix + symbol, ParseEntry);
        var wildcard = prefix + "[*]";
        return Has(wildcard)
            ? _parsed.GetOrAdd(wildcard, ParseEntry)
            : _parsed.GetOrAdd(wildcard, _ => MarketHours.Default(assetClass));
    }

    public bool IsTradingDay(string market, AssetClass assetClass, DateOnly date) =>
        Hours(market, assetClass).IsTradingDay(date);

    public IEnumerable<DateOnly> TradingDays(string market, AssetClass assetClass, DateOnly start, DateOnly end)
    {
        var hours = Hours(market, assetClass);
        for (var date = start; date <= end; date = date.AddDays(1))
        {
            if (hours.IsTradingDay(date))
                yield return date;
        }
    }

    /// <summary>Exchange-local close of the regular session (early closes included); null when closed.</summary>
    public TimeSpan? MarketClose(string market, AssetClass assetClass, DateOnly date) =>
        Hours(market, assetClass).MarketClose(date);

    /// <summary>Exchange-local open of the regular session (late opens included); null when closed.</summary>
    public TimeSpan? MarketOpen(string market, AssetClass assetClass, DateOnly date) =>
        Hours(market, assetClass).MarketOpen(date);

    private MarketHours ParseEntry(string key)
    {
        (int Start, int Length) entry;
        lock (_scan)
        {
            entry = _entries[key];
        }
        var (start, length) = entry;
        using var document = JsonDocument.Parse(_json.AsMemory(start, length));
        return Parse(key, document.RootElement);
    }

    private static MarketHours Parse(string key, JsonElement entry)
    {
        try
        {
            var sessions = new IReadOnlyList<MarketSession>[7];
            for (var d = 0; d < 7; d++)
            {
                sessions[d] = entry.TryGetProperty(DayNames[d], out var list)
                    ? [.. list.EnumerateArray().Select(s => new MarketSession(
                        ParseTime(s.GetProperty("start").GetString()),
                        ParseTime(s.GetProperty("end").GetString()),
                        s.GetProperty("state").GetString() ?? ""))]
                    : [];
            }
            var holidays = entry.TryGetProperty("holidays", out var h)
                ? h.EnumerateArray().Select(e => ParseDate(e.GetString())).ToList()
                : [];
            return new MarketHours(
                Zone(entry.GetProperty("dataTimeZone").GetString()),
                Zone(entry.GetProperty("exchangeTimeZone").GetString()),
                sessions,
                holidays,
                DateTimes(entry, "earlyCloses"),
                DateTimes(entry, "lateOpens"));
        }
        catch (Exception e) when (e is FormatException or KeyNotFoundException or InvalidOperationException or TimeZoneNotFoundException)
        {
            throw new InvalidDataException($"market-hours entry '{key}': {e.Message}", e);
        }
    }

    private static Dictionary<DateOnly, TimeSpan> DateTimes(JsonElement entry, string property)
    {
        var result = new Dictionary<DateOnly, TimeSpan>();
        if (entry.TryGetProperty(property, out var map) && map.ValueKind == JsonValueKind.Object)
        {
            foreach (var item in map.EnumerateObject())
                result[ParseDate(item.Name)] = ParseTime(item.Value.GetString());
        }
        return result;
    }

    private static readonly ConcurrentDictionary<string, TimeZoneInfo> Zones = new();

    private static TimeZoneInfo Zone(string? id) =>
        id is null ? throw new FormatException("missing time zone") : Zones.GetOrAdd(id, TimeZoneInfo.FindSystemTimeZoneById);

    // Holidays are written M/D/YYYY.
    private static DateOnly ParseDate(string? text) =>
        DateOnly.TryParseExact(text, "M/d/yyyy", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new FormatException($"'{text}' is not a M/D/YYYY date");

    // Session times are hh:mm:ss, or 1.00:00:00 for the end of the day.
    private static TimeSpan ParseTime(string? text) =>
        TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var time)
            ? time
            : throw new FormatException($"'{text}' is not a time of day");
}
