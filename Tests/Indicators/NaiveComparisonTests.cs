using Backtesting.Engine.Indicators;

namespace Backtesting.Tests.Indicators;

// Long random series: every streaming output must match a straightforward recomputation to 1e-9.
public sealed class NaiveComparisonTests
{
    private const double Tol = 1e-9;
    private const int Length = 100_000;

    private static double[] RandomWalk(int seed, int length, double start, double step)
    {
        var rng = new Random(seed);
        var xs = new double[length];
        var x = start;
        for (var i = 0; i < length; i++)
        {
            x += (rng.NextDouble() - 0.5) * step;
            xs[i] = x;
        }

        return xs;
    }

    private static (double[] High, double[] Low, double[] Close) RandomBars(int seed, int length)
    {
        var rng = new Random(seed);
        var closes = RandomWalk(seed, length, 100, 2);
        var highs = new double[length];
        var lows = new double[length];
        for (var i = 0; i < length; i++)
        {
            highs[i] = closes[i] + rng.NextDouble() * 1.5;
            lows[i] = closes[i] - rng.NextDouble() * 1.5;
        }

        return (highs, lows, closes);
    }

    private static double NaiveMean(double[] xs, int end, int n)
    {
        var sum = 0.0;
        for (var i = end - n + 1; i <= end; i++)
        {
            sum += xs[i];
        }

        return sum / n;
    }

    private static double NaivePopulationStdDev(double[] xs, int end, int n)
    {
        var mean = NaiveMean(xs, end, n);
        var ss = 0.0;
        for (var i = end - n + 1; i <= end; i++)
        {
            ss += (xs[i] - mean) * (xs[i] - mean);
        }

        return Math.Sqrt(ss / n);
    }

    // EMA over the whole array, seeded with the SMA of the first n values; NaN before that.
    private static double[] NaiveEma(double[] xs, int n)
    {
        var result = new double[xs.Length];
        var alpha = 2.0 / (n + 1);
        for (var i = 0; i < xs.Length; i++)
        {
            if (i < n - 1)
            {
                result[i] = double.NaN;
            }
            else if (i == n - 1)
            {
                result[i] = NaiveMean(xs, i, n);
            }
            else
            {
                result[i] = alpha * xs[i] + (1 - alpha) * result[i - 1];
            }
        }

        return result;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(200)]
    public void Sma_matches_naive_mean(int n)
    {
        var xs = RandomWalk(1, Length, 100, 2);
        var sma = new Sma(n);
        for (var i = 0; i < xs.Length; i++)
        {
            sma.Update(xs[i]);
            Assert.Equal(i >= n - 1, sma.IsReady);
            if (sma.IsReady)
            {
                Assert.Equal(NaiveMean(xs, i, n), sma.Value, Tol);
            }
        }
    }

    [Fact]
    public void Sma_recovers_from_a_huge_level_change()
    {
        // Values near 1e12 then near 1: a running sum alone would keep the absorbed rounding error forever.
        var xs = new double[5_000];
        var rng = new Random(2);
        for (var i = 0; i < xs.Length; i++)
        {
            xs[i] = (i < 2_500 ? 1e12 : 1.0) + rng.NextDouble();
        }

        var sma = new Sma(20);
        foreach (var x in xs)
        {
            sma.Update(x);
        }

        Assert.Equal(NaiveMean(xs, xs.Length - 1, 20), sma.Value, 1e-12);
    }

    [Theory]
    [InlineData(1, 100.0)]
    [InlineData(20, 100.0)]
    [InlineData(50, 1e6)]     // large offset, small spread: the case where Σx² − (Σx)²/n cancels badly
    [InlineData(500, 1e4)]
    public void RollingStdDev_matches_naive_two_pass(int n, double level)
    {
        var xs = RandomWalk(3, Length, level, 2);
        var sd = new RollingStdDev(n);
        for (var i = 0; i < xs.Length; i++)
        {
            sd.Update(xs[i]);
            if (i >= n - 1)
            {
                Assert.Equal(NaivePopulationStdDev(xs, i, n), sd.Value, Tol);
                // At level 1e6 one ulp is ~1.2e-10 and the naive sum itself rounds, so the mean gets a relative bound.
                var mean = NaiveMean(xs, i, n);
                Assert.Equal(mean, sd.Mean, Math.Max(Tol, 1e-14 * Math.Abs(mean)));
            }
        }
    }

    [Fact]
    public void Bollinger_matches_naive()
    {
        var xs = RandomWalk(4, 20_000, 50, 1);
        var bb = new BollingerBands(20, 2.5);
        for (var i = 0; i < xs.Length; i++)
        {
            bb.Update(xs[i]);
            if (i >= 19)
            {
                var mean = NaiveMean(xs, i, 20);
                var sigma = NaivePopulationStdDev(xs, i, 20);
                Assert.Equal(mean, bb.Middle, Tol);
                Assert.Equal(mean + 2.5 * sigma, bb.Upper, Tol);
                Assert.Equal(mean - 2.5 * sigma, bb.Lower, Tol);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(100)]
    public void Ema_matches_naive_recursion(int n)
    {
        var xs = RandomWalk(5, Length, 100, 2);
        var expected = NaiveEma(xs, n);
        var ema = new Ema(n);
        for (var i = 0; i < xs.Length; i++)
        {
            ema.Update(xs[i]);
            Assert.Equal(i >= n - 1, ema.IsReady);
            if (ema.IsReady)
            {
                Assert.Equal(expected[i], ema.Value, Tol);
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(14)]
    public void Rsi_matches_naive(int n)
    {
        var xs = RandomWalk(6, Length, 100, 2);
        // Naive: seed averages from the first n changes, then Wilder recursion.
        var avgGain = 0.0;
        var avgLoss = 0.0;
        var rsi = new Rsi(n);
        rsi.Update(xs[0]);
        for (var i = 1; i < xs.Length; i++)
        {
            var change = xs[i] - xs[i - 1];
            var gain = Math.Max(change, 0);
            var loss = Math.Max(-change, 0);
            if (i <= n)
            {
                avgGain += gain / n;
                avgLoss += loss / n;
            }
            else
            {
                avgGain = (avgGain * (n - 1) + gain) / n;
                avgLoss = (avgLoss * (n - 1) + loss) / n;
            }

            rsi.Update(xs[i]);
            Assert.Equal(i >= n, rsi.IsReady);
            if (i >= n)
            {
                var expected = avgLoss == 0 ? 100 : 100 - 100 / (1 + avgGain / avgLoss);
                Assert.Equal(expected, rsi.Value, Tol);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(14)]
    public void Atr_matches_naive(int n)
    {
        var (highs, lows, closes) = RandomBars(7, Length);
        var trs = new double[Length];
        for (var i = 0; i < Length; i++)
        {
            trs[i] = i == 0
                ? highs[i] - lows[i]
                : Math.Max(highs[i] - lows[i], Math.Max(Math.Abs(highs[i] - closes[i - 1]), Math.Abs(lows[i] - closes[i - 1])));
        }

        var atr = new Atr(n);
        var expected = 0.0;
        for (var i = 0; i < Length; i++)
        {
            atr.Update(highs[i], lows[i], closes[i]);
            Assert.Equal(trs[i], atr.TrueRange, Tol);
            if (i == n - 1)
            {
                expected = NaiveMean(trs, i, n);
            }
            else if (i >= n)
            {
                expected = (expected * (n - 1) + trs[i]) / n;
            }

            Assert.Equal(i >= n - 1, atr.IsReady);
            if (atr.IsReady)
            {
                Assert.Equal(expected, atr.Value, Tol);
            }
        }
    }

    [Fact]
    public void Macd_matches_naive()
    {
        var xs = RandomWalk(8, Length, 100, 2);
        var fast = NaiveEma(xs, 12);
        var slow = NaiveEma(xs, 26);
        var line = new double[xs.Length - 25];
        for (var i = 25; i < xs.Length; i++)
        {
            line[i - 25] = fast[i] - slow[i];
        }

        var signal = NaiveEma(line, 9);
        var macd = new Macd();
        for (var i = 0; i < xs.Length; i++)
        {
            macd.Update(xs[i]);
            Assert.Equal(i >= 33, macd.IsReady);
            if (i >= 25)
            {
                Assert.Equal(line[i - 25], macd.MacdLine, Tol);
            }

            if (i >= 33)
            {
                Assert.Equal(signal[i - 25], macd.Signal, Tol);
                Assert.Equal(line[i - 25] - signal[i - 25], macd.Histogram, Tol);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(55)]
    public void Donchian_matches_naive_window_extremes(int n)
    {
        var (highs, lows, _) = RandomBars(9, Length);
        // Rounded prices create many ties, which exercise the deque's equal-value handling.
        for (var i = 0; i < Length; i++)
        {
            highs[i] = Math.Round(highs[i]);
            lows[i] = Math.Round(lows[i]);
        }

        var dc = new DonchianChannel(n);
        for (var i = 0; i < Length; i++)
        {
            dc.Update(highs[i], lows[i]);
            Assert.Equal(i >= n - 1, dc.IsReady);
            if (dc.IsReady)
            {
                var max = double.MinValue;
                var min = double.MaxValue;
                for (var j = i - n + 1; j <= i; j++)
                {
                    max = Math.Max(max, highs[j]);
                    min = Math.Min(min, lows[j]);
                }

                Assert.Equal(max, dc.Upper);
                Assert.Equal(min, dc.Lower);
            }
        }
    }
}
