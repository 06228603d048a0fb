using Backtesting.Engine.Indicators;

namespace Backtesting.Tests.Indicators;

/// <summary>Averages over prices are exact for equal inputs: equal windows, and equal exact means, give equal doubles.</summary>
public class ExactAverageTests
{
    /// <summary>Cent prices over a few levels: windows of every length often hold equal means.</summary>
    private static long[] CentSeries(int seed, int length)
    {
        var random = new Random(seed);
        var cents = new long[length];
        var level = 16_720L;
        for (var i = 0; i < length; i++)
        {
            level = Math.Clamp(level + random.Next(-1, 2), 16_719, 16_722);
            cents[i] = level;
        }

        return cents;
    }

    [Fact]
    public void Averages_of_every_window_length_up_to_50_compare_exactly_as_their_exact_means_do()
    {
        const int maxWindow = 50;
        var ties = 0;
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var cents = CentSeries(seed, 400);
            var smas = Enumerable.Range(1, maxWindow).Select(n => new Sma(n)).ToArray();
            var bands = Enumerable.Range(1, maxWindow).Select(n => new BollingerBands(n)).ToArray();
            var sums = new long[maxWindow + 1];
            for (var t = 0; t < cents.Length; t++)
            {
                for (var n = 1; n <= maxWindow; n++)
                {
                    smas[n - 1].Update(cents[t] / 100.0);
                    bands[n - 1].Update(cents[t] / 100.0);
                    sums[n] += cents[t] - (t >= n ? cents[t - n] : 0);
                }

                for (var a = 1; a <= maxWindow && a <= t + 1; a++)
                {
                    Assert.Equal(smas[a - 1].Value, bands[a - 1].Middle); // bitwise: the same exact mean
                    for (var b = a + 1; b <= maxWindow && b <= t + 1; b++)
                    {
                        var exact = ((Int128)sums[a] * b).CompareTo((Int128)sums[b] * a);
                        var computed = smas[a - 1].Value.CompareTo(smas[b - 1].Value);
                        ties += exact == 0 ? 1 : 0;
                        Assert.True(exact == computed,
                            $"seed {seed}, bar {t}: SMA({a}) = {smas[a - 1].Value:R} vs SMA({b}) = {smas[b - 1].Value:R}, exact comparison {exact}");
                    }
                }
            }
        }

        Assert.True(ties > 1000, $"only {ties} ties were exercised");
    }

    public static TheoryData<string, double[]> Streams() => new()
    {
        { "cent prices", CentSeries(7, 500).Select(c => c / 100.0).ToArray() },
        { "prices of 1/10000", Enumerable.Range(0, 500).Select(i => (1_672_060 + (i * 7919 % 113)) / 10_000.0).ToArray() },
        { "arbitrary doubles", Enumerable.Range(0, 500).Select(i => 100 * Math.Exp(Math.Sin(i * 0.37) * 0.2) + (i * 1e-9)).ToArray() },
        { "a grid, then off it", Enumerable.Range(0, 500).Select(i => i < 250 ? (16_700 + (i % 9)) / 100.0 : 167 + (Math.Sqrt(i) / 1e3)).ToArray() },
        { "tiny crypto prices", Enumerable.Range(0, 500).Select(i => 1e-7 * (1 + (0.01 * Math.Cos(i)))).ToArray() },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void A_window_gives_bitwise_the_same_average_whatever_passed_through_before(string what, double[] values)
    {
        foreach (var n in new[] { 1, 2, 7, 30, 100 })
        {
            var streamed = new Sma(n);
            for (var t = 0; t < values.Length; t++)
            {
                streamed.Update(values[t]);
                if (t + 1 < n || t % 17 != 0)
                {
                    continue;
                }

                // The same window fed to a fresh average, in the same order and reversed.
                var fresh = new Sma(n);
                var reversed = new Sma(n);
                for (var i = t + 1 - n; i <= t; i++)
                {
                    fresh.Update(values[i]);
                    reversed.Update(values[t + 1 - n + (t - i)]);
                }

                Assert.True(streamed.Value == fresh.Value && fresh.Value == reversed.Value,
                    $"{what}, n {n}, bar {t}: streamed {streamed.Value:R}, fresh {fresh.Value:R}, reversed {reversed.Value:R}");
            }
        }
    }

    [Fact]
    public void The_issue_s_tie_at_167_206_is_a_tie()
    {
        // Five and fifteen cent prices whose means are both exactly 167.206.
        var fiveBar = new[] { 167.20, 167.21, 167.21, 167.20, 167.21 };
        var fast = new Sma(5);
        var slow = new Sma(15);
        foreach (var price in fiveBar.Concat(fiveBar).Concat(fiveBar))
        {
            fast.Update(price);
            slow.Update(price);
        }

        Assert.Equal(167.206, fast.Value);
        Assert.Equal(fast.Value, slow.Value);
        Assert.False(PriceComparison.IsAbove(fast.Value, slow.Value));
        Assert.False(PriceComparison.IsBelow(fast.Value, slow.Value));
    }

    [Theory]
    [InlineData(167.206, 167.20600000000002)]
    [InlineData(167.20599999999996, 167.206)]
    [InlineData(1.10001, 1.1000100000000001)]
    [InlineData(0, 0)]
    public void Values_within_the_tie_tolerance_are_neither_above_nor_below(double a, double b)
    {
        Assert.False(PriceComparison.IsAbove(a, b));
        Assert.False(PriceComparison.IsBelow(a, b));
        Assert.False(PriceComparison.IsAbove(b, a));
    }

    [Theory]
    [InlineData(167.2061, 167.206)]
    [InlineData(1000.0000002, 1000.0000000)]
    [InlineData(0.0000001, 0)]
    public void One_smallest_real_difference_of_grid_prices_is_above_not_a_tie(double higher, double lower)
    {
        Assert.True(PriceComparison.IsAbove(higher, lower));
        Assert.True(PriceComparison.IsBelow(lower, higher));
    }

    [Fact]
    public void A_comparison_with_nan_is_never_above_or_below()
    {
        Assert.False(PriceComparison.IsAbove(double.NaN, 1));
        Assert.False(PriceComparison.IsBelow(double.NaN, 1));
    }
}
