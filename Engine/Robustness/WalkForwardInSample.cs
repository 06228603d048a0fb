using Backtesting.Engine.Results;

namespace Backtesting.Engine.Robustness;

/// <summary>
/// A window's in-sample equity curve, drawn beside the stitched out-of-sample curve: the daily returns its optimization
/// stored for the chosen trial (float32), compounded, and rebased so that the curve ends at the stitched account's value
/// where the window's out-of-sample part begins. The shape (every day's return) is the trial's; only the level is moved,
/// so the in-sample run leads into the out-of-sample segment that its parameters then traded.
/// </summary>
/// <remarks>
/// With returns r_1..r_n on the days d_1..d_n of the in-sample run, G_k = (1 + r_1)···(1 + r_k) (in double), and A the
/// anchor: E(d_k) = A · G_k / G_n, so E(d_n) = A. A is the stitched equity on the last stitched day before the window's
/// out-of-sample start, or the job's initial equity when no stitched day precedes it (the first window, or only windows
/// without a feasible trial before it).
/// </remarks>
public static class WalkForwardInSample
{
    /// <summary>The rebased curve; null when the trial's account was wiped out (G_n ≤ 0), which no level can rebase.</summary>
    public static IReadOnlyList<DailyEquity>? Curve(IReadOnlyList<DateOnly> days, IReadOnlyList<float> returns, double anchor)
    {
        ArgumentNullException.ThrowIfNull(days);
        ArgumentNullException.ThrowIfNull(returns);
        if (days.Count != returns.Count)
        {
            throw new ArgumentException($"{returns.Count} returns for {days.Count} days: the returns are not of these days", nameof(returns));
        }

        if (!double.IsFinite(anchor) || anchor <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(anchor), anchor, "the anchor must be a finite number > 0");
        }

        var growth = new double[returns.Count];
        var g = 1.0;
        for (var i = 0; i < returns.Count; i++)
        {
            if (!float.IsFinite(returns[i]))
            {
                throw new ArgumentException($"return {i} is {returns[i]}", nameof(returns));
            }

            g *= 1 + (double)returns[i];
            growth[i] = g;
        }

        if (returns.Count == 0)
        {
            return [];
        }

        var total = growth[^1];
        if (!(total > 0))
        {
            return null;
        }

        var curve = new DailyEquity[returns.Count];
        for (var i = 0; i < curve.Length; i++)
        {
            curve[i] = new DailyEquity(days[i], anchor * growth[i] / total);
        }

        return curve;
    }

    /// <summary>The stitched equity on the last day before <paramref name="outOfSampleStart"/>; <paramref name="initialEquity"/> when none precedes it.</summary>
    public static double Anchor(IReadOnlyList<DailyEquity> stitched, DateOnly outOfSampleStart, double initialEquity)
    {
        ArgumentNullException.ThrowIfNull(stitched);
        var anchor = initialEquity;
        foreach (var point in stitched)
        {
            if (point.Date >= outOfSampleStart)
            {
                break;
            }

            anchor = point.Equity;
        }

        return anchor;
    }
}
