using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;

namespace Backtesting.Tests.Robustness;

/// <summary>
/// PBO by CSCV: the constructed extremes (a dominant trial, a selection that is always wrong), seeded noise, and the
/// fast per-block path against a brute-force re-implementation that recomputes every split from the raw rows.
/// </summary>
public class OverfittingProbabilityTests
{
    private static long Binomial(int n, int k)
    {
        long c = 1;
        for (var i = 1; i <= k; i++)
        {
            c = c * (n - k + i) / i;
        }

        return c;
    }

    private static float[,] Noise(int rows, int columns, ulong seed, double sd = 0.01)
    {
        var rng = new SplitMix64(seed);
        var m = new float[rows, columns];
        for (var t = 0; t < rows; t++)
        {
            for (var j = 0; j < columns; j++)
            {
                m[t, j] = (float)(sd * rng.NextGaussian());
            }
        }

        return m;
    }

    [Fact]
    public void A_trial_that_dominates_every_block_is_never_overfit()
    {
        var m = Noise(320, 12, seed: 7);
        for (var t = 0; t < 320; t++)
        {
            m[t, 5] += 0.05f;
        }

        var result = OverfittingProbability.Compute(m);
        Assert.Equal(Binomial(16, 8), result.Splits.Count);
        Assert.All(result.Splits, s =>
        {
            Assert.Equal(5, s.Selected);
            Assert.Equal(12.0, s.Rank);
            Assert.True(s.Logit > 0);
        });
        Assert.Equal(0.0, result.Probability);
        Assert.Equal(0.0, result.ProbabilityOfLoss);
    }

    /// <summary>
    /// One trial per choice of S/2 blocks, high in exactly those blocks and low in the others: the in-sample best of a
    /// split is the trial high on its in-sample half, which is low on every out-of-sample block, so uniquely the worst.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(8)]
    public void A_selection_that_is_always_the_out_of_sample_worst_is_always_overfit(int blocks)
    {
        const int rowsPerBlock = 10;
        var halves = Enumerable.Range(0, 1 << blocks).Where(mask => int.PopCount(mask) == blocks / 2).ToArray();
        var m = new float[blocks * rowsPerBlock, halves.Length];
        for (var t = 0; t < blocks * rowsPerBlock; t++)
        {
            var wiggle = t % 2 == 0 ? 0.001f : -0.001f;
            for (var j = 0; j < halves.Length; j++)
            {
                var high = (halves[j] & (1 << (t / rowsPerBlock))) != 0;
                m[t, j] = (high ? 0.01f : -0.01f) + wiggle;
            }
        }

        var result = OverfittingProbability.Compute(m, new CscvOptions(Blocks: blocks));
        Assert.Equal(Binomial(blocks, blocks / 2), result.Splits.Count);
        Assert.All(result.Splits, s =>
        {
            Assert.Equal(halves[s.Selected], s.InSampleBlocks);
            Assert.Equal(1.0, s.Rank);
            Assert.True(s.Logit < 0);
        });
        Assert.Equal(1.0, result.Probability);
        Assert.Equal(1.0, result.ProbabilityOfLoss);
    }

    /// <summary>
    /// With trials of pure noise the selected trial's out-of-sample rank is uniform, so PBO is 1/2 in expectation; one
    /// matrix's PBO scatters widely (its splits share rows), so the band is put on the mean over twelve fixed seeds.
    /// </summary>
    [Fact]
    public void Pure_noise_is_overfit_about_half_the_time_and_the_same_every_run()
    {
        var probabilities = new List<double>();
        for (var seed = 1UL; seed <= 12; seed++)
        {
            var result = OverfittingProbability.Compute(Noise(800, 40, seed));
            Assert.Equal(Binomial(16, 8), result.Splits.Count);
            probabilities.Add(result.Probability);
        }

        Assert.InRange(probabilities.Average(), 0.35, 0.65);

        var m = Noise(800, 40, seed: 20_260_101);
        var first = OverfittingProbability.Compute(m);
        var again = OverfittingProbability.Compute(m);
        Assert.Equal(first.Splits, again.Splits);
        Assert.Equal(first.Probability, again.Probability);
        Assert.Equal(first.ProbabilityOfLoss, again.ProbabilityOfLoss);
        Assert.Equal(first.DegradationSlope, again.DegradationSlope);
    }

    [Fact]
    public void Every_split_is_enumerated_once_with_half_the_blocks_in_sample()
    {
        foreach (var blocks in new[] { 2, 4, 6, 8, 10, 12, 16 })
        {
            var result = OverfittingProbability.Compute(Noise(blocks * 3, 3, seed: (ulong)blocks), new CscvOptions(Blocks: blocks));
            var masks = result.Splits.Select(s => s.InSampleBlocks).ToList();
            Assert.Equal(Binomial(blocks, blocks / 2), masks.Count);
            Assert.Equal(masks.Count, masks.Distinct().Count());
            Assert.All(masks, mask => Assert.Equal(blocks / 2, int.PopCount(mask)));
            Assert.All(masks, mask => Assert.Equal(0, mask >> blocks));
        }
    }

    [Theory]
    [InlineData(4, 24, 5, 1UL)]
    [InlineData(4, 37, 7, 2UL)]
    [InlineData(6, 60, 9, 3UL)]
    [InlineData(6, 65, 4, 4UL)]
    [InlineData(8, 83, 11, 5UL)]
    [InlineData(8, 96, 6, 6UL)]
    public void The_fast_path_equals_a_brute_force_enumeration_from_the_raw_rows(int blocks, int rows, int columns, ulong seed)
    {
        var m = Noise(rows, columns, seed);
        var rng = new SplitMix64(seed * 31);
        for (var j = 0; j < columns; j++)
        {
            var drift = (float)(0.004 * (rng.NextDouble() - 0.5));
            for (var t = 0; t < rows; t++)
            {
                m[t, j] += drift;
            }
        }

        // Ties on purpose: the last column repeats column 1 (so both tie everywhere) and column 2 is flat zero.
        for (var t = 0; t < rows; t++)
        {
            m[t, columns - 1] = m[t, 1];
            m[t, 2] = 0f;
        }

        var fast = OverfittingProbability.Compute(m, new CscvOptions(Blocks: blocks));
        var brute = BruteForce(m, blocks);

        Assert.Equal(brute.Count, fast.Splits.Count);
        var byMask = fast.Splits.ToDictionary(s => s.InSampleBlocks);
        foreach (var expected in brute)
        {
            var actual = byMask[expected.InSampleBlocks];
            Assert.Equal(expected.Selected, actual.Selected);
            Assert.Equal(expected.InSample, actual.InSample, 1e-12);
            Assert.Equal(expected.OutOfSample, actual.OutOfSample, 1e-12);
            Assert.Equal(expected.Rank, actual.Rank);
            Assert.Equal(expected.Logit, actual.Logit, 1e-12);
        }

        var pbo = brute.Count(s => s.Logit <= 0) / (double)brute.Count;
        var loss = brute.Count(s => s.OutOfSample < 0) / (double)brute.Count;
        Assert.Equal(pbo, fast.Probability);
        Assert.Equal(loss, fast.ProbabilityOfLoss);

        var (slope, intercept) = LeastSquares(brute.Select(s => (s.InSample, s.OutOfSample)).ToList());
        Assert.Equal(slope, fast.DegradationSlope!.Value, 1e-9);
        Assert.Equal(intercept, fast.DegradationIntercept!.Value, 1e-9);
    }

    [Theory]
    [InlineData(4, 24, 5, 1UL, 2)]
    [InlineData(6, 60, 9, 3UL, 4)]
    [InlineData(8, 83, 11, 5UL, 20)]
    [InlineData(8, 96, 6, 6UL, 10)]
    [InlineData(10, 140, 40, 7UL, 20)]
    public void The_logit_histogram_puts_every_split_in_the_one_bin_holding_its_logit_and_its_left_half_is_pbo(
        int blocks, int rows, int columns, ulong seed, int bins)
    {
        var m = Noise(rows, columns, seed);
        for (var t = 0; t < rows; t++)
        {
            m[t, columns - 1] = m[t, 0]; // a tie, so some ranks are averages
        }

        var result = OverfittingProbability.Compute(m, new CscvOptions(Blocks: blocks));
        var histogram = OverfittingProbability.LogitHistogram(result, bins);

        Assert.Equal(bins, histogram.Count);
        var m0 = result.Splits.Max(s => Math.Abs(s.Logit));
        Assert.Equal(-m0, histogram[0].Low);
        Assert.Equal(m0, histogram[^1].High);
        Assert.Equal(0.0, histogram[bins / 2].Low, 1e-15);
        var expected = new int[bins];
        foreach (var split in result.Splits)
        {
            // The bin is found by scanning the edges: (low, high], the first bin also holding its low edge.
            var holding = Enumerable.Range(0, bins)
                .Where(b => (split.Logit > histogram[b].Low || (b == 0 && split.Logit == histogram[0].Low)) && split.Logit <= histogram[b].High + 1e-12)
                .ToList();
            Assert.NotEmpty(holding);
            expected[holding[0]]++;
        }

        Assert.Equal(expected, histogram.Select(b => b.Count).ToArray());
        Assert.Equal(result.Splits.Count, histogram.Sum(b => b.Count));
        Assert.Equal(result.Probability * result.Splits.Count, histogram.Take(bins / 2).Sum(b => b.Count), 9);
    }

    [Fact]
    public void Identical_trials_tie_at_the_median_so_every_logit_is_zero_and_sits_just_left_of_zero()
    {
        var m = Noise(40, 3, 11UL);
        for (var t = 0; t < 40; t++)
        {
            m[t, 1] = m[t, 0];
            m[t, 2] = m[t, 0];
        }

        var result = OverfittingProbability.Compute(m, new CscvOptions(Blocks: 4));
        Assert.All(result.Splits, s => Assert.Equal(0.0, s.Logit));
        Assert.Equal(1.0, result.Probability);
        var histogram = OverfittingProbability.LogitHistogram(result, 4);
        Assert.Equal([0, result.Splits.Count, 0, 0], histogram.Select(b => b.Count).ToArray());
        Assert.Equal((-1.0, -0.5, 0.0, 0.5, 1.0), (histogram[0].Low, histogram[1].Low, histogram[1].High, histogram[2].High, histogram[3].High));
        Assert.Throws<ArgumentOutOfRangeException>(() => OverfittingProbability.LogitHistogram(result, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => OverfittingProbability.LogitHistogram(result, 0));
    }

    [Fact]
    public void A_performance_function_of_the_callers_is_ranked_instead_of_the_sharpe_ratio()
    {
        var m = Noise(70, 8, seed: 99);
        var fast = OverfittingProbability.Compute(m, new CscvOptions(Blocks: 6, Performance: (sum, _, count) => sum / count));
        var brute = BruteForce(m, 6, xs => xs.Average());
        var byMask = fast.Splits.ToDictionary(s => s.InSampleBlocks);
        Assert.Equal(brute.Count, fast.Splits.Count);
        foreach (var expected in brute)
        {
            var actual = byMask[expected.InSampleBlocks];
            Assert.Equal(expected.Selected, actual.Selected);
            Assert.Equal(expected.OutOfSample, actual.OutOfSample, 1e-15);
            Assert.Equal(expected.Rank, actual.Rank);
        }

        Assert.Equal(brute.Count(s => s.Logit <= 0) / (double)brute.Count, fast.Probability);
    }

    [Fact]
    public void Only_the_first_max_trials_columns_are_used()
    {
        var m = Noise(64, 9, seed: 11);
        var firstFour = new float[64, 4];
        for (var t = 0; t < 64; t++)
        {
            for (var j = 0; j < 4; j++)
            {
                firstFour[t, j] = m[t, j];
            }
        }

        var capped = OverfittingProbability.Compute(m, new CscvOptions(Blocks: 8, MaxTrials: 4));
        var direct = OverfittingProbability.Compute(firstFour, new CscvOptions(Blocks: 8));
        Assert.Equal(9, capped.TrialsGiven);
        Assert.Equal(4, capped.TrialsUsed);
        Assert.Equal(direct.Splits, capped.Splits);
        Assert.Equal(direct.Probability, capped.Probability);
    }

    [Fact]
    public void Invalid_inputs_are_refused_naming_the_argument()
    {
        var m = Noise(40, 5, seed: 1);
        Assert.Equal("options", Assert.Throws<ArgumentOutOfRangeException>(() => OverfittingProbability.Compute(m, new CscvOptions(Blocks: 5))).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentOutOfRangeException>(() => OverfittingProbability.Compute(m, new CscvOptions(Blocks: 0))).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentOutOfRangeException>(() => OverfittingProbability.Compute(m, new CscvOptions(Blocks: 22))).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentOutOfRangeException>(() => OverfittingProbability.Compute(m, new CscvOptions(MaxTrials: 1))).ParamName);
        Assert.Equal("returns", Assert.Throws<ArgumentException>(() => OverfittingProbability.Compute(Noise(15, 5, seed: 1))).ParamName);
        Assert.Equal("returns", Assert.Throws<ArgumentOutOfRangeException>(() => OverfittingProbability.Compute(Noise(40, 1, seed: 1), new CscvOptions(Blocks: 4))).ParamName);
        m[17, 3] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => OverfittingProbability.Compute(m, new CscvOptions(Blocks: 4)));
        Assert.Equal("returns", nan.ParamName);
        Assert.Contains("row 17, column 3", nan.Message);
        Assert.Throws<ArgumentNullException>(() => OverfittingProbability.Compute(null!));
    }

    private sealed record BruteSplit(int InSampleBlocks, int Selected, double InSample, double OutOfSample, double Rank, double Logit);

    /// <summary>CSCV written out plainly: index sets by recursion, rows gathered per split, two-pass Sharpe ratios.</summary>
    private static List<BruteSplit> BruteForce(float[,] m, int blocks, Func<List<double>, double>? measure = null)
    {
        int rows = m.GetLength(0), columns = m.GetLength(1);
        int size = rows / blocks, extra = rows % blocks;
        int Start(int b) => b * size + Math.Min(b, extra);

        measure ??= TwoPassSharpe;
        var splits = new List<BruteSplit>();
        foreach (var chosen in Choose(blocks, blocks / 2))
        {
            var inRows = new List<int>();
            var outRows = new List<int>();
            for (var b = 0; b < blocks; b++)
            {
                (chosen.Contains(b) ? inRows : outRows).AddRange(Enumerable.Range(Start(b), Start(b + 1) - Start(b)));
            }

            var isPerf = Enumerable.Range(0, columns).Select(j => measure(inRows.Select(t => (double)m[t, j]).ToList())).ToList();
            var oosPerf = Enumerable.Range(0, columns).Select(j => measure(outRows.Select(t => (double)m[t, j]).ToList())).ToList();
            var best = 0;
            for (var j = 1; j < columns; j++)
            {
                if (isPerf[j] > isPerf[best])
                {
                    best = j;
                }
            }

            // Average rank: sort ascending and average the 1-based positions holding the selected value.
            var sorted = oosPerf.OrderBy(x => x).ToList();
            var positions = Enumerable.Range(1, columns).Where(p => sorted[p - 1] == oosPerf[best]).ToList();
            var rank = positions.Average();
            var omega = rank / (columns + 1);
            var mask = chosen.Sum(b => 1 << b);
            splits.Add(new BruteSplit(mask, best, isPerf[best], oosPerf[best], rank, Math.Log(omega / (1 - omega))));
        }

        return splits;
    }

    private static IEnumerable<int[]> Choose(int n, int k, int from = 0)
    {
        if (k == 0)
        {
            yield return [];
            yield break;
        }

        for (var first = from; first <= n - k; first++)
        {
            foreach (var rest in Choose(n, k - 1, first + 1))
            {
                yield return [first, .. rest];
            }
        }
    }

    private static double TwoPassSharpe(List<double> xs)
    {
        var mean = xs.Average();
        var ss = xs.Sum(x => (x - mean) * (x - mean));
        return ss == 0 ? 0 : mean / Math.Sqrt(ss / (xs.Count - 1));
    }

    private static (double Slope, double Intercept) LeastSquares(List<(double X, double Y)> points)
    {
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var slope = points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
        return (slope, my - slope * mx);
    }
}
