using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Robustness;

/// <summary>
/// The per-period (daily) moments of one return series that the probabilistic and deflated Sharpe ratios need.
/// Conventions, the same as <see cref="MetricsCalculator"/>'s probabilistic Sharpe ratio (the central moments are its
/// <see cref="MetricsCalculator.CentralSums"/>):
/// <list type="bullet">
/// <item><see cref="Sharpe"/> = mean / sample standard deviation (divisor T − 1), no risk-free rate, not annualized.</item>
/// <item><see cref="Skewness"/> γ3 = m3 / m2^1.5 and <see cref="Kurtosis"/> γ4 = m4 / m2², with the population (biased)
/// central moments m_k = Σ(r − mean)^k / T, no small-sample correction. γ4 is RAW kurtosis: 3 for a normal series,
/// not 0.</item>
/// </list>
/// </summary>
public readonly record struct ReturnMoments(int Count, double Mean, double Sharpe, double Skewness, double Kurtosis)
{
    /// <summary>The moments of <paramref name="returns"/>; at least two finite values that are not all equal.</summary>
    public static ReturnMoments Of(ReadOnlySpan<double> returns)
    {
        var n = returns.Length;
        if (n < 2)
        {
            throw new ArgumentException($"at least 2 returns are needed, got {n}", nameof(returns));
        }

        RobustnessArguments.RequireFinite(returns, nameof(returns));
        var sum = 0.0;
        foreach (var r in returns)
        {
            sum += r;
        }

        var mean = sum / n;
        var (m2, m3, m4) = MetricsCalculator.CentralSums(returns, mean);

        if (!(m2 > 0))
        {
            throw new ArgumentException("the returns do not vary, so their Sharpe ratio is undefined", nameof(returns));
        }

        var sampleSd = Math.Sqrt(m2 / (n - 1));
        m2 /= n;
        m3 /= n;
        m4 /= n;
        return new ReturnMoments(n, mean, mean / sampleSd, m3 / Math.Pow(m2, 1.5), m4 / (m2 * m2));
    }
}
