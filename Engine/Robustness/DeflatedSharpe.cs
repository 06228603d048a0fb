using MathNet.Numerics.Distributions;

namespace Backtesting.Engine.Robustness;

/// <summary>The deflated Sharpe ratio of the best trial and every figure it was computed from.</summary>
/// <param name="Value">DSR = PSR(SR0): the probability that the best trial's true Sharpe ratio exceeds SR0.</param>
/// <param name="Best">The best trial's per-period moments (Sharpe, skewness, raw kurtosis, T).</param>
/// <param name="Trials">N, the number of trials actually run.</param>
/// <param name="SharpeVariance">V[SR], the sample variance (divisor N − 1) of the trials' per-period Sharpe ratios.</param>
/// <param name="ExpectedMaximumSharpe">SR0 = √V[SR] × E[max of N standard normals], per period.</param>
public sealed record DeflatedSharpeRatio(
    double Value, ReturnMoments Best, int Trials, double SharpeVariance, double ExpectedMaximumSharpe);

/// <summary>
/// The probabilistic Sharpe ratio (Bailey and López de Prado, 2012) and the deflated Sharpe ratio (Bailey and
/// López de Prado, 2014), over per-period (daily) returns; the moments follow <see cref="ReturnMoments"/>.
/// <para>PSR(SR*) = Φ( (SR − SR*) √(T − 1) / √(1 − γ3 SR + (γ4 − 1)/4 SR²) ) with γ4 the RAW kurtosis. Feeding excess
/// kurtosis there (as some libraries do) understates the Sharpe ratio's standard error and inflates the result.</para>
/// <para>DSR = PSR(SR0), SR0 = √V[SR] ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e))). N is the number of trials actually
/// run, each counted once: correlated trials are NOT reduced to an effective number of independent ones, so when trials
/// are alike V[SR] is small and the deflation is mild; that is the convention, not an estimate of independence.</para>
/// </summary>
public static class DeflatedSharpe
{
    /// <summary>PSR of a series against the per-period benchmark Sharpe ratio <paramref name="benchmarkSharpe"/>.</summary>
    public static double Probabilistic(ReadOnlySpan<double> returns, double benchmarkSharpe) =>
        Probabilistic(ReturnMoments.Of(returns), benchmarkSharpe);

    /// <summary>PSR from moments already computed.</summary>
    public static double Probabilistic(ReturnMoments moments, double benchmarkSharpe)
    {
        if (!double.IsFinite(benchmarkSharpe))
        {
            throw new ArgumentOutOfRangeException(nameof(benchmarkSharpe), benchmarkSharpe, "must be a finite number");
        }

        var sr = moments.Sharpe;
        var radicand = 1 - moments.Skewness * sr + (moments.Kurtosis - 1) / 4 * sr * sr;
        if (!(radicand > 0))
        {
            // γ4 ≥ 1 + γ3² keeps the radicand ≥ (1 − γ3 SR / 2)² ≥ 0; zero only for a two-valued series.
            throw new ArgumentException(
                "the Sharpe ratio's standard error is zero for these returns (a two-valued series), so the PSR is undefined",
                nameof(moments));
        }

        return Normal.CDF(0, 1, (sr - benchmarkSharpe) * Math.Sqrt(moments.Count - 1) / Math.Sqrt(radicand));
    }

    /// <summary>
    /// DSR of the best trial's returns, with N = <paramref name="trialSharpes"/>.Length and V[SR] their sample variance.
    /// <paramref name="trialSharpes"/> holds every trial's per-period Sharpe ratio (the best one's included).
    /// </summary>
    public static DeflatedSharpeRatio Compute(ReadOnlySpan<double> bestReturns, ReadOnlySpan<double> trialSharpes)
    {
        RobustnessArguments.RequireTrials(trialSharpes.Length, nameof(trialSharpes));
        RobustnessArguments.RequireFinite(trialSharpes, nameof(trialSharpes));
        var mean = 0.0;
        foreach (var s in trialSharpes)
        {
            mean += s;
        }

        mean /= trialSharpes.Length;
        var ss = 0.0;
        foreach (var s in trialSharpes)
        {
            ss += (s - mean) * (s - mean);
        }

        return Compute(bestReturns, trialSharpes.Length, ss / (trialSharpes.Length - 1));
    }

    /// <summary>DSR given N and V[SR] directly (per-period Sharpe ratios).</summary>
    public static DeflatedSharpeRatio Compute(ReadOnlySpan<double> bestReturns, int trials, double sharpeVariance)
    {
        RobustnessArguments.RequireTrials(trials, nameof(trials));
        if (!(sharpeVariance >= 0) || !double.IsFinite(sharpeVariance))
        {
            throw new ArgumentOutOfRangeException(nameof(sharpeVariance), sharpeVariance, "must be a finite number >= 0");
        }

        var best = ReturnMoments.Of(bestReturns);
        var sr0 = Math.Sqrt(sharpeVariance) * ExpectedMaximumSharpe.StandardNormalFactor(trials);
        return new DeflatedSharpeRatio(Probabilistic(best, sr0), best, trials, sharpeVariance, sr0);
    }
}
