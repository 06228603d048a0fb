namespace Backtesting.Engine.Indicators;

/// <summary>
/// Bollinger Bands: Middle = SMA(n), Upper = Middle + k·σ, Lower = Middle − k·σ, with σ the
/// POPULATION standard deviation of the same n values (see <see cref="RollingStdDev"/>).
/// </summary>
public sealed class BollingerBands : IIndicator
{
    private readonly RollingStdDev _stdDev;

    /// <param name="period">Window length n (≥ 1).</param>
    /// <param name="stdDevs">Band width k in standard deviations (finite, ≥ 0); 2 is customary.</param>
    public BollingerBands(int period, double stdDevs = 2.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        if (!double.IsFinite(stdDevs) || stdDevs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stdDevs), stdDevs, "Must be finite and non-negative.");
        }

        _stdDev = new RollingStdDev(period);
        StdDevs = stdDevs;
    }

    public int Period => _stdDev.Period;

    /// <summary>Band width k, in standard deviations.</summary>
    public double StdDevs { get; }

    public int WarmUpPeriod => Period;

    public bool IsReady => _stdDev.IsReady;

    /// <summary>SMA of the window; NaN until ready.</summary>
    public double Middle => _stdDev.Mean;

    /// <summary>Middle + k·σ; NaN until ready.</summary>
    public double Upper => _stdDev.Mean + StdDevs * _stdDev.Value;

    /// <summary>Middle − k·σ; NaN until ready.</summary>
    public double Lower => _stdDev.Mean - StdDevs * _stdDev.Value;

    /// <summary>Population standard deviation σ of the window; NaN until ready.</summary>
    public double StandardDeviation => _stdDev.Value;

    public void Update(double value) => _stdDev.Update(value);

    public void Reset() => _stdDev.Reset();
}
