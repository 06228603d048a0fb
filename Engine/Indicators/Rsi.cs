namespace Backtesting.Engine.Indicators;

/// <summary>
/// Relative Strength Index with Wilder smoothing.
/// </summary>
/// <remarks>
/// With change c_t = x_t − x_{t-1}, gain = max(c, 0) and loss = max(−c, 0):
/// <list type="bullet">
/// <item>the first average gain and loss are the simple means of the first n changes
/// (which needs n + 1 prices, so <see cref="WarmUpPeriod"/> = n + 1);</item>
/// <item>then avg_t = (avg_{t-1} · (n − 1) + x_t) / n for gains and losses separately;</item>
/// <item>RSI = 100 − 100 / (1 + avgGain / avgLoss) = 100 · avgGain / (avgGain + avgLoss), and
/// RSI = 100 when avgLoss is 0 (including a perfectly flat series).</item>
/// </list>
/// </remarks>
public sealed class Rsi : IIndicator
{
    private bool _hasPrevious;
    private double _previous;
    private int _changes;
    private double _averageGain;
    private double _averageLoss;

    public Rsi(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        Period = period;
    }

    public int Period { get; }

    public int WarmUpPeriod => Period + 1;

    public bool IsReady => _changes == Period;

    /// <summary>RSI in [0, 100]; NaN until ready.</summary>
    public double Value
    {
        get
        {
            if (!IsReady)
            {
                return double.NaN;
            }

            return _averageLoss == 0 ? 100.0 : 100.0 * _averageGain / (_averageGain + _averageLoss);
        }
    }

    /// <summary>Wilder-smoothed average gain; NaN until ready.</summary>
    public double AverageGain => IsReady ? _averageGain : double.NaN;

    /// <summary>Wilder-smoothed average loss (≥ 0); NaN until ready.</summary>
    public double AverageLoss => IsReady ? _averageLoss : double.NaN;

    public void Update(double price)
    {
        if (!_hasPrevious)
        {
            _previous = price;
            _hasPrevious = true;
            return;
        }

        var change = price - _previous;
        _previous = price;
        var gain = change > 0 ? change : 0.0;
        var loss = change < 0 ? -change : 0.0;

        if (_changes == Period)
        {
            _averageGain = (_averageGain * (Period - 1) + gain) / Period;
            _averageLoss = (_averageLoss * (Period - 1) + loss) / Period;
            return;
        }

        _averageGain += gain;
        _averageLoss += loss;
        if (++_changes == Period)
        {
            _averageGain /= Period;
            _averageLoss /= Period;
        }
    }

    public void Reset()
    {
        _hasPrevious = false;
        _previous = 0;
        _changes = 0;
        _averageGain = 0;
        _averageLoss = 0;
    }
}
