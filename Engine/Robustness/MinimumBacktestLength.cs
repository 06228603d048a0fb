namespace Backtesting.Engine.Robustness;

/// <summary>
/// The minimum backtest length (Bailey, Borwein, López de Prado and Zhu, 2014): the years of data below which a
/// skill-less search over N independent trials is expected to find an annualized Sharpe ratio of at least SR anyway.
/// MinBTL ≈ ( (1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)) )² / SR², with SR ANNUALIZED, so the result is in years
/// (an annualized Sharpe ratio estimated over y years of zero-skill returns has a standard deviation of about 1/√y).
/// </summary>
public static class MinimumBacktestLength
{
    /// <summary>MinBTL in years for <paramref name="trials"/> (N ≥ 2) and an annualized Sharpe ratio &gt; 0.</summary>
    public static double Years(int trials, double annualizedSharpe)
    {
        RobustnessArguments.RequireTrials(trials, nameof(trials));
        if (!(annualizedSharpe > 0) || !double.IsFinite(annualizedSharpe))
        {
            throw new ArgumentOutOfRangeException(
                nameof(annualizedSharpe), annualizedSharpe, "must be a finite number > 0 (a length is only asked of a positive Sharpe ratio)");
        }

        var factor = ExpectedMaximumSharpe.StandardNormalFactor(trials);
        return factor * factor / (annualizedSharpe * annualizedSharpe);
    }
}
