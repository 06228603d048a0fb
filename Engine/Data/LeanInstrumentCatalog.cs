using System.Collections.Concurrent;
using Backtesting.Engine.Data.Lean;

namespace Backtesting.Engine.Data;

/// <summary>Where one instrument's data lives.</summary>
internal enum InstrumentDataKind
{
    LeanEquity,
    LeanForex,
    LeanCrypto,
    Custom,
}

/// <summary>One catalog entry: the instrument and its files. File lists and date ranges load on first use.</summary>
internal sealed class InstrumentData
{
    private readonly ConcurrentDictionary<(Resolution, DataType), DateRange?> _ranges = new();
    private readonly ConcurrentDictionary<string, IReadOnlyList<LeanFile>> _dayFiles = new();

    public required Instrument Instrument { get; init; }
    public required InstrumentDataKind Kind { get; init; }
    public string? DailyZip { get; init; }
    public string? HourZip { get; init; }
    public string? MinuteFolder { get; init; }
    public string? TickFolder { get; init; }
    public string? FactorFile { get; init; }
    public IReadOnlyDictionary<Resolution, string> BinFiles { get; init; } = new Dictionary<Resolution, string>();

    public IReadOnlyList<LeanFile> MinuteTrades => DayFiles(MinuteFolder, "_trade.zip");
    public IReadOnlyList<LeanFile> MinuteQuotes => DayFiles(MinuteFolder, "_quote.zip");
    public IReadOnlyList<LeanFile> TickTrades => DayFiles(TickFolder, "_trade.zip");
    public IReadOnlyList<LeanFile> TickQuotes => DayFiles(TickFolder, "_quote.zip");

    private IReadOnlyList<LeanFile> DayFiles(string? folder, string suffix) =>
        folder is null ? [] : _dayFiles.GetOrAdd(folder + "|" + suffix, _ => LeanReaders.DayFiles(folder, suffix));

    public DateRange? Availability(Resolution resolution, DataType dataType) =>
        _ranges.GetOrAdd((resolution, dataType), key => ComputeRange(key.Item1, key.Item2));

    /// <summary>Whether any data falls in [start, end]: day files are checked one by one, since they have gaps.</summary>
    public bool HasData(Resolution resolution, DataType dataType, DateOnly start, DateOnly end)
    {
        if (Availability(resolution, dataType) is not { } range || !range.Covers(start, end))
            return false;
        if (Kind == InstrumentDataKind.Custom)
            return true;
        return (resolution, dataType) switch
        {
            (Resolution.Minute, DataType.Bars) => MinuteTrades.Any(f => f.Date >= start && f.Date <= end),
            (Resolution.Tick, DataType.Ticks) => TickTrades.Concat(TickQuotes).Any(f => f.Date >= start && f.Date <= end),
            _ => true,
        };
    }

    private DateRange? ComputeRange(Resolution resolution, DataType dataType)
    {
        if (Kind == InstrumentDataKind.Custom)
            return dataType == DataType.Bars && BinFiles.TryGetValue(resolution, out var bin) ? BinRange(bin) : null;
        return (resolution, dataType) switch
        {
            (Resolution.Daily, DataType.Bars) => ZipRange(DailyZip),
            (Resolution.Hour, DataType.Bars) => ZipRange(HourZip),
            (Resolution.Minute, DataType.Bars) => DayFileRange(MinuteTrades),
            (Resolution.Tick, DataType.Ticks) => DayFileRange([.. TickTrades, .. TickQuotes]),
            _ => null,
        };
    }

    private static DateRange? DayFileRange(IReadOnlyList<LeanFile> files) =>
        files.Count == 0 ? null : new DateRange(files.Min(f => f.Date), files.Max(f => f.Date));

    /// <summary>First and last date of a zip whose lines start with YYYYMMDD (one pass, no parsing between).</summary>
    private static DateRange? ZipRange(string? path)
    {
        if (path is null)
            return null;
        using var reader = new ZipLineReader(path);
        if (!reader.TryReadLine(out var line))
            return null;
        var first = LineDate(line, reader);
        var last = first;
        while (reader.TryReadLine(out line))
        {
            if (line.Length >= 8)
                last = LineDate(line, reader);
        }
        return new DateRange(first, last);
    }

    private static DateOnly LineDate(ReadOnlySpan<byte> line, ZipLineReader reader) =>
        line.Length >= 8 && AsciiParser.TryParseDateTime(line[..8], out var date, out _)
            ? date
            : throw new InvalidDataException($"{reader.Path} line {reader.LineNumber}: no YYYYMMDD date at the start");

    private static DateRange? BinRange(string path)
    {
        using var reader = BinaryBarFile.OpenRead(path, 0);
        if (reader.TotalCount == 0)
            return null;
        return new DateRange(reader.ReadAt(0).Date, reader.ReadAt(reader.TotalCount - 1).Date);
    }
}

/// <summary>
/// The instruments of a LEAN data folder, found by listing it (no file is opened until a date
/// range is asked for): every US equity ticker with daily, hour, minute or tick data; forex pairs
/// under <c>forex/&lt;market&gt;/daily</c>; crypto pairs under <c>crypto/&lt;market&gt;/daily</c>; and the
/// instruments imported into <c>custom/</c>. An equity's venue comes from
/// <c>equity/usa/primary-listings.csv</c> (<c>ticker,venue</c>); tickers missing there get venue
/// USA. LEAN's map files (ticker renames) are not used.
/// </summary>
public sealed class LeanInstrumentCatalog : IInstrumentCatalog
{
    /// <summary>Venue of an equity ticker absent from the primary-listings table.</summary>
    public const string UnknownEquityVenue = "USA";

    // Venues whose equities trade on the US market calendar.
    private static readonly HashSet<string> UsEquityVenues =
        new(["NYSE", "NASDAQ", "ARCA", "AMEX", "BATS", "IEX", UnknownEquityVenue], StringComparer.OrdinalIgnoreCase);

    private readonly Dictionary<string, InstrumentData> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InstrumentData> _bySymbol = new(StringComparer.Ordinal);
    private readonly List<Instrument> _instruments = [];

    public LeanInstrumentCatalog(string dataRoot, MarketCalendar calendar)
    {
        DataRoot = dataRoot;
        var properties = SymbolPropertiesDatabase.FromDataRoot(dataRoot,
            ["usa", .. MarketFolders(dataRoot, "forex"), .. MarketFolders(dataRoot, "crypto")]);
        AddEquities(dataRoot, calendar, properties);
        AddPairs(dataRoot, "forex", AssetClass.Forex, InstrumentDataKind.LeanForex, ".zip", calendar, properties);
        AddPairs(dataRoot, "crypto", AssetClass.Crypto, InstrumentDataKind.LeanCrypto, "_trade.zip", calendar, properties);
        AddCustom(dataRoot);
    }

    public string DataRoot { get; }

    public IReadOnlyList<Instrument> Instruments => _instruments;

    public bool TryResolve(string symbolOrId, out Instrument instrument)
    {
        var found = _byId.TryGetValue(symbolOrId, out var data) || _bySymbol.TryGetValue(symbolOrId, out data);
        instrument = data?.Instrument!;
        return found;
    }

    public bool HasData(Instrument instrument, Resolution resolution, DataType dataType, DateOnly start, DateOnly end) =>
        _byId.TryGetValue(instrument.Id, out var data) && data.HasData(resolution, dataType, start, end);

    public DateRange? Availability(Instrument instrument, Resolution resolution, DataType dataType) =>
        Find(instrument)?.Availability(resolution, dataType);

    internal InstrumentData? Find(Instrument instrument) =>
        _byId.TryGetValue(instrument.Id, out var data) ? data : null;

    /// <summary>The calendar market of an instrument on a venue: US equity venues share "usa".</summary>
    public static string MarketFor(AssetClass assetClass, string venue) =>
        assetClass is AssetClass.Equity or AssetClass.Index && UsEquityVenues.Contains(venue) ? "usa" : venue.ToLowerInvariant();

    private void AddEquities(string dataRoot, MarketCalendar calendar, SymbolPropertiesDatabase properties)
    {
        var usa = Path.Combine(dataRoot, "equity", "usa");
        if (!Directory.Exists(usa))
            return;
        var listings = ReadListings(Path.Combine(usa, "primary-listings.csv"));
        var dailyFolder = Path.Combine(usa, "daily");
        var hourFolder = Path.Combine(usa, "hour");
        var minuteFolder = Path.Combine(usa, "minute");
        var tickFolder = Path.Combine(usa, "tick");
        var tickers = new SortedSet<string>(StringComparer.Ordinal);
        tickers.UnionWith(ZipNames(dailyFolder));
        tickers.UnionWith(ZipNames(hourFolder));
        tickers.UnionWith(SubfolderNames(minuteFolder));
        tickers.UnionWith(SubfolderNames(tickFolder));
        var zone = calendar.Hours("usa", AssetClass.Equity).ExchangeTimeZone.Id;
        foreach (var ticker in tickers)
        {
            var symbol = ticker.ToUpperInvariant();
            var venue = listings.GetValueOrDefault(symbol, UnknownEquityVenue);
            var props = properties.Get("usa", symbol, AssetClass.Equity);
            var factorFile = Path.Combine(usa, "factor_files", ticker + ".csv");
            Add(new InstrumentData
            {
                Instrument = new Instrument(symbol, venue, AssetClass.Equity, props.QuoteCurrency, props.LotSize, props.TickSize, "usa", zone),
                Kind = InstrumentDataKind.LeanEquity,
                DailyZip = ExistingFile(Path.Combine(dailyFolder, ticker + ".zip")),
                HourZip = ExistingFile(Path.Combine(hourFolder, ticker + ".zip")),
                MinuteFolder = ExistingFolder(Path.Combine(minuteFolder, ticker)),
                TickFolder = ExistingFolder(Path.Combine(tickFolder, ticker)),
                FactorFile = ExistingFile(factorFile),
            });
        }
    }

    private void AddPairs(string dataRoot, string assetFolder, AssetClass assetClass, InstrumentDataKind kind, string suffix,
        MarketCalendar calendar, SymbolPropertiesDatabase properties)
    {
        var root = Path.Combine(dataRoot, assetFolder);
        if (!Directory.Exists(root))
            return;
        foreach (var marketFolder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var market = Path.GetFileName(marketFolder);
            var daily = Path.Combine(marketFolder, "daily");
            if (!Directory.Exists(daily))
                continue;
            var zone = calendar.Hours(market, assetClass).ExchangeTimeZone.Id;
            foreach (var path in Directory.EnumerateFiles(daily, "*" + suffix).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                var symbol = name[..^suffix.Length].ToUpperInvariant();
                var props = properties.Get(market, symbol, assetClass);
                Add(new InstrumentData
                {
                    Instrument = new Instrument(symbol, market.ToUpperInvariant(), assetClass, props.QuoteCurrency, props.LotSize,
                        props.TickSize, market, zone),
                    Kind = kind,
                    DailyZip = path,
                });
            }
        }
    }

    private void AddCustom(string dataRoot)
    {
        foreach (var row in CustomInstruments.Read(dataRoot))
        {
            var bins = new Dictionary<Resolution, string>();
            foreach (var resolution in new[] { Resolution.Daily, Resolution.Hour, Resolution.Minute })
            {
                var path = CustomInstruments.BarFile(dataRoot, row.Symbol, row.Venue, resolution);
                if (File.Exists(path))
                    bins[resolution] = path;
            }
            var instrument = new Instrument(row.Symbol, row.Venue, row.AssetClass, row.QuoteCurrency, row.LotSize, row.TickSize,
                MarketFor(row.AssetClass, row.Venue), row.TimeZone);
            if (_byId.ContainsKey(instrument.Id))
            {
                throw new InvalidDataException(
                    $"{CustomInstruments.ListPath(dataRoot)}: {instrument.Id} is also in the LEAN data; import it under another venue");
            }
            Add(new InstrumentData { Instrument = instrument, Kind = InstrumentDataKind.Custom, BinFiles = bins });
        }
    }

    private void Add(InstrumentData data)
    {
        _byId.Add(data.Instrument.Id, data);
        // A bare symbol resolves to the first instrument listed with it.
        _bySymbol.TryAdd(data.Instrument.Symbol, data);
        _instruments.Add(data.Instrument);
    }

    private static Dictionary<string, string> ReadListings(string path)
    {
        var listings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
            return listings;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var parts = line.Split(',');
            if (parts.Length >= 2 && parts[0].Length > 0)
                listings[parts[0].Trim().ToUpperInvariant()] = parts[1].Trim().ToUpperInvariant();
        }
        return listings;
    }

    private static IEnumerable<string> MarketFolders(string dataRoot, string assetFolder) =>
        SubfolderNames(Path.Combine(dataRoot, assetFolder));

    private static IEnumerable<string> ZipNames(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*.zip").Select(Path.GetFileNameWithoutExtension).OfType<string>() : [];

    private static IEnumerable<string> SubfolderNames(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateDirectories(folder).Select(Path.GetFileName).OfType<string>() : [];

    private static string? ExistingFile(string path) => File.Exists(path) ? path : null;

    private static string? ExistingFolder(string path) => Directory.Exists(path) ? path : null;
}
