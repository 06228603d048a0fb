using System.Globalization;
using System.Text;

namespace Backtesting.Engine.Data;

/// <summary>One row of <c>&lt;root&gt;/custom/instruments.csv</c>.</summary>
public sealed record CustomInstrumentRow(
    string Symbol,
    string Venue,
    AssetClass AssetClass,
    string QuoteCurrency,
    double LotSize,
    double TickSize,
    string TimeZone);

/// <summary>
/// Imported instruments: <c>&lt;root&gt;/custom/instruments.csv</c>
/// (<c>symbol,venue,assetClass,quoteCurrency,lotSize,tickSize,timeZone</c>) and their bars in
/// <c>&lt;root&gt;/custom/&lt;venue lower&gt;/&lt;resolution&gt;/&lt;symbol lower&gt;.bin</c>.
/// </summary>
public static class CustomInstruments
{
    public const string Header = "symbol,venue,assetClass,quoteCurrency,lotSize,tickSize,timeZone";

    public static string Folder(string dataRoot) => Path.Combine(dataRoot, "custom");

    public static string ListPath(string dataRoot) => Path.Combine(Folder(dataRoot), "instruments.csv");

    public static string BarFile(string dataRoot, string symbol, string venue, Resolution resolution) =>
        Path.Combine(Folder(dataRoot), venue.ToLowerInvariant(), ResolutionFolder(resolution), symbol.ToLowerInvariant() + ".bin");

    public static string ResolutionFolder(Resolution resolution) => resolution.ToString().ToLowerInvariant();

    public static IReadOnlyList<CustomInstrumentRow> Read(string dataRoot)
    {
        var path = ListPath(dataRoot);
        if (!File.Exists(path))
            return [];
        var rows = new List<CustomInstrumentRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 || string.IsNullOrWhiteSpace(line))
                continue;
            var parts = line.Split(',');
            if (parts.Length != 7
                || !Enum.TryParse<AssetClass>(parts[2], ignoreCase: true, out var assetClass)
                || !double.TryParse(parts[4], CultureInfo.InvariantCulture, out var lot)
                || !double.TryParse(parts[5], CultureInfo.InvariantCulture, out var tick))
            {
                throw new InvalidDataException($"{path} line {lineNumber}: expected {Header}");
            }
            rows.Add(new CustomInstrumentRow(parts[0], parts[1], assetClass, parts[3], lot, tick, parts[6]));
        }
        return rows;
    }

    /// <summary>Adds the row, replacing one with the same symbol and venue.</summary>
    public static void Upsert(string dataRoot, CustomInstrumentRow row)
    {
        var rows = Read(dataRoot).Where(r => r.Symbol != row.Symbol || r.Venue != row.Venue).Append(row)
            .OrderBy(r => r.Venue, StringComparer.Ordinal).ThenBy(r => r.Symbol, StringComparer.Ordinal);
        var text = new StringBuilder().Append(Header).Append('\n');
        foreach (var r in rows)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{r.Symbol},{r.Venue},{r.AssetClass},{r.QuoteCurrency},{r.LotSize:R},{r.TickSize:R},{r.TimeZone}\n");
        }
        Directory.CreateDirectory(Folder(dataRoot));
        // Write then rename so a reader never sees half a file.
        var path = ListPath(dataRoot);
        var temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, path, overwrite: true);
    }
}
