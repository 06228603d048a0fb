namespace Backtesting.Engine.Indicators;

/// <summary>
/// Exponential moving average with smoothing factor α = 2 / (n + 1).
/// </summary>
/// <remarks>
/// Seeding: the first <see cref="Period"/> values are averaged (their SMA) and that average is the
/// first EMA value, so the indicator is ready after exactly <see cref="Period"/> updates. From then on
/// EMA_t = EMA_{t-1} + α (x_t − EMA_{t-1}). Other libraries seed with the first value instead; their
/// early values differ from these and converge as the seed's weight (1 − α)^k decays.
/// </remarks>
public sealed class Ema : IIndicator
{
    private int _count;
    // Sum of the values during the warm-up, the EMA afterwards.
    private double _state;

    public Ema(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        Period = period;
        Alpha = 2.0 / (period + 1);
    }

    public int Period { get; }

    /// <summary>The smoothing factor α = 2 / (Period + 1).</summary>
    public double Alpha { get; }

    public int WarmUpPeriod => Period;

    public bool IsReady => _count == Period;

    /// <summary>The current EMA; NaN until ready.</summary>
    public double Value => IsReady ? _state : double.NaN;

    public void Update(double value)
    {
        if (_count == Period)
        {
            _state += Alpha * (value - _state);
            return;
        }

        _state += value;
        if (++_count == Period)
        {
            _state /= Period;
        }
    }

    public void Reset()
    {
        _count = 0;
        _state = 0;
    }
}
