using Backtesting.Engine.Robustness;
using MathNet.Numerics.Distributions;

namespace Backtesting.Tests.Robustness;

/// <summary>
/// The probabilistic and deflated Sharpe ratios and the minimum backtest length against hand computations: the moments
/// in exact decimal arithmetic, the normal distribution by the tests' own series (<see cref="ReferenceNormal"/>).
/// </summary>
public class SharpeStatisticsTests
{
    // A small daily series with a clear positive mean, some skew and fat tails.
    private static readonly decimal[] Series =
        [0.012m, -0.004m, 0.021m, 0.003m, -0.015m, 0.018m, 0.007m, 0.030m, -0.002m, 0.009m, 0.011m, -0.006m];

    // Per-period Sharpe ratios of five trials (the series above stands for the best one).
    private static readonly decimal[] TrialSharpes = [0.10m, 0.05m, -0.02m, 0.08m, 0.30m];

    private static double[] AsDouble(decimal[] xs) => xs.Select(x => (double)x).ToArray();

    /// <summary>SR (sample sd), γ3 and raw γ4 (population moments): the sums exact in decimal, only the roots in double.</summary>
    private static (double Sharpe, double Skew, double RawKurtosis) HandMoments(decimal[] xs)
    {
        var n = xs.Length;
        var mean = xs.Sum() / n;
        decimal s2 = 0, s3 = 0, s4 = 0;
        foreach (var x in xs)
        {
            var d = x - mean;
            s2 += d * d;
            s3 += d * d * d;
            s4 += d * d * d * d;
        }

        var m2 = s2 / n;
        var sharpe = (double)mean / Math.Sqrt((double)(s2 / (n - 1)));
        var skew = (double)(s3 / n) / ((double)m2 * Math.Sqrt((double)m2));
        var kurt = (double)(s4 / n / (m2 * m2));
        return (sharpe, skew, kurt);
    }

    private static double HandPsr(double sr, double skew, double kurtosis, int t, double benchmark) =>
        ReferenceNormal.Cdf((sr - benchmark) * Math.Sqrt(t - 1) / Math.Sqrt(1 - skew * sr + (kurtosis - 1) / 4 * sr * sr));

    private static double HandSharpeVariance(decimal[] sharpes)
    {
        var mean = sharpes.Sum() / sharpes.Length;
        return (double)(sharpes.Sum(s => (s - mean) * (s - mean)) / (sharpes.Length - 1));
    }

    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.95, 1.6448536269514722)]
    [InlineData(0.99, 2.3263478740408408)]
    [InlineData(0.9, 1.2815515655446004)]
    [InlineData(0.8, 0.8416212335729143)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.025, -1.959963984540054)]
    public void The_normal_quantiles_match_the_tables_in_the_library_and_the_reference(double p, double z)
    {
        Assert.Equal(z, Normal.InvCDF(0, 1, p), 1e-13);
        Assert.Equal(z, ReferenceNormal.InverseCdf(p), 1e-13);
        Assert.Equal(p, Normal.CDF(0, 1, z), 1e-15);
        Assert.Equal(p, ReferenceNormal.Cdf(z), 1e-15);
    }

    [Theory]
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(2.0, 0.9772498680518208)]
    [InlineData(-1.96, 0.024997895148220435)]
    [InlineData(3.0, 0.9986501019683699)]
    public void The_normal_distribution_matches_the_tables(double x, double p)
    {
        Assert.Equal(p, Normal.CDF(0, 1, x), 1e-15);
        Assert.Equal(p, ReferenceNormal.Cdf(x), 1e-15);
    }

    [Fact]
    public void The_moments_are_the_hand_computed_sample_sharpe_and_population_skew_and_raw_kurtosis()
    {
        var (sr, skew, kurt) = HandMoments(Series);
        var m = ReturnMoments.Of(AsDouble(Series));
        Assert.Equal(Series.Length, m.Count);
        Assert.Equal(sr, m.Sharpe, 1e-13);
        Assert.Equal(skew, m.Skewness, 1e-12);
        Assert.Equal(kurt, m.Kurtosis, 1e-12);
        Assert.True(m.Kurtosis > 1, "raw kurtosis is at least 1 (a normal series is near 3, not 0)");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(-0.2)]
    public void The_probabilistic_sharpe_ratio_is_the_hand_computed_one(double benchmark)
    {
        var (sr, skew, kurt) = HandMoments(Series);
        var expected = HandPsr(sr, skew, kurt, Series.Length, benchmark);
        Assert.Equal(expected, DeflatedSharpe.Probabilistic(AsDouble(Series), benchmark), 1e-12);
    }

    [Fact]
    public void The_deflated_sharpe_ratio_is_the_hand_computed_one_step_by_step()
    {
        // Step 1: V[SR], the sample variance of the five trials' Sharpe ratios (exact in decimal).
        var variance = HandSharpeVariance(TrialSharpes);
        // Step 2: E[max] of N = 5 standard normals: (1 − γ) Φ⁻¹(1 − 1/5) + γ Φ⁻¹(1 − 1/(5e)), Φ⁻¹(0.8) from the table.
        var factor = (1 - ReferenceNormal.EulerGamma) * 0.8416212335729143
            + ReferenceNormal.EulerGamma * ReferenceNormal.InverseCdf(1 - 1 / (5 * Math.E));
        // Step 3: SR0 = √V[SR] × E[max].
        var sr0 = Math.Sqrt(variance) * factor;
        // Step 4: DSR = PSR(SR0) with the best series' own moments.
        var (sr, skew, kurt) = HandMoments(Series);
        var expected = HandPsr(sr, skew, kurt, Series.Length, sr0);

        var dsr = DeflatedSharpe.Compute(AsDouble(Series), AsDouble(TrialSharpes));
        Assert.Equal(5, dsr.Trials);
        Assert.Equal(variance, dsr.SharpeVariance, 1e-15);
        Assert.Equal(factor, ExpectedMaximumSharpe.StandardNormalFactor(5), 1e-13);
        Assert.Equal(sr0, dsr.ExpectedMaximumSharpe, 1e-13);
        Assert.Equal(expected, dsr.Value, 1e-12);
        // Deflation only lowers: the best of five is held to a higher bar than zero.
        Assert.True(dsr.Value < DeflatedSharpe.Probabilistic(AsDouble(Series), 0));
        // The overload that takes N and V[SR] gives the same figure.
        Assert.Equal(dsr.Value, DeflatedSharpe.Compute(AsDouble(Series), 5, variance).Value, 1e-15);
    }

    [Fact]
    public void Trials_with_equal_sharpe_ratios_do_not_deflate()
    {
        // V[SR] = 0 makes SR0 = 0, so the DSR is the PSR against zero (0.25 is exact in binary, so is the mean of three).
        var dsr = DeflatedSharpe.Compute(AsDouble(Series), [0.25, 0.25, 0.25]);
        Assert.Equal(0.0, dsr.ExpectedMaximumSharpe);
        Assert.Equal(DeflatedSharpe.Probabilistic(AsDouble(Series), 0), dsr.Value);
    }

    [Fact]
    public void Excess_kurtosis_in_place_of_raw_kurtosis_gives_a_different_deflated_sharpe_ratio()
    {
        var (sr, skew, kurt) = HandMoments(Series);
        var sr0 = Math.Sqrt(HandSharpeVariance(TrialSharpes)) * ReferenceNormal.ExpectedMaximum(5);
        var withRaw = HandPsr(sr, skew, kurt, Series.Length, sr0);
        var withExcess = HandPsr(sr, skew, kurt - 3, Series.Length, sr0);

        var dsr = DeflatedSharpe.Compute(AsDouble(Series), AsDouble(TrialSharpes)).Value;
        Assert.Equal(withRaw, dsr, 1e-12);
        // The trap: excess kurtosis shrinks the standard error, so the statistic comes out larger, and visibly so.
        Assert.True(withExcess - dsr > 1e-3, $"raw {dsr}, excess {withExcess}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(100_000)]
    public void The_expected_maximum_factor_is_the_formula_for_every_trial_count(int n)
    {
        Assert.Equal(ReferenceNormal.ExpectedMaximum(n), ExpectedMaximumSharpe.StandardNormalFactor(n), 1e-10);
    }

    [Fact]
    public void The_expected_maximum_grows_with_the_number_of_trials()
    {
        var previous = double.NegativeInfinity;
        foreach (var n in new[] { 2, 3, 5, 10, 50, 100, 1000, 10_000 })
        {
            var f = ExpectedMaximumSharpe.StandardNormalFactor(n);
            Assert.True(f > previous, $"N = {n}");
            previous = f;
        }
    }

    [Fact]
    public void The_minimum_backtest_length_is_the_hand_computed_one_in_years()
    {
        // N = 10: (1 − γ) Φ⁻¹(0.9) + γ Φ⁻¹(1 − 1/(10e)), Φ⁻¹(0.9) from the table; an annualized SR of 1.
        var factor = (1 - ReferenceNormal.EulerGamma) * 1.2815515655446004
            + ReferenceNormal.EulerGamma * ReferenceNormal.InverseCdf(1 - 1 / (10 * Math.E));
        Assert.Equal(factor * factor, MinimumBacktestLength.Years(10, 1.0), 1e-12);
        // Halving the Sharpe ratio asks for four times the years.
        Assert.Equal(4 * MinimumBacktestLength.Years(10, 1.0), MinimumBacktestLength.Years(10, 0.5), 1e-12);
        Assert.Equal(factor * factor / (1.5 * 1.5), MinimumBacktestLength.Years(10, 1.5), 1e-12);
    }

    [Fact]
    public void Invalid_inputs_are_refused_naming_the_argument()
    {
        double[] series = AsDouble(Series);
        Assert.Equal("trialSharpes", Assert.Throws<ArgumentOutOfRangeException>(() => DeflatedSharpe.Compute(series, [0.1])).ParamName);
        Assert.Equal("trials", Assert.Throws<ArgumentOutOfRangeException>(() => DeflatedSharpe.Compute(series, 1, 0.01)).ParamName);
        Assert.Equal("sharpeVariance", Assert.Throws<ArgumentOutOfRangeException>(() => DeflatedSharpe.Compute(series, 5, -0.01)).ParamName);
        Assert.Equal("trialSharpes", Assert.Throws<ArgumentException>(() => DeflatedSharpe.Compute(series, [0.1, double.NaN])).ParamName);
        Assert.Equal("returns", Assert.Throws<ArgumentException>(() => DeflatedSharpe.Probabilistic([0.01, double.NaN, 0.02], 0)).ParamName);
        Assert.Equal("returns", Assert.Throws<ArgumentException>(() => DeflatedSharpe.Probabilistic([0.01], 0)).ParamName);
        Assert.Equal("returns", Assert.Throws<ArgumentException>(() => DeflatedSharpe.Probabilistic([0.01, 0.01, 0.01], 0)).ParamName);
        Assert.Equal("benchmarkSharpe", Assert.Throws<ArgumentOutOfRangeException>(() => DeflatedSharpe.Probabilistic(series, double.NaN)).ParamName);
        Assert.Equal("trials", Assert.Throws<ArgumentOutOfRangeException>(() => MinimumBacktestLength.Years(1, 1.0)).ParamName);
        Assert.Equal("annualizedSharpe", Assert.Throws<ArgumentOutOfRangeException>(() => MinimumBacktestLength.Years(10, 0.0)).ParamName);
        Assert.Equal("annualizedSharpe", Assert.Throws<ArgumentOutOfRangeException>(() => MinimumBacktestLength.Years(10, double.NaN)).ParamName);
        Assert.Equal("trials", Assert.Throws<ArgumentOutOfRangeException>(() => ExpectedMaximumSharpe.StandardNormalFactor(0)).ParamName);
    }
}
