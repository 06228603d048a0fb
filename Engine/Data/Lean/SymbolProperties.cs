namespace Backtesting.Engine.Data.Lean;

/// <summary>Quote currency, tick size and lot size of a symbol.</summary>
public sealed record SymbolProperties(string QuoteCurrency, double TickSize, double LotSize);

/// <summary>
/// LEAN's <c>symbol-properties/symbol-properties-database.csv</c>
/// (<c>market,symbol,type,description,quote_currency,contract_multiplier,minimum_price_variation,lot_size,...</c>),
/// with per-market <c>[*]</c> rows as fallbacks and built-in defaults when neither exists.
/// </summary>
public sealed class SymbolPropertiesDatabase
{
    private readonly Dictionary<string, SymbolProperties> _rows = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Loads the rows of the given markets (e.g. usa, oanda; all when null) from the file, if it exists.
    /// </summary>
    public SymbolPropertiesDatabase(string? path, IReadOnlySet<string>? markets = null)
    {
        if (path is null || !File.Exists(path))
            return;
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0 || line[0] == '#' || line.StartsWith("market,", StringComparison.Ordinal))
                continue;
            // Skip other markets before splitting: the file has thousands of rows for crypto exchanges.
            var comma = line.IndexOf(',');
            if (comma < 0 || (markets is not null && !markets.Contains(line[..comma])))
                continue;
            var parts = line.Split(',');
            if (parts.Length < 8)
                continue;
            if (!double.TryParse(parts[6], System.Globalization.CultureInfo.InvariantCulture, out var tick)
                || !double.TryParse(parts[7], System.Globalization.CultureInfo.InvariantCulture, out var lot))
            {
                continue; // a malformed row only loses its own symbol: the defaults apply
            }
            _rows.TryAdd(Key(parts[0], parts[1], parts[2]), new SymbolProperties(parts[4], tick, lot));
        }
    }

    public static SymbolPropertiesDatabase FromDataRoot(string dataRoot, IEnumerable<string>? markets = null) =>
        new(Path.Combine(dataRoot, "symbol-properties", "symbol-properties-database.csv"),
            markets?.ToHashSet(StringComparer.OrdinalIgnoreCase));

    /// <summary>The symbol's row, else its market's <c>[*]</c> row, else a default for the asset class.</summary>
    public SymbolProperties Get(string market, string symbol, AssetClass assetClass)
    {
        var type = assetClass.ToString().ToLowerInvariant();
        if (_rows.TryGetValue(Key(market, symbol, type), out var exact))
            return exact;
        if (_rows.TryGetValue(Key(market, "[*]", type), out var wildcard))
            return wildcard;
        return Default(symbol, assetClass);
    }

    /// <summary>
    /// Defaults: equities and indices USD, tick 0.01, lot 1; forex and crypto pairs quote in their
    /// last three letters, forex tick 0.00001 and lot 1, crypto tick 0.01 and lot 0.00000001.
    /// </summary>
    public static SymbolProperties Default(string symbol, AssetClass assetClass) => assetClass switch
    {
        AssetClass.Forex => new SymbolProperties(LastThree(symbol), 0.00001, 1),
        AssetClass.Crypto => new SymbolProperties(LastThree(symbol), 0.01, 0.00000001),
        _ => new SymbolProperties("USD", 0.01, 1),
    };

    private static string LastThree(string symbol) => symbol.Length >= 6 ? symbol[^3..].ToUpperInvariant() : "USD";

    private static string Key(string market, string symbol, string type) => $"{market}|{symbol}|{type}";
}
