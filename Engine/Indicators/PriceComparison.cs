namespace Backtesting.Engine.Indicators;

/// <summary>
/// The one tie rule for comparing two price-scale values (an average against another, a close against a band or a
/// channel): they tie when they differ by at most <see cref="RelativeTieTolerance"/> of the larger magnitude, and a
/// tie is neither above nor below. A cross is a strict inequality, so a tie never signals.
/// </summary>
/// <remarks>
/// The tolerance sits far above the rounding of one exact-sum average (a few units in the last place, about 1e-15
/// relative) and far below any real difference between averages of prices on a decimal grid: two means of 1/10000
/// prices over n and m bars differ by at least 1e-4/(n·m), 2e-10 for 500 against 1000 bars, while the tolerance
/// at a price of 1000 is 1e-10.
/// </remarks>
public static class PriceComparison
{
    /// <summary>Fraction of the larger magnitude within which two prices are a tie.</summary>
    public const double RelativeTieTolerance = 1e-13;

    /// <summary>True when <paramref name="a"/> is above <paramref name="b"/> by more than a tie; false with a NaN.</summary>
    public static bool IsAbove(double a, double b) =>
        a - b > RelativeTieTolerance * Math.Max(Math.Abs(a), Math.Abs(b));

    /// <summary>True when <paramref name="a"/> is below <paramref name="b"/> by more than a tie; false with a NaN.</summary>
    public static bool IsBelow(double a, double b) => IsAbove(b, a);
}
