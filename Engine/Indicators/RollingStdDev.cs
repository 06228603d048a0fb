namespace Backtesting.Engine.Indicators;

/// <summary>
/// Rolling mean and POPULATION standard deviation of the last <see cref="Period"/> values:
/// σ = sqrt( Σ (x_i − mean)² / n ), dividing by n (not n − 1), as Bollinger Bands are usually defined.
/// </summary>
/// <remarks>
/// Numerics: the window's mean and sum of squared deviations (M2) are updated with the windowed
/// Welford recurrence (replace the oldest value x_o by x_n:
/// mean' = mean + (x_n − x_o)/n, M2' = M2 + (x_n − x_o)(x_n − mean' + x_o − mean)), which avoids the
/// catastrophic cancellation of the sum/sum-of-squares formula. The recurrence runs on values shifted
/// by a reference level K close to the data (y = x − K), so a series at 1e6 with a spread of 1 keeps
/// its mean's rounding at the scale of the spread rather than of the level. Every time the ring wraps
/// (once every <see cref="Period"/> updates) K, the mean and M2 are recomputed exactly from the buffer,
/// which bounds any drift: amortized O(1), no allocation. The reported <see cref="Mean"/> comes from an exact
/// window sum (<see cref="ExactWindowSum"/>), so it is bitwise the <see cref="Sma"/> of the same window and a close
/// equal to it is a tie.
/// </remarks>
public sealed class RollingStdDev : IIndicator
{
    private readonly double[] _window;
    private readonly ExactWindowSum _sum;
    private int _count;
    private int _oldest;
    private double _shift;
    // Mean and M2 of the shifted values y = x − _shift.
    private double _shiftedMean;
    private double _m2;

    public RollingStdDev(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        Period = period;
        _window = new double[period];
        _sum = new ExactWindowSum(period);
    }

    public int Period { get; }

    public int WarmUpPeriod => Period;

    public bool IsReady => _count == Period;

    /// <summary>Population standard deviation of the window; NaN until ready.</summary>
    public double Value => Math.Sqrt(Variance);

    /// <summary>Population variance Σ (x − mean)² / n of the window (never negative); NaN until ready.</summary>
    public double Variance => IsReady ? (_m2 > 0 ? _m2 / Period : 0.0) : double.NaN;

    /// <summary>Mean of the window (the SMA); NaN until ready.</summary>
    public double Mean => IsReady ? _sum.Mean : double.NaN;

    public void Update(double value)
    {
        _sum.Add(value);
        if (_count < Period)
        {
            if (_count == 0)
            {
                _shift = value;
            }

            _window[_count++] = value;
            var y = value - _shift;
            var delta = y - _shiftedMean;
            _shiftedMean += delta / _count;
            _m2 += delta * (y - _shiftedMean);
            if (_count == Period)
            {
                Recompute();
            }

            return;
        }

        var yOld = _window[_oldest] - _shift;
        var yNew = value - _shift;
        _window[_oldest] = value;
        var newMean = _shiftedMean + (yNew - yOld) / Period;
        _m2 += (yNew - yOld) * (yNew - newMean + yOld - _shiftedMean);
        _shiftedMean = newMean;
        if (++_oldest == Period)
        {
            _oldest = 0;
            Recompute();
        }
    }

    public void Reset()
    {
        _sum.Clear();
        _count = 0;
        _oldest = 0;
        _shift = 0;
        _shiftedMean = 0;
        _m2 = 0;
    }

    // Exact state from the buffer: K = plain mean, then the mean and M2 of x − K (both small numbers).
    private void Recompute()
    {
        var sum = 0.0;
        foreach (var x in _window)
        {
            sum += x;
        }

        var shift = sum / Period;
        var shiftedSum = 0.0;
        foreach (var x in _window)
        {
            shiftedSum += x - shift;
        }

        var shiftedMean = shiftedSum / Period;
        var m2 = 0.0;
        foreach (var x in _window)
        {
            var d = x - shift - shiftedMean;
            m2 += d * d;
        }

        _shift = shift;
        _shiftedMean = shiftedMean;
        _m2 = m2;
    }
}
