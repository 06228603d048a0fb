namespace Backtesting.Engine.Indicators;

/// <summary>
/// Simple moving average of the last <see cref="Period"/> values:
/// SMA_t = (x_{t-n+1} + … + x_t) / n.
/// </summary>
/// <remarks>
/// The window sum is exact (<see cref="ExactWindowSum"/>): equal windows give bitwise-equal averages, and two
/// averages of different lengths whose exact decimal means are equal (flat cent prices) compare equal, so a strict
/// cross sees a tie rather than rounding noise. O(1) amortized per update, no allocation.
/// Ready after <see cref="Period"/> updates.
/// </remarks>
public sealed class Sma : IIndicator
{
    private readonly ExactWindowSum _sum;

    public Sma(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        Period = period;
        _sum = new ExactWindowSum(period);
    }

    public int Period { get; }

    public int WarmUpPeriod => Period;

    public bool IsReady => _sum.IsFull;

    /// <summary>The average of the last <see cref="Period"/> values; NaN until ready.</summary>
    public double Value => IsReady ? _sum.Mean : double.NaN;

    public void Update(double value) => _sum.Add(value);

    public void Reset() => _sum.Clear();
}
