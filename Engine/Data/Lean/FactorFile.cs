using System.Globalization;

namespace Backtesting.Engine.Data.Lean;

/// <summary>One row of a LEAN factor file.</summary>
public readonly record struct FactorRow(DateOnly Date, double PriceFactor, double SplitFactor, double ReferencePrice);

/// <summary>
/// A LEAN factor file (<c>equity/usa/factor_files/&lt;ticker&gt;.csv</c>): rows
/// <c>YYYYMMDD,price_factor,split_factor,reference_price</c>. A bar uses the factors of the first
/// row dated on or after the bar's date; bars after the last row are unadjusted.
/// </summary>
public sealed class FactorFile
{
    private readonly FactorRow[] _rows;

    public FactorFile(IEnumerable<FactorRow> rows)
    {
        _rows = [.. rows.OrderBy(r => r.Date)];
    }

    /// <summary>No corporate actions: every factor is 1.</summary>
    public static FactorFile Identity { get; } = new([]);

    public IReadOnlyList<FactorRow> Rows => _rows;

    public static FactorFile Load(string path)
    {
        var rows = new List<FactorRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var parts = line.Split(',');
            if (parts.Length < 3
                || !DateOnly.TryParseExact(parts[0], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var priceFactor)
                || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var splitFactor))
            {
                throw new InvalidDataException($"{path} line {lineNumber}: expected YYYYMMDD,price_factor,split_factor[,reference_price]");
            }
            var referencePrice = parts.Length > 3 && double.TryParse(parts[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? r : 0;
            rows.Add(new FactorRow(date, priceFactor, splitFactor, referencePrice));
        }
        return new FactorFile(rows);
    }

    /// <summary>Index of the row that applies to <paramref name="date"/>, or the row count when none does.</summary>
    internal int RowIndexFor(DateOnly date, int hint = 0)
    {
        // Bars arrive in date order, so a forward scan from the last row used is O(1) on average.
        var i = hint > 0 && hint <= _rows.Length && _rows[hint - 1].Date < date ? hint : 0;
        if (i == 0)
        {
            var lo = 0;
            var hi = _rows.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_rows[mid].Date < date)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            return lo;
        }
        while (i < _rows.Length && _rows[i].Date < date)
            i++;
        return i;
    }

    /// <summary>The price factor and split factor that apply on <paramref name="date"/>.</summary>
    public (double PriceFactor, double SplitFactor) FactorsFor(DateOnly date)
    {
        var i = RowIndexFor(date);
        return i < _rows.Length ? (_rows[i].PriceFactor, _rows[i].SplitFactor) : (1, 1);
    }

    /// <summary>What raw prices of that date are multiplied by, and what volumes are divided by.</summary>
    public (double PriceMultiplier, double VolumeDivisor) Multipliers(DateOnly date, PriceAdjustment adjustment) =>
        Multipliers(RowIndexFor(date), adjustment);

    internal (double PriceMultiplier, double VolumeDivisor) Multipliers(int rowIndex, PriceAdjustment adjustment)
    {
        if (adjustment == PriceAdjustment.Raw || rowIndex >= _rows.Length)
            return (1, 1);
        var row = _rows[rowIndex];
        // Volume is divided by the split factor whenever splits are adjusted: a 7:1 split turns one
        // pre-split share into seven, so pre-split volumes are scaled up to post-split shares.
        return adjustment == PriceAdjustment.Split
            ? (row.SplitFactor, row.SplitFactor)
            : (row.PriceFactor * row.SplitFactor, row.SplitFactor);
    }
}

/// <summary>Per-date price and volume multipliers for a reader, cached for the current date.</summary>
internal sealed class PriceAdjuster(FactorFile factors, PriceAdjustment adjustment)
{
    private int _day = int.MinValue;
    private int _rowHint;

    public static PriceAdjuster None { get; } = new(FactorFile.Identity, PriceAdjustment.Raw);

    public bool IsIdentity { get; } = adjustment == PriceAdjustment.Raw || factors.Rows.Count == 0;

    public double PriceMultiplier { get; private set; } = 1;

    public double VolumeDivisor { get; private set; } = 1;

    /// <summary>Sets <see cref="PriceMultiplier"/> and <see cref="VolumeDivisor"/> for the day.</summary>
    public void SetDay(int dayNumber)
    {
        if (IsIdentity || dayNumber == _day)
            return;
        _day = dayNumber;
        _rowHint = factors.RowIndexFor(DateOnly.FromDayNumber(dayNumber), _rowHint);
        (PriceMultiplier, VolumeDivisor) = factors.Multipliers(_rowHint, adjustment);
    }
}
