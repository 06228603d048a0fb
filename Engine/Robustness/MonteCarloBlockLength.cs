namespace Backtesting.Engine.Robustness;

/// <summary>
/// The automatic mean block length of the stationary bootstrap: Politis and White (2004), as corrected by Patton, Politis
/// and White (2009). With γ̂(k) = (1/n) Σ_{t=1}^{n−k} (x_t − x̄)(x_{t+k} − x̄) and ρ̂(k) = γ̂(k) / γ̂(0):
/// <list type="number">
/// <item>m̂ is the smallest m ≥ 0 such that |ρ̂(m + j)| &lt; c √(log10 n / n) for j = 1..K_N, with c = 2 and
/// K_N = max(5, ⌈√(log10 n)⌉); M = min(2 max(m̂, 1), m_max) with m_max = ⌈√n⌉ + K_N (M = m_max when no m̂ ≤ m_max exists).</item>
/// <item>With the flat-top window h(x) = min(1, 2(1 − |x|)) for |x| ≤ 1: Ĝ = Σ_{|k|≤M} h(k/M) |k| γ̂(k) and
/// σ̂² = Σ_{|k|≤M} h(k/M) γ̂(k) (the long-run variance), D̂_SB = 2 σ̂⁴.</item>
/// <item>b̂ = (2 Ĝ² / D̂_SB)^(1/3) n^(1/3), kept within [1, ⌈min(3√n, n/3)⌉].</item>
/// </list>
/// </summary>
public static class MonteCarloBlockLength
{
    /// <summary>The automatic mean block length of <paramref name="returns"/> (at least 2 finite values that vary).</summary>
    public static double Stationary(ReadOnlySpan<double> returns)
    {
        var n = returns.Length;
        if (n < 2)
        {
            throw new ArgumentException($"at least 2 returns are needed, got {n}", nameof(returns));
        }

        RobustnessArguments.RequireFinite(returns, nameof(returns));
        var mean = 0.0;
        foreach (var r in returns)
        {
            mean += r;
        }

        mean /= n;
        var kn = Math.Max(5, (int)Math.Ceiling(Math.Sqrt(Math.Log10(n))));
        var mMax = (int)Math.Ceiling(Math.Sqrt(n)) + kn;
        var maxLag = Math.Min(n - 1, mMax + kn);
        var gamma = new double[maxLag + 1];
        for (var k = 0; k <= maxLag; k++)
        {
            var sum = 0.0;
            for (var t = 0; t + k < n; t++)
            {
                sum += (returns[t] - mean) * (returns[t + k] - mean);
            }

            gamma[k] = sum / n;
        }

        if (!(gamma[0] > 0))
        {
            throw new ArgumentException("the returns do not vary, so no block length can be estimated", nameof(returns));
        }

        var band = 2 * Math.Sqrt(Math.Log10(n) / n);
        int? mHat = null;
        for (var m = 0; m <= mMax && mHat is null; m++)
        {
            var negligible = true;
            for (var j = 1; j <= kn && negligible; j++)
            {
                // Lags past the series count as negligible: there is nothing left to correlate.
                negligible = m + j > maxLag || Math.Abs(gamma[m + j] / gamma[0]) < band;
            }

            if (negligible)
            {
                mHat = m;
            }
        }

        var bigM = Math.Min(mHat is { } found ? 2 * Math.Max(found, 1) : mMax, maxLag);
        double g = 0, longRun = gamma[0];
        for (var k = 1; k <= bigM; k++)
        {
            var h = Math.Min(1.0, 2 * (1 - (double)k / bigM));
            g += 2 * h * k * gamma[k];
            longRun += 2 * h * gamma[k];
        }

        var bMax = Math.Ceiling(Math.Min(3 * Math.Sqrt(n), n / 3.0));
        var d = 2 * longRun * longRun;
        var b = d > 0 ? Math.Cbrt(2 * g * g / d * n) : bMax;
        return Math.Clamp(b, 1, Math.Max(1, bMax));
    }
}
