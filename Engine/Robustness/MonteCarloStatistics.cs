using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Robustness;

/// <summary>The 5th, 25th, 50th, 75th and 95th percentiles of a sample.</summary>
public sealed record Percentiles(double P5, double P25, double P50, double P75, double P95)
{
    /// <summary>The levels, as probabilities, in the order of the properties.</summary>
    public static readonly IReadOnlyList<double> Levels = [0.05, 0.25, 0.50, 0.75, 0.95];

    /// <summary>
    /// The percentiles of an ascending, non-empty sample by linear interpolation between order statistics
    /// (Hyndman and Fan's type 7, the definition the metrics' historical VaR uses): with h = (n − 1) p, the value is
    /// x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋ + 1] − x[⌊h⌋]), 0-based.
    /// </summary>
    public static Percentiles OfSorted(ReadOnlySpan<double> sorted)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("a percentile of no values is undefined", nameof(sorted));
        }

        return new Percentiles(
            MetricsCalculator.Quantile(sorted, 0.05),
            MetricsCalculator.Quantile(sorted, 0.25),
            MetricsCalculator.Quantile(sorted, 0.50),
            MetricsCalculator.Quantile(sorted, 0.75),
            MetricsCalculator.Quantile(sorted, 0.95));
    }
}

/// <summary>One bin of a histogram: the values in [Low, High), the last bin [Low, High] with its upper edge.</summary>
public readonly record struct HistogramBin(double Low, double High, int Count);

/// <summary>The distribution of one statistic over the paths.</summary>
/// <param name="Count">Paths where the statistic is defined.</param>
/// <param name="Undefined">Paths where it is not (a Sharpe ratio of returns that do not vary, a CAGR after ruin).</param>
/// <param name="Mean">The mean of the defined values; null when there are none.</param>
/// <param name="Percentiles">Their percentiles; null when there are none.</param>
/// <param name="Histogram">Equal-width bins from the smallest to the largest defined value; one bin when they are all equal.</param>
public sealed record MonteCarloDistribution(int Count, int Undefined, double? Mean, Percentiles? Percentiles, IReadOnlyList<HistogramBin> Histogram)
{
    /// <summary>
    /// The distribution of <paramref name="values"/>, where NaN marks an undefined value. The array is reordered (the
    /// defined values end up sorted at its start).
    /// </summary>
    public static MonteCarloDistribution Of(double[] values, int bins)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bins);
        var defined = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsNaN(values[i]))
            {
                values[defined++] = values[i];
            }
        }

        var sorted = values.AsSpan(0, defined);
        sorted.Sort();
        if (defined == 0)
        {
            return new MonteCarloDistribution(0, values.Length, null, null, []);
        }

        return new MonteCarloDistribution(defined, values.Length - defined, MetricsCalculator.Mean(sorted),
            Percentiles.OfSorted(sorted), Bin(sorted, bins));
    }

    /// <summary>
    /// Counts of an ascending, non-empty sample in <paramref name="bins"/> equal-width bins over [min, max]: value x goes to
    /// bin ⌊(x − min) / w⌋ with w = (max − min) / bins, the maximum to the last bin. When min = max there is one bin.
    /// </summary>
    public static IReadOnlyList<HistogramBin> Bin(ReadOnlySpan<double> sorted, int bins)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bins);
        if (sorted.IsEmpty)
        {
            return [];
        }

        double low = sorted[0], high = sorted[^1];
        if (!(high > low))
        {
            return [new HistogramBin(low, high, sorted.Length)];
        }

        var width = (high - low) / bins;
        var counts = new int[bins];
        foreach (var x in sorted)
        {
            counts[Math.Min(bins - 1, (int)((x - low) / width))]++;
        }

        var result = new HistogramBin[bins];
        for (var b = 0; b < bins; b++)
        {
            result[b] = new HistogramBin(low + b * width, b == bins - 1 ? high : low + (b + 1) * width, counts[b]);
        }

        return result;
    }
}
