namespace Backtesting.Engine.Indicators;

/// <summary>
/// Moving Average Convergence/Divergence.
/// </summary>
/// <remarks>
/// MACD line = EMA_fast(price) − EMA_slow(price); Signal = EMA_signal(MACD line);
/// Histogram = MACD line − Signal. Every EMA is an <see cref="Ema"/> (α = 2/(n+1), seeded with the SMA
/// of its first n inputs). The MACD line is defined once the slow EMA is ready (after <c>slow</c>
/// prices); the signal EMA is fed only defined MACD values, so the indicator is ready after
/// <c>slow + signal − 1</c> prices.
/// </remarks>
public sealed class Macd : IIndicator
{
    private readonly Ema _fast;
    private readonly Ema _slow;
    private readonly Ema _signal;

    /// <param name="fast">Fast EMA period (≥ 1, less than <paramref name="slow"/>).</param>
    /// <param name="slow">Slow EMA period.</param>
    /// <param name="signal">Signal EMA period (≥ 1).</param>
    public Macd(int fast = 12, int slow = 26, int signal = 9)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fast, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(slow, fast);
        ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1);
        _fast = new Ema(fast);
        _slow = new Ema(slow);
        _signal = new Ema(signal);
    }

    public int FastPeriod => _fast.Period;

    public int SlowPeriod => _slow.Period;

    public int SignalPeriod => _signal.Period;

    /// <summary>The slow period, the longest price look-back.</summary>
    public int Period => _slow.Period;

    public int WarmUpPeriod => _slow.Period + _signal.Period - 1;

    /// <summary>True once the signal line (and so every output) is defined.</summary>
    public bool IsReady => _signal.IsReady;

    /// <summary>EMA_fast − EMA_slow; NaN until the slow EMA is ready.</summary>
    public double MacdLine => _slow.IsReady ? _fast.Value - _slow.Value : double.NaN;

    /// <summary>EMA of the MACD line; NaN until ready.</summary>
    public double Signal => _signal.Value;

    /// <summary>MACD line − Signal; NaN until ready.</summary>
    public double Histogram => IsReady ? MacdLine - _signal.Value : double.NaN;

    public void Update(double price)
    {
        _fast.Update(price);
        _slow.Update(price);
        if (_slow.IsReady)
        {
            _signal.Update(_fast.Value - _slow.Value);
        }
    }

    public void Reset()
    {
        _fast.Reset();
        _slow.Reset();
        _signal.Reset();
    }
}
