namespace Backtesting.Engine.Sizing;

/// <summary>Quantities in whole lots: the one rounding that sizing and the volume cap of a fill share.</summary>
public static class Lots
{
    // Absorbs the binary noise of a quotient that is a whole number of lots on paper (0.3 / 0.1 = 2.9999999999999996).
    private const double Tolerance = 1e-9;

    /// <summary>The largest whole number of lots in an unsigned <paramref name="quantity"/>.</summary>
    public static double RoundDown(double quantity, double lotSize) => Math.Floor(quantity / lotSize + Tolerance) * lotSize;
}
