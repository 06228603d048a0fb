namespace Backtesting.Engine.Indicators;

/// <summary>
/// Simple moving average of the last <see cref="Period"/> values:
/// SMA_t = (x_{t-n+1} + … + x_t) / n.
/// </summary>
/// <remarks>
/// Keeps a running sum over a preallocated ring buffer. To stop floating-point drift from the
/// add-new/subtract-old updates, the sum is recomputed exactly from the buffer each time the ring
/// wraps, i.e. once every <see cref="Period"/> updates: amortized O(1), no allocation.
/// Ready after <see cref="Period"/> updates.
/// </remarks>
public sealed class Sma : IIndicator
{
    private readonly double[] _window;
    private int _count;
    private int _oldest;
    private double _sum;

    public Sma(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        Period = period;
        _window = new double[period];
    }

    public int Period { get; }

    public int WarmUpPeriod => Period;

    public bool IsReady => _count == Period;

    /// <summary>The average of the last <see cref="Period"/> values; NaN until ready.</summary>
    public double Value => IsReady ? _sum / Period : double.NaN;

    public void Update(double value)
    {
        if (_count < Period)
        {
            _window[_count++] = value;
            _sum += value;
            return;
        }

        _sum += value - _window[_oldest];
        _window[_oldest] = value;
        if (++_oldest == Period)
        {
            _oldest = 0;
            _sum = ExactSum();
        }
    }

    public void Reset()
    {
        _count = 0;
        _oldest = 0;
        _sum = 0;
    }

    private double ExactSum()
    {
        var sum = 0.0;
        foreach (var x in _window)
        {
            sum += x;
        }

        return sum;
    }
}
