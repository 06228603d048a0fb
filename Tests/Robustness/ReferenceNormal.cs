namespace Backtesting.Tests.Robustness;

/// <summary>
/// The standard normal distribution re-implemented for the tests, independently of the engine's library: Φ by its
/// Taylor series Φ(x) = 1/2 + φ(x) Σ x^(2k+1) / (1·3·…·(2k+1)) (exact to rounding for |x| &lt; 8) and Φ⁻¹ by bisection on it.
/// </summary>
internal static class ReferenceNormal
{
    /// <summary>The Euler–Mascheroni constant, from its published decimal expansion.</summary>
    public const double EulerGamma = 0.57721566490153286061;

    public static double Cdf(double x)
    {
        if (Math.Abs(x) >= 8)
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "the series is used for |x| < 8 only");
        }

        var term = x;
        var sum = x;
        for (var k = 1; k < 500 && Math.Abs(term) > 1e-18 * Math.Abs(sum); k++)
        {
            term *= x * x / (2 * k + 1);
            sum += term;
        }

        var density = Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);
        return 0.5 + density * sum;
    }

    public static double InverseCdf(double p)
    {
        double lo = -7.9, hi = 7.9;
        for (var i = 0; i < 200 && hi - lo > 1e-16; i++)
        {
            var mid = (lo + hi) / 2;
            if (Cdf(mid) < p)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return (lo + hi) / 2;
    }

    /// <summary>(1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)), written out again.</summary>
    public static double ExpectedMaximum(int n) =>
        (1 - EulerGamma) * InverseCdf(1 - 1.0 / n) + EulerGamma * InverseCdf(1 - 1.0 / (n * Math.E));
}
