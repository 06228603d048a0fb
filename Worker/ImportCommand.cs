using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;

namespace Backtesting.Worker;

/// <summary>
/// <c>worker import --file prices.csv --symbol ABC --venue NYSE [--asset-class equity] [--currency USD]
/// [--time-zone America/New_York] [--data dir]</c>: adds a user's OHLCV CSV (ISO timestamps or Yahoo's format)
/// to the data folder's catalog so later backtests can name it.
/// <c>worker import --file usdjpy.csv --fx USDJPY</c> imports an exchange-rate series: a forex pair whose daily
/// closes convert between its two currencies (USDJPY: JPY per USD), listed as <c>USDJPY.FX</c> unless a venue is given.
/// </summary>
public static class ImportCommand
{
    public const string Usage =
        "usage: worker import --file <prices.csv> (--symbol <SYMBOL> --venue <VENUE> | --fx <PAIR, e.g. USDJPY> [--venue FX]) [--asset-class equity|forex|crypto] [--currency USD] [--time-zone <IANA zone>] [--data <dir>]";

    /// <summary>The venue an FX pair imported with <c>--fx</c> is listed under when none is given.</summary>
    public const string FxVenue = "FX";

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? file = null, symbol = null, venue = null, data = null, zone = null, fx = null, currency = null;
        var assetClass = AssetClass.Equity;
        var assetClassGiven = false;
        for (var i = 0; i < args.Count; i++)
        {
            string? Next() => i + 1 < args.Count ? args[++i] : null;
            switch (args[i])
            {
                case "--file": file = Next(); break;
                case "--symbol": symbol = Next(); break;
                case "--venue": venue = Next(); break;
                case "--currency": currency = Next() ?? ""; break;
                case "--time-zone": zone = Next(); break;
                case "--data": data = Next(); break;
                case "--fx": fx = Next() ?? ""; break;
                case "--asset-class":
                    if (!Enum.TryParse(Next(), ignoreCase: true, out assetClass) || assetClass == AssetClass.Index)
                    {
                        stderr.WriteLine("--asset-class must be equity, forex or crypto");
                        return ExitCodes.Usage;
                    }

                    assetClassGiven = true;
                    break;
                default:
                    stderr.WriteLine($"unknown argument '{args[i]}'");
                    stderr.WriteLine(Usage);
                    return ExitCodes.Usage;
            }
        }

        if (fx is not null)
        {
            if (symbol is not null || (assetClassGiven && assetClass != AssetClass.Forex))
            {
                stderr.WriteLine("--fx names the pair itself: leave out --symbol and --asset-class");
                return ExitCodes.Usage;
            }

            symbol = fx;
            assetClass = AssetClass.Forex;
            venue ??= FxVenue;
        }

        if (file is null || symbol is null || venue is null)
        {
            stderr.WriteLine("--file and either --symbol with --venue, or --fx, are required");
            stderr.WriteLine(Usage);
            return ExitCodes.Usage;
        }

        // A six-letter forex pair is quoted in its second currency: USDJPY in JPY.
        var pairQuote = assetClass == AssetClass.Forex && symbol.Length == 6 && symbol.All(char.IsAsciiLetter)
            ? symbol[3..].ToUpperInvariant()
            : null;
        if (fx is not null && pairQuote is null)
        {
            stderr.WriteLine($"--fx '{fx}' is not a six-letter currency pair such as USDJPY");
            return ExitCodes.Usage;
        }

        if (pairQuote is not null && currency is not null && !string.Equals(currency, pairQuote, StringComparison.OrdinalIgnoreCase))
        {
            stderr.WriteLine($"--currency {currency} contradicts the pair {symbol.ToUpperInvariant()}, which is quoted in {pairQuote}");
            return ExitCodes.Usage;
        }

        var root = DataRoot.Locate(data);
        if (root is null)
        {
            stderr.WriteLine("no market data folder found: pass --data <dir> or set BACKTESTING_DATA");
            return ExitCodes.Usage;
        }

        try
        {
            var result = CsvImporter.Import(file, symbol, venue, assetClass, currency ?? pairQuote ?? "USD", root, zone,
                fx is null ? null : Resolution.Daily);
            stdout.WriteLine($"imported {result.BarCount} {result.Resolution.ToString().ToLowerInvariant()} bars of {result.Instrument.Id} " +
                             $"({result.First:yyyy-MM-dd} to {result.Last:yyyy-MM-dd}) into {Path.GetRelativePath(root, result.BarFile)}" +
                             (fx is null ? "" : $"; exchange rates {result.Instrument.Symbol[..3]}/{result.Instrument.Symbol[3..]} available"));
            return ExitCodes.Completed;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or ArgumentException or IOException or InvalidOperationException)
        {
            stderr.WriteLine($"import failed: {e.Message}");
            return ExitCodes.InvalidConfig;
        }
    }
}
