using System.Collections.Concurrent;
using System.Text;
using Backtesting.Engine.Data.Cache;
using Backtesting.Engine.Data.Lean;

namespace Backtesting.Engine.Data;

/// <summary>How a <see cref="LeanDataProvider"/> reads: through a bar cache or straight from the zips.</summary>
/// <param name="BarCacheDirectory">The bar cache's folder (see <see cref="Cache.BarCache"/>), or null to read the zips.</param>
/// <param name="BarCacheReadOnly">Never write the cache: a missing or invalid entry means reading the zips.</param>
public sealed record LeanDataProviderOptions(string? BarCacheDirectory = null, bool BarCacheReadOnly = false);

/// <summary>
/// The market data of a LEAN-format data folder (plus instruments imported into its
/// <c>custom/</c> folder): catalog, calendar, FX rates, and streaming readers per request.
/// </summary>
public sealed class LeanDataProvider : IMarketDataProvider
{
    private static readonly Resolution[] AllResolutions = [Resolution.Daily, Resolution.Hour, Resolution.Minute, Resolution.Tick];

    private readonly LeanInstrumentCatalog _catalog;
    private readonly ConcurrentDictionary<string, FactorFile> _factorFiles = new();

    /// <param name="dataRoot">The data folder (holding equity/, forex/, market-hours/, ...); the caller resolves it.</param>
    public LeanDataProvider(string dataRoot)
        : this(dataRoot, new LeanDataProviderOptions())
    {
    }

    /// <param name="dataRoot">The data folder (holding equity/, forex/, market-hours/, ...); the caller resolves it.</param>
    public LeanDataProvider(string dataRoot, LeanDataProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(dataRoot))
            throw new DirectoryNotFoundException($"Data folder not found: {dataRoot}");
        DataRoot = Path.GetFullPath(dataRoot);
        Calendar = MarketCalendar.FromDataRoot(DataRoot);
        _catalog = new LeanInstrumentCatalog(DataRoot, Calendar);
        FxRates = FxRates.FromLeanFolder(DataRoot);
        BarCache = options.BarCacheDirectory is { } cache ? new BarCache(cache, options.BarCacheReadOnly) : null;
    }

    public string DataRoot { get; }

    /// <summary>The bar cache bars are read through, or null when the zips are read every time.</summary>
    public BarCache? BarCache { get; }

    public IInstrumentCatalog Catalog => _catalog;

    public MarketCalendar Calendar { get; }

    public FxRates FxRates { get; }

    IMarketCalendar IMarketDataProvider.Calendar => Calendar;

    IFxRateProvider IMarketDataProvider.FxRates => FxRates;

    /// <summary>
    /// Streams the instrument's data for the request: the reader for its asset class, resolution
    /// and data type, with the price adjustment applied (equities with a factor file; other data
    /// is as stored), limited to [Start, End] local dates and preceded by up to WarmupBars points.
    /// Tick requests interleave quote ticks with trade ticks where quote files exist.
    /// </summary>
    public IMarketDataSource Open(Instrument instrument, int index, DataRequest request)
    {
        var data = Require(instrument, request);
        var regularOnly = RegularSessionOnly(instrument, request);
        if (data.Kind == InstrumentDataKind.Custom)
        {
            var reader = BinaryBarFile.OpenRead(data.BinFiles[request.Resolution], index);
            if (!regularOnly)
            {
                reader.Restrict(request.Start, request.End, request.WarmupBars);
                return reader;
            }
            // Session first, then the window: warm-up bars are counted among regular-session bars.
            reader.Restrict(request.WarmupBars > 0 ? DateOnly.MinValue : request.Start, request.End, 0);
            return new DateWindowSource(new RegularSessionSource(reader, Hours(instrument)), request.Start, request.End, request.WarmupBars);
        }
        var source = OpenLean(data, index, request);
        if (regularOnly)
        {
            source = new RegularSessionSource(source, Hours(instrument));
        }
        return new DateWindowSource(source, request.Start, request.End, request.WarmupBars);
    }

    /// <summary>
    /// Equity minute and tick data hold the pre- and post-market sessions too; they are dropped unless the request
    /// asks for extended hours. Daily and hourly bars, and forex and crypto (which follow their own hours), are as stored.
    /// </summary>
    public static bool RegularSessionOnly(Instrument instrument, DataRequest request) =>
        !request.ExtendedHours
        && instrument.AssetClass == AssetClass.Equity
        && request.Resolution is Resolution.Minute or Resolution.Tick;

    private MarketHours Hours(Instrument instrument) => Calendar.Hours(instrument.Market, instrument.AssetClass);

    /// <summary>
    /// A SHA-256 over the request and, for every file the request reads, its path relative to the
    /// data folder, its size and its content hash: equal on every machine holding the same data.
    /// </summary>
    public string DataVersion(Instrument instrument, DataRequest request)
    {
        var data = Require(instrument, request);
        var hash = new TextSha256();
        var adjustment = EffectiveAdjustment(data, request);
        Append(hash, $"{instrument.Id}|{request.Resolution}|{request.DataType}|{adjustment}|" +
            $"{request.Start:yyyy-MM-dd}|{request.End:yyyy-MM-dd}|{request.WarmupBars}" +
            (RegularSessionOnly(instrument, request) ? "|regularSession\n" : "\n"));
        // A valid cache entry lists the size and SHA-256 of each of its files, checked unchanged: no file is re-hashed.
        var stored = CacheRequest(data, request.Resolution, request.DataType, adjustment) is { } cacheRequest
            ? BarCache!.Manifest(cacheRequest, FirstDayRead(request), request.End)?.Sources.ToDictionary(s => s.Path, StringComparer.Ordinal)
            : null;
        foreach (var path in FilesUsed(data, request))
        {
            var relative = Path.GetRelativePath(DataRoot, path).Replace('\\', '/');
            var line = stored is not null && stored.TryGetValue(relative, out var source)
                ? $"{relative}|{source.Size}|{source.Sha256}\n"
                : $"{relative}|{new FileInfo(path).Length}|{FileContentHash.Of(path)}\n";
            Append(hash, line);
        }
        return Convert.ToHexStringLower(hash.Finish());
    }

    private static void Append(TextSha256 hash, string text) => hash.Append(Encoding.UTF8.GetBytes(text));

    private InstrumentData Require(Instrument instrument, DataRequest request)
    {
        if (request.End < request.Start)
            throw new ArgumentException($"End {request.End:yyyy-MM-dd} is before Start {request.Start:yyyy-MM-dd}", nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.WarmupBars);
        var data = _catalog.Find(instrument)
            ?? throw new ArgumentException($"{instrument.Id} is not in the data folder {DataRoot}", nameof(instrument));
        if (data.Availability(request.Resolution, request.DataType) is null)
        {
            var available = AllResolutions
                .SelectMany(r => new[] { DataType.Bars, DataType.Ticks }.Select(t => (r, t, range: data.Availability(r, t))))
                .Where(x => x.range is not null)
                .Select(x => $"{x.r} {x.t} {x.range!.First:yyyy-MM-dd}..{x.range.Last:yyyy-MM-dd}");
            throw new ArgumentException(
                $"{instrument.Id} has no {request.Resolution} {request.DataType} data; available: {string.Join(", ", available)}",
                nameof(request));
        }
        return data;
    }

    /// <summary>
    /// Daily and hourly series, decoded once per file and adjustment and kept: they are small (SPY's 23 years of
    /// daily bars take about 0.5 MB), and parameter sweeps and queues of short backtests read them again and again.
    /// Minute and tick files are streamed every time: they are what memory must not grow with.
    /// </summary>
    private readonly ConcurrentDictionary<(string Instrument, Resolution Resolution, PriceAdjustment Adjustment), MarketData[]> _decoded = new();

    private IMarketDataSource OpenLean(InstrumentData data, int index, DataRequest request)
    {
        if (request.Resolution is Resolution.Daily or Resolution.Hour)
        {
            var key = (data.Instrument.Id, request.Resolution, EffectiveAdjustment(data, request));
            var bars = _decoded.GetOrAdd(key, _ =>
            {
                using var source = OpenCached(data, 0, request, DateOnly.MinValue, DateOnly.MaxValue) ?? OpenLeanFile(data, 0, request);
                var list = new List<MarketData>();
                while (source.TryRead(out var point))
                {
                    list.Add(point);
                }

                return list.ToArray();
            });
            return new InMemorySource(bars, index);
        }

        // The same days the zips would be read for (the entry's local day is its file's date); the filters follow.
        if (request.Resolution == Resolution.Minute && OpenCached(data, index, request, FirstDayRead(request), request.End) is { } cached)
            return cached;

        return OpenLeanFile(data, index, request);
    }

    /// <summary>The instrument's bars of local days [first, last] at the request's resolution from the bar cache, or
    /// null (no cache, ticks, or read-only without an entry valid for those days).</summary>
    private BarCacheReader? OpenCached(InstrumentData data, int index, DataRequest request, DateOnly first, DateOnly last) =>
        CacheRequest(data, request.Resolution, request.DataType, EffectiveAdjustment(data, request)) is { } cacheRequest
            ? BarCache!.Open(cacheRequest, index, first, last)
            : null;

    /// <summary>The first local day a minute or tick request reads: its start, or the beginning when warm-up points are wanted.</summary>
    private static DateOnly FirstDayRead(DataRequest request) => request.WarmupBars > 0 ? DateOnly.MinValue : request.Start;

    /// <summary>What the cache entry for these bars is built from, or null when they are not cached.</summary>
    private BarCacheRequest? CacheRequest(InstrumentData data, Resolution resolution, DataType dataType, PriceAdjustment adjustment)
    {
        if (BarCache is null || dataType != DataType.Bars || resolution == Resolution.Tick || data.Kind == InstrumentDataKind.Custom)
            return null;
        List<BarCacheSourceFile> sources = (data.Kind, resolution) switch
        {
            (InstrumentDataKind.LeanEquity, Resolution.Minute) => [.. data.MinuteTrades.Select(f => new BarCacheSourceFile(f.Path, f.Date))],
            (InstrumentDataKind.LeanEquity, Resolution.Hour) => [new(data.HourZip!, null)],
            _ => [new(data.DailyZip!, null)],
        };
        if (adjustment != PriceAdjustment.Raw)
            sources.Add(new(data.FactorFile!, null));
        if (File.Exists(Calendar.Source))
            sources.Add(new(Calendar.Source, null));
        var whole = new DataRequest(resolution, DataType.Bars, adjustment, DateOnly.MinValue, DateOnly.MaxValue);
        return new BarCacheRequest(DataRoot, data.Instrument.Id, resolution, adjustment,
            data.Kind == InstrumentDataKind.LeanForex ? BarRecordLayout.Quote : BarRecordLayout.Trade, sources,
            BarCacheManifest.RulesOf(Hours(data.Instrument).DataTimeZone), () => OpenLeanFile(data, 0, whole));
    }

    private IMarketDataSource OpenLeanFile(InstrumentData data, int index, DataRequest request)
    {
        var instrument = data.Instrument;
        var hours = Calendar.Hours(instrument.Market, instrument.AssetClass);
        switch (data.Kind)
        {
            case InstrumentDataKind.LeanForex:
                return LeanReaders.ForexDaily(data.DailyZip!, index, hours.DataTimeZone);
            case InstrumentDataKind.LeanCrypto:
                return LeanReaders.CryptoDaily(data.DailyZip!, index, hours.DataTimeZone);
        }
        var factors = Factors(data);
        var adjustment = EffectiveAdjustment(data, request);
        var zone = hours.DataTimeZone;
        switch (request.Resolution)
        {
            case Resolution.Daily:
                return LeanReaders.EquityDaily(data.DailyZip!, index, factors, adjustment,
                    date => hours.MarketClose(date) ?? LeanReaders.EquityClose, zone,
                    date => hours.MarketOpen(date) ?? LeanReaders.EquityOpen);
            case Resolution.Hour:
                return LeanReaders.EquityHour(data.HourZip!, index, factors, adjustment, zone);
            case Resolution.Minute:
                return LeanReaders.EquityMinute(SelectDays(data.MinuteTrades, request), index, factors, adjustment, zone);
            default:
                var trades = SelectDays(data.TickTrades, request);
                var quotes = SelectDays(data.TickQuotes, request);
                if (quotes.Count == 0)
                    return LeanReaders.TradeTicks(trades, index, factors, adjustment, zone);
                var quoteSource = LeanReaders.QuoteTicks(quotes, index, factors, adjustment, zone);
                return trades.Count == 0
                    ? quoteSource
                    : new MergedSource(quoteSource, LeanReaders.TradeTicks(trades, index, factors, adjustment, zone));
        }
    }

    private IEnumerable<string> FilesUsed(InstrumentData data, DataRequest request)
    {
        if (data.Kind == InstrumentDataKind.Custom)
            return [data.BinFiles[request.Resolution]];
        if (data.Kind != InstrumentDataKind.LeanEquity)
            return [data.DailyZip!];
        IEnumerable<string> files = request.Resolution switch
        {
            Resolution.Daily => [data.DailyZip!],
            Resolution.Hour => [data.HourZip!],
            Resolution.Minute => SelectDays(data.MinuteTrades, request).Select(f => f.Path),
            _ => SelectDays(data.TickQuotes, request).Concat(SelectDays(data.TickTrades, request)).Select(f => f.Path),
        };
        return EffectiveAdjustment(data, request) == PriceAdjustment.Raw ? files : files.Append(data.FactorFile!);
    }

    /// <summary>Per-day files in the range, plus every earlier day when warm-up points are wanted.</summary>
    private static List<LeanFile> SelectDays(IReadOnlyList<LeanFile> files, DataRequest request) =>
        [.. files.Where(f => f.Date <= request.End && (request.WarmupBars > 0 || f.Date >= request.Start))];

    /// <summary>Only equities with a factor file can be adjusted; without one (no known corporate actions) data is raw.</summary>
    private static PriceAdjustment EffectiveAdjustment(InstrumentData data, DataRequest request) =>
        data.Kind == InstrumentDataKind.LeanEquity && data.FactorFile is not null ? request.Adjustment : PriceAdjustment.Raw;

    private FactorFile? Factors(InstrumentData data) =>
        data.FactorFile is null ? null : _factorFiles.GetOrAdd(data.FactorFile, FactorFile.Load);
}
