namespace Backtesting.Engine.Indicators;

/// <summary>
/// Average True Range with Wilder smoothing.
/// </summary>
/// <remarks>
/// True range TR_t = max(h − l, |h − prevClose|, |l − prevClose|); the very first bar has no previous
/// close, so its TR is h − l. The first ATR is the simple mean of the first n TRs (ready after n bars),
/// then ATR_t = (ATR_{t-1} · (n − 1) + TR_t) / n.
/// </remarks>
public sealed class Atr : IIndicator
{
    private bool _hasPrevious;
    private double _previousClose;
    private int _count;
    // Sum of the TRs during the warm-up, the ATR afterwards.
    private double _state;

    public Atr(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        Period = period;
        TrueRange = double.NaN;
    }

    public int Period { get; }

    public int WarmUpPeriod => Period;

    public bool IsReady => _count == Period;

    /// <summary>The current ATR; NaN until ready.</summary>
    public double Value => IsReady ? _state : double.NaN;

    /// <summary>True range of the last bar; NaN before the first update.</summary>
    public double TrueRange { get; private set; }

    public void Update(double high, double low, double close)
    {
        var range = high - low;
        if (_hasPrevious)
        {
            var up = Math.Abs(high - _previousClose);
            var down = Math.Abs(low - _previousClose);
            if (up > range)
            {
                range = up;
            }

            if (down > range)
            {
                range = down;
            }
        }

        _previousClose = close;
        _hasPrevious = true;
        TrueRange = range;

        if (_count == Period)
        {
            _state = (_state * (Period - 1) + range) / Period;
            return;
        }

        _state += range;
        if (++_count == Period)
        {
            _state /= Period;
        }
    }

    public void Reset()
    {
        _hasPrevious = false;
        _previousClose = 0;
        _count = 0;
        _state = 0;
        TrueRange = double.NaN;
    }
}
