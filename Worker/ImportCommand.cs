using Backtesting.Engine.Data;

namespace Backtesting.Worker;

/// <summary>
/// <c>worker import --file prices.csv --symbol ABC --venue NYSE [--asset-class equity] [--currency USD]
/// [--time-zone America/New_York] [--data dir]</c>: adds a user's OHLCV CSV (ISO timestamps or Yahoo's format)
/// to the data folder's catalog so later backtests can name it.
/// </summary>
public static class ImportCommand
{
    public const string Usage =
        "usage: worker import --file <prices.csv> --symbol <SYMBOL> --venue <VENUE> [--asset-class equity|forex|crypto] [--currency USD] [--time-zone <IANA zone>] [--data <dir>]";

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? file = null, symbol = null, venue = null, data = null, zone = null;
        var assetClass = AssetClass.Equity;
        var currency = "USD";
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
                case "--asset-class":
                    if (!Enum.TryParse(Next(), ignoreCase: true, out assetClass) || assetClass == AssetClass.Index)
                    {
                        stderr.WriteLine("--asset-class must be equity, forex or crypto");
                        return ExitCodes.Usage;
                    }

                    break;
                default:
                    stderr.WriteLine($"unknown argument '{args[i]}'");
                    stderr.WriteLine(Usage);
                    return ExitCodes.Usage;
            }
        }

        if (file is null || symbol is null || venue is null)
        {
            stderr.WriteLine("--file, --symbol and --venue are required");
            stderr.WriteLine(Usage);
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
            var result = CsvImporter.Import(file, symbol, venue, assetClass, currency, root, zone);
            stdout.WriteLine($"imported {result.BarCount} {result.Resolution.ToString().ToLowerInvariant()} bars of {result.Instrument.Id} " +
                             $"({result.First:yyyy-MM-dd} to {result.Last:yyyy-MM-dd}) into {Path.GetRelativePath(root, result.BarFile)}");
            return ExitCodes.Completed;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or ArgumentException or IOException or InvalidOperationException)
        {
            stderr.WriteLine($"import failed: {e.Message}");
            return ExitCodes.InvalidConfig;
        }
    }
}
