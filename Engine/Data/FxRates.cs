using Backtesting.Engine.Data.Lean;

namespace Backtesting.Engine.Data;

/// <summary>
/// Exchange rates from daily forex files: the mid close of the latest bar known at the asked time
/// (a daily bar is known at its EndTime, the end of its day). A pair answers directly, inverted,
/// or triangulated through USD. Each pair's file is read on first use. The bundled LEAN pairs come
/// first; a pair imported into <c>custom/</c> (<c>worker import --fx</c>, daily bars) adds one the
/// bundle lacks, such as USDJPY. The rule is written out in docs/configuration.md.
/// </summary>
public sealed class FxRates : IFxRateProvider
{
    private const string Usd = "USD";

    private readonly Dictionary<string, Lazy<RateSeries>> _pairs;

    /// <param name="venue">Where the rates come from, for <see cref="Source"/> (e.g. OANDA).</param>
    /// <param name="pairFiles">Six-letter pair (e.g. EURUSD) to its LEAN forex daily zip.</param>
    /// <param name="importedPairFiles">Six-letter pair to an imported daily <see cref="BinaryBarFile"/>; a pair that
    /// <paramref name="pairFiles"/> already holds is ignored.</param>
    public FxRates(string venue, IReadOnlyDictionary<string, string> pairFiles, IReadOnlyDictionary<string, string>? importedPairFiles = null)
    {
        _pairs = new Dictionary<string, Lazy<RateSeries>>(StringComparer.Ordinal);
        foreach (var (pair, path) in pairFiles)
        {
            _pairs[CheckPair(pair, nameof(pairFiles))] = new Lazy<RateSeries>(() => RateSeries.LoadLean(path), LazyThreadSafetyMode.ExecutionAndPublication);
        }
        var imported = new List<string>();
        foreach (var (pair, path) in importedPairFiles ?? new Dictionary<string, string>())
        {
            if (_pairs.TryAdd(CheckPair(pair, nameof(importedPairFiles)),
                    new Lazy<RateSeries>(() => RateSeries.LoadImported(path), LazyThreadSafetyMode.ExecutionAndPublication)))
                imported.Add(pair.ToUpperInvariant());
        }
        Pairs = [.. _pairs.Keys.Order(StringComparer.Ordinal)];
        var bundled = Pairs.Except(imported).ToList();
        var parts = new List<string>();
        if (bundled.Count > 0)
            parts.Add($"{venue} daily mid close: {string.Join(", ", bundled)}");
        if (imported.Count > 0)
            parts.Add($"imported daily close: {string.Join(", ", imported.Order(StringComparer.Ordinal))}");
        Source = Pairs.Count == 0
            ? "no FX rates"
            : $"{string.Join("; ", parts)} (latest bar known at the time; USD-triangulated)";
    }

    private static string CheckPair(string pair, string parameter) =>
        pair.Length == 6 ? pair.ToUpperInvariant() : throw new ArgumentException($"'{pair}' is not a six-letter currency pair", parameter);

    /// <summary>
    /// The rates of <c>&lt;root&gt;/forex/&lt;market&gt;/daily/*.zip</c> (OANDA by default), plus every forex pair imported
    /// into <c>&lt;root&gt;/custom/</c> with daily bars.
    /// </summary>
    public static FxRates FromLeanFolder(string dataRoot, string market = "oanda")
    {
        var folder = Path.Combine(dataRoot, "forex", market, "daily");
        var files = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.zip")
                .Where(p => Path.GetFileNameWithoutExtension(p).Length == 6)
                .ToDictionary(p => Path.GetFileNameWithoutExtension(p).ToUpperInvariant(), p => p)
            : [];
        var imported = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in CustomInstruments.Read(dataRoot).OrderBy(r => r.Venue, StringComparer.Ordinal))
        {
            var path = CustomInstruments.BarFile(dataRoot, row.Symbol, row.Venue, Resolution.Daily);
            if (row.AssetClass == AssetClass.Forex && row.Symbol.Length == 6 && File.Exists(path))
                imported.TryAdd(row.Symbol.ToUpperInvariant(), path);
        }
        return new FxRates(market.ToUpperInvariant(), files, imported);
    }

    public IReadOnlyList<string> Pairs { get; }

    public string Source { get; }

    public bool Supports(string from, string to) => Route(from, to) is not null;

    public IReadOnlyList<(string Pair, IReadOnlyList<DateOnly> Dates)>? Coverage(string from, string to) =>
        Route(from, to)?.Select(leg => (leg.Pair, (IReadOnlyList<DateOnly>)_pairs[leg.Pair].Value.Dates)).ToList();

    public bool TryGetRate(string from, string to, long utcTicks, out double rate)
    {
        rate = 0;
        var route = Route(from, to);
        if (route is null)
            return false;
        rate = 1;
        foreach (var (pair, inverse) in route)
        {
            if (!_pairs[pair].Value.TryGetClose(utcTicks, out var close) || close <= 0)
            {
                rate = 0;
                return false;
            }
            rate *= inverse ? 1 / close : close;
        }
        return true;
    }

    /// <summary>The pairs (and whether each is inverted) that connect the currencies, or null.</summary>
    private (string Pair, bool Inverse)[]? Route(string from, string to)
    {
        from = from.ToUpperInvariant();
        to = to.ToUpperInvariant();
        if (from == to)
            return [];
        if (Leg(from, to) is { } direct)
            return [direct];
        if (from != Usd && to != Usd && Leg(from, Usd) is { } toUsd && Leg(Usd, to) is { } fromUsd)
            return [toUsd, fromUsd];
        return null;
    }

    private (string Pair, bool Inverse)? Leg(string from, string to)
    {
        if (_pairs.ContainsKey(from + to))
            return (from + to, false);
        if (_pairs.ContainsKey(to + from))
            return (to + from, true);
        return null;
    }

    /// <summary>One pair's mid closes, ordered by the time each becomes known, with each bar's date.</summary>
    private sealed class RateSeries(long[] knownAt, double[] closes, DateOnly[] dates)
    {
        public DateOnly[] Dates => dates;

        public static RateSeries LoadLean(string path)
        {
            using var source = LeanReaders.ForexDaily(path, 0);
            return Load(source);
        }

        public static RateSeries LoadImported(string path)
        {
            using var source = BinaryBarFile.OpenRead(path, 0);
            return Load(source);
        }

        private static RateSeries Load(IMarketDataSource source)
        {
            var knownAt = new List<long>();
            var closes = new List<double>();
            var dates = new List<DateOnly>();
            while (source.TryRead(out var bar))
            {
                knownAt.Add(bar.EndTime);
                closes.Add(bar.Close);
                dates.Add(bar.Date);
            }
            return new RateSeries([.. knownAt], [.. closes], [.. dates]);
        }

        public bool TryGetClose(long utcTicks, out double close)
        {
            // Index of the last bar with knownAt <= utcTicks.
            var index = Array.BinarySearch(knownAt, utcTicks);
            if (index < 0)
                index = ~index - 1;
            else
                while (index + 1 < knownAt.Length && knownAt[index + 1] == utcTicks)
                    index++;
            close = index >= 0 ? closes[index] : 0;
            return index >= 0;
        }
    }
}
