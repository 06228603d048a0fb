using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Backtesting.Engine.Data.Lean;

/// <summary>What <see cref="SyntheticLeanMinutes.Generate"/> wrote.</summary>
/// <param name="Days">Sessions written, one zip each.</param>
/// <param name="Bars">Minute bars written (390 a session).</param>
public sealed record SyntheticMinutesSummary(string DataRoot, string Ticker, int Days, long Bars, DateOnly First, DateOnly Last);

/// <summary>
/// Writes LEAN-format equity minute data for benchmarks and tests: on every session of a daily file (SPY's, from the
/// source data folder) in a date range, 390 one-minute trade bars from 09:30 to 15:59 New York, a seeded geometric
/// random walk with prices in 1/10,000 dollars, one zip a day laid out as LEAN does
/// (<c>equity/usa/minute/&lt;ticker&gt;/YYYYMMDD_trade.zip</c> holding <c>YYYYMMDD_&lt;ticker&gt;_minute_trade.csv</c>).
/// The market-hours and symbol-properties databases, the primary listings and the daily file are copied so the
/// catalog and calendar of the new folder work. Equal seeds give byte-identical files.
/// </summary>
public static class SyntheticLeanMinutes
{
    public const int BarsPerSession = 390;

    /// <summary>First bar's time: 09:30 in milliseconds after local midnight.</summary>
    private const long SessionOpenMs = ((9 * 60) + 30) * 60_000L;

    public static SyntheticMinutesSummary Generate(string sourceDataRoot, string targetDataRoot, DateOnly start, DateOnly end,
        int seed, string ticker = "spy", double startPrice = 100)
    {
        ArgumentException.ThrowIfNullOrEmpty(ticker);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(startPrice);
        var sessionsFile = Path.Combine(sourceDataRoot, "equity", "usa", "daily", "spy.zip");
        CopySupportFiles(sourceDataRoot, targetDataRoot, ticker);
        var folder = Path.Combine(targetDataRoot, "equity", "usa", "minute", ticker);
        Directory.CreateDirectory(folder);
        var random = new SplitMix64((ulong)seed);
        var price = Math.Round(startPrice * LeanReaders.EquityPriceScale);
        var days = 0;
        DateOnly first = default, last = default;
        var csv = new StringBuilder(BarsPerSession * 48);
        foreach (var date in Sessions(sessionsFile).Where(d => d >= start && d <= end))
        {
            csv.Clear();
            for (var minute = 0; minute < BarsPerSession; minute++)
            {
                var open = price;
                // A step of about 0.05% a minute; prices stay whole 1/10,000 dollars and at least 1.
                var close = Math.Max(1, Math.Round(open * Math.Exp(0.0005 * random.NextGaussian())));
                var high = Math.Max(open, close) + Math.Round(random.NextDouble() * open * 0.0002);
                var low = Math.Max(1, Math.Min(open, close) - Math.Round(random.NextDouble() * open * 0.0002));
                var volume = 100 + (long)(random.NextDouble() * 10_000);
                csv.Append(CultureInfo.InvariantCulture, $"{SessionOpenMs + (minute * 60_000L)},{open:0},{high:0},{low:0},{close:0},{volume}\n");
                price = close;
            }

            WriteZip(Path.Combine(folder, $"{date:yyyyMMdd}_trade.zip"), $"{date:yyyyMMdd}_{ticker}_minute_trade.csv", date, csv);
            if (days++ == 0)
                first = date;
            last = date;
        }

        return new SyntheticMinutesSummary(targetDataRoot, ticker, days, (long)days * BarsPerSession, first, last);
    }

    /// <summary>The dates of a LEAN daily zip's lines, in order.</summary>
    public static IReadOnlyList<DateOnly> Sessions(string dailyZip)
    {
        var dates = new List<DateOnly>();
        using var reader = new ZipLineReader(dailyZip);
        while (reader.TryReadLine(out var line))
        {
            if (line.Length >= 8 && AsciiParser.TryParseDateTime(line[..8], out var date, out _))
                dates.Add(date);
        }

        return dates;
    }

    private static void WriteZip(string path, string entryName, DateOnly date, StringBuilder csv)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        var entry = zip.CreateEntry(entryName, CompressionLevel.Optimal);
        // A fixed time stamp keeps the zip's bytes (and so the data version) a function of the seed alone.
        entry.LastWriteTime = new DateTimeOffset(date.ToDateTime(new TimeOnly(20, 0)), TimeSpan.Zero);
        using var stream = entry.Open();
        stream.Write(Encoding.ASCII.GetBytes(csv.ToString()));
    }

    private static void CopySupportFiles(string source, string target, string ticker)
    {
        foreach (var relative in new[]
                 {
                     Path.Combine("market-hours", "market-hours-database.json"),
                     Path.Combine("symbol-properties", "symbol-properties-database.csv"),
                     Path.Combine("symbol-properties", "security-database.csv"),
                     Path.Combine("equity", "usa", "primary-listings.csv"),
                 })
        {
            CopyIfPresent(Path.Combine(source, relative), Path.Combine(target, relative));
        }

        // The daily file names the sessions; under the ticker's name it gives the catalog its daily series too.
        CopyIfPresent(Path.Combine(source, "equity", "usa", "daily", "spy.zip"), Path.Combine(target, "equity", "usa", "daily", ticker + ".zip"));
    }

    private static void CopyIfPresent(string from, string to)
    {
        if (!File.Exists(from))
            return;
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to, overwrite: true);
    }

    /// <summary>A small, fully specified generator, so the data is the same on every runtime version.</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;
        private double? _spare;

        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, 1).</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        /// <summary>Standard normal (Box-Muller).</summary>
        public double NextGaussian()
        {
            if (_spare is { } spare)
            {
                _spare = null;
                return spare;
            }

            var u1 = 1.0 - NextDouble();
            var u2 = NextDouble();
            var radius = Math.Sqrt(-2.0 * Math.Log(u1));
            _spare = radius * Math.Sin(2 * Math.PI * u2);
            return radius * Math.Cos(2 * Math.PI * u2);
        }
    }
}
