using Backtesting.Engine.Data.Lean;

namespace Backtesting.Engine.Data;

/// <summary>
/// Exchange rates from daily forex files: the mid close of the latest bar known at the asked time
/// (a daily bar is known at its EndTime, the end of its day). A pair answers directly, inverted,
/// or triangulated through USD. Each pair's file is read on first use.
/// </summary>
public sealed class FxRates : IFxRateProvider
{
    private const string Usd = "USD";

    private readonly Dictionary<string, Lazy<RateSeries>> _pairs;

    /// <param name="venue">Where the rates come from, for <see cref="Source"/> (e.g. OANDA).</param>
    /// <param name="pairFiles">Six-letter pair (e.g. EURUSD) to its LEAN forex daily zip.</param>
    public FxRates(string venue, IReadOnlyDictionary<string, string> pairFiles)
    {
        _pairs = new Dictionary<string, Lazy<RateSeries>>(StringComparer.Ordinal);
        foreach (var (pair, path) in pairFiles)
        {
            if (pair.Length != 6)
                throw new ArgumentException($"'{pair}' is not a six-letter currency pair", nameof(pairFiles));
            _pairs[pair.ToUpperInvariant()] = new Lazy<RateSeries>(() => RateSeries.Load(path), LazyThreadSafetyMode.ExecutionAndPublication);
        }
        Pairs = [.. _pairs.Keys.Order(StringComparer.Ordinal)];
        Source = Pairs.Count == 0
            ? "no FX rates"
            : $"{venue} daily mid close: {string.Join(", ", Pairs)} (latest bar known at the time; USD-triangulated)";
    }

    /// <summary>The rates of <c>&lt;root&gt;/forex/&lt;market&gt;/daily/*.zip</c> (OANDA by default).</summary>
    public static FxRates FromLeanFolder(string dataRoot, string market = "oanda")
    {
        var folder = Path.Combine(dataRoot, "forex", market, "daily");
        var files = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.zip")
                .Where(p => Path.GetFileNameWithoutExtension(p).Length == 6)
                .ToDictionary(p => Path.GetFileNameWithoutExtension(p).ToUpperInvariant(), p => p)
            : [];
        return new FxRates(market.ToUpperInvariant(), files);
    }

    public IReadOnlyList<string> Pairs { get; }

    public string Source { get; }

    public bool Supports(string from, string to) => Route(from, to) is not null;

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

    /// <summary>One pair's mid closes, ordered by the time each becomes known.</summary>
    private sealed class RateSeries(long[] knownAt, double[] closes)
    {
        public static RateSeries Load(string path)
        {
            var knownAt = new List<long>();
            var closes = new List<double>();
            using var source = LeanReaders.ForexDaily(path, 0);
            while (source.TryRead(out var bar))
            {
                knownAt.Add(bar.EndTime);
                closes.Add(bar.Close);
            }
            return new RateSeries([.. knownAt], [.. closes]);
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
