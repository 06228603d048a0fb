using System.Text.Json;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Results;
using Backtesting.Engine.Robustness;

namespace Backtesting.Tests.Robustness;

/// <summary>
/// Monte Carlo paths: every path statistic against an independent re-implementation, the shuffle's fixed final equity,
/// determinism with a seed, the stationary bootstrap's geometric blocks, percentiles and histograms against sort-based
/// re-implementations, the automatic block length's behaviour, and every input refused with its reason.
/// </summary>
public class MonteCarloTests
{
    private static readonly MonteCarloMethod[] Methods = Enum.GetValues<MonteCarloMethod>();

    private static double[] Noise(int n, ulong seed, double mean = 0.0005, double sd = 0.01)
    {
        var rng = new SplitMix64(seed);
        var xs = new double[n];
        for (var i = 0; i < n; i++)
        {
            xs[i] = mean + sd * rng.NextGaussian();
        }

        return xs;
    }

    private static MonteCarloSeries Series(double[] returns, int? days = null, double rf = 0.0) =>
        new(10_000, returns, days ?? returns.Length, 252, rf);

    private static string Json(MonteCarloResult result) => JsonSerializer.Serialize(result);

    /// <summary>The indices path p draws, by the documented generator and sampler.</summary>
    private static int[] IndicesOf(MonteCarloMethod method, long seed, int path, int n, double block)
    {
        var random = SplitMix64.ForTrial(seed, path);
        var indices = new int[n];
        switch (method)
        {
            case MonteCarloMethod.TradeShuffle:
                MonteCarloSampling.Shuffle(ref random, indices);
                break;
            case MonteCarloMethod.TradeResample:
                MonteCarloSampling.Resample(ref random, n, indices);
                break;
            default:
                MonteCarloSampling.StationaryBootstrap(ref random, n, block, indices);
                break;
        }

        return indices;
    }

    [Theory]
    [InlineData(MonteCarloMethod.TradeShuffle, 0.0)]
    [InlineData(MonteCarloMethod.TradeResample, 0.0)]
    [InlineData(MonteCarloMethod.StationaryBootstrap, 0.0)]
    [InlineData(MonteCarloMethod.TradeShuffle, 0.03)]
    [InlineData(MonteCarloMethod.TradeResample, 0.03)]
    [InlineData(MonteCarloMethod.StationaryBootstrap, 0.03)]
    public void A_single_path_has_the_final_return_CAGR_drawdown_and_Sharpe_of_a_direct_computation(MonteCarloMethod method, double rf)
    {
        var returns = new[] { 0.02, -0.05, 0.01, 0.03, -0.02, 0.04, -0.01 };
        const int days = 20; // fewer steps than days, as trades are
        foreach (var seed in new long[] { 0, 1, 42, -7 })
        {
            var series = new MonteCarloSeries(5_000, returns, days, 252, rf);
            var result = MonteCarlo.Run(series, method, new MonteCarloOptions(Paths: 1, Seed: seed, MeanBlockLength: 2.5));
            var indices = IndicesOf(method, seed, 0, returns.Length, 2.5);

            double equity = 5_000, peak = 5_000, worst = 0;
            var path = new double[returns.Length];
            for (var t = 0; t < returns.Length; t++)
            {
                path[t] = returns[indices[t]];
                equity *= 1 + path[t];
                peak = Math.Max(peak, equity);
                worst = Math.Min(worst, equity / peak - 1);
            }

            var stepsPerYear = returns.Length * 252.0 / days;
            var rfStep = Math.Pow(1 + rf, 1 / stepsPerYear) - 1;
            var mean = path.Average() - rfStep;
            var sd = Math.Sqrt(path.Sum(r => (r - rfStep - mean) * (r - rfStep - mean)) / (path.Length - 1));
            var sharpe = mean / sd * Math.Sqrt(stepsPerYear);
            var cagr = Math.Pow(equity / 5_000, 252.0 / days) - 1;

            Assert.Equal(equity / 5_000 - 1, result.FinalReturn.Percentiles!.P50, 12);
            Assert.Equal(cagr, result.Cagr.Percentiles!.P50, 12);
            Assert.Equal(worst, result.MaxDrawdown.Percentiles!.P50, 12);
            Assert.Equal(sharpe, result.Sharpe.Percentiles!.P50, 10);
            Assert.Equal(equity, result.Fan[^1].Equity.P95, 1e-3); // the fan keeps growth as float32
            Assert.Equal(5_000, result.Fan[0].Equity.P5);
            Assert.Equal(equity < 5_000 ? 1.0 : 0.0, result.ProbabilityOfLoss);
            Assert.Equal(worst <= -0.2 ? 1.0 : 0.0, result.ProbabilityOfDrawdownBeyondLimit);
        }
    }

    [Fact]
    public void A_two_trade_shuffle_matches_the_hand_computation()
    {
        // +10% then −10%: 1.1, 0.99 → drawdown 0.99 / 1.1 − 1 = −0.1; −10% then +10%: 0.9, 0.99 → −0.1 from the start.
        var result = MonteCarlo.Run(Series([0.1, -0.1]), MonteCarloMethod.TradeShuffle, new MonteCarloOptions(Paths: 200, Seed: 3));
        Assert.Equal(-0.01, result.FinalReturn.Percentiles!.P5, 14);
        Assert.Equal(-0.01, result.FinalReturn.Percentiles.P95, 14);
        Assert.Equal(-0.1, result.MaxDrawdown.Percentiles!.P5, 14);
        Assert.Equal(-0.1, result.MaxDrawdown.Percentiles.P95, 14);
        Assert.Equal(1.0, result.ProbabilityOfLoss);
        Assert.Equal(3, result.Fan.Count);
        Assert.Equal(9_900, result.Fan[2].Equity.P50, 3);
        // After one step half the paths are at 11,000 and half at 9,000 (within sampling noise).
        Assert.Equal(9_000, result.Fan[1].Equity.P5, 3);
        Assert.Equal(11_000, result.Fan[1].Equity.P95, 3);
    }

    [Fact]
    public void Shuffling_keeps_the_final_equity_the_same_on_every_path()
    {
        var returns = Noise(300, 11, sd: 0.03);
        var result = MonteCarlo.Run(Series(returns), MonteCarloMethod.TradeShuffle, new MonteCarloOptions(Paths: 2_000, Seed: 5));
        var product = returns.Aggregate(1.0, (g, r) => g * (1 + r));
        var final = result.FinalReturn;
        Assert.Equal(2_000, final.Count);
        // Products in another order differ only by rounding.
        Assert.InRange(final.Percentiles!.P95 - final.Percentiles.P5, 0, 1e-12);
        Assert.Equal(product - 1, final.Percentiles.P50, 12);
        Assert.Equal(result.Fan[^1].Equity.P5, result.Fan[^1].Equity.P95, 1e-2);
        // ... while the drawdowns do vary.
        Assert.True(result.MaxDrawdown.Percentiles!.P95 > result.MaxDrawdown.Percentiles.P5);
    }

    [Fact]
    public void Resampling_with_replacement_varies_the_final_equity()
    {
        var result = MonteCarlo.Run(Series(Noise(100, 2, sd: 0.03)), MonteCarloMethod.TradeResample, new MonteCarloOptions(Paths: 1_000, Seed: 1));
        Assert.True(result.FinalReturn.Percentiles!.P95 > result.FinalReturn.Percentiles.P5 + 0.1);
    }

    [Theory]
    [InlineData(MonteCarloMethod.TradeShuffle)]
    [InlineData(MonteCarloMethod.TradeResample)]
    [InlineData(MonteCarloMethod.StationaryBootstrap)]
    public void The_same_seed_gives_the_same_result_and_another_seed_another(MonteCarloMethod method)
    {
        var series = Series(Noise(500, 9));
        var first = Json(MonteCarlo.Run(series, method, new MonteCarloOptions(Paths: 3_000, Seed: 77)));
        var again = Json(MonteCarlo.Run(series, method, new MonteCarloOptions(Paths: 3_000, Seed: 77)));
        var other = Json(MonteCarlo.Run(series, method, new MonteCarloOptions(Paths: 3_000, Seed: 78)));
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void A_path_does_not_depend_on_how_many_paths_run_beside_it()
    {
        var series = Series(Noise(50, 4));
        var one = MonteCarlo.Run(series, MonteCarloMethod.StationaryBootstrap, new MonteCarloOptions(Paths: 1, Seed: 8, MeanBlockLength: 3));
        var indices = IndicesOf(MonteCarloMethod.StationaryBootstrap, 8, 0, 50, 3);
        var growth = indices.Aggregate(1.0, (g, i) => g * (1 + series.Returns[i]));
        Assert.Equal(growth - 1, one.FinalReturn.Percentiles!.P50, 14);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    [InlineData(12.5)]
    [InlineData(40.0)]
    public void Stationary_bootstrap_blocks_are_geometric_with_the_given_mean(double meanBlock)
    {
        const int length = 400_000;
        var random = new SplitMix64(2024);
        var indices = new int[length];
        var starts = new bool[length];
        MonteCarloSampling.StationaryBootstrap(ref random, 1_000, meanBlock, indices, starts);

        // Complete blocks only: the last one is cut by the path's end.
        var lengths = new List<int>();
        var begun = 0;
        for (var i = 1; i < length; i++)
        {
            if (starts[i])
            {
                lengths.Add(i - begun);
                begun = i;
            }
            else
            {
                Assert.Equal((indices[i - 1] + 1) % 1_000, indices[i]); // inside a block the index moves on by one, wrapping
            }
        }

        // Geometric with p = 1/L: mean L, variance (1 − p) / p². The mean of K lengths has sd √((1 − p) / p² / K); 5 sd.
        var p = 1 / meanBlock;
        var k = lengths.Count;
        var tolerance = 5 * Math.Sqrt((1 - p) / (p * p) / k);
        Assert.InRange(lengths.Average(), meanBlock - tolerance, meanBlock + tolerance);
        // P(length = 1) = p: a binomial share, 5 sd.
        var ones = lengths.Count(l => l == 1) / (double)k;
        var shareTolerance = 5 * Math.Sqrt(p * (1 - p) / k) + 1e-12;
        Assert.InRange(ones, p - shareTolerance, p + shareTolerance);
    }

    [Fact]
    public void Stationary_bootstrap_block_starts_are_uniform_over_the_series()
    {
        const int count = 10;
        var random = new SplitMix64(99);
        var indices = new int[200_000];
        var starts = new bool[indices.Length];
        MonteCarloSampling.StationaryBootstrap(ref random, count, 1, indices, starts);
        Assert.All(starts, Assert.True); // L = 1: every step a fresh draw
        var expected = indices.Length / (double)count;
        var tolerance = 5 * Math.Sqrt(indices.Length * (1.0 / count) * (1 - 1.0 / count));
        foreach (var group in indices.GroupBy(i => i))
        {
            Assert.InRange(group.Count(), expected - tolerance, expected + tolerance);
        }
    }

    [Fact]
    public void A_shuffle_is_a_permutation()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var random = SplitMix64.ForTrial(seed, 0);
            var indices = new int[seed + 1];
            MonteCarloSampling.Shuffle(ref random, indices);
            Assert.Equal(Enumerable.Range(0, seed + 1), indices.Order());
        }
    }

    /// <summary>Type 7 by exact decimal arithmetic on the positions, from a plain sort.</summary>
    private static double ReferencePercentile(double[] values, double level)
    {
        var sorted = values.Order().ToArray();
        var h = (decimal)(sorted.Length - 1) * (decimal)level;
        var lower = (int)decimal.Floor(h);
        if (lower >= sorted.Length - 1)
        {
            return sorted[^1];
        }

        return (double)((decimal)sorted[lower] + (h - lower) * ((decimal)sorted[lower + 1] - (decimal)sorted[lower]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(20)]
    [InlineData(21)]
    [InlineData(101)]
    [InlineData(1_000)]
    public void Percentiles_match_a_sort_based_reimplementation(int size)
    {
        var rng = new SplitMix64((ulong)size);
        // Rounded to 2 decimals so that ties occur.
        var values = Enumerable.Range(0, size).Select(_ => Math.Round(rng.NextGaussian(), 2)).ToArray();
        var distribution = MonteCarloDistribution.Of((double[])values.Clone(), 10);
        var p = distribution.Percentiles!;
        double[] got = [p.P5, p.P25, p.P50, p.P75, p.P95];
        for (var i = 0; i < Percentiles.Levels.Count; i++)
        {
            Assert.Equal(ReferencePercentile(values, Percentiles.Levels[i]), got[i], 12);
        }

        Assert.Equal(values.Average(), distribution.Mean!.Value, 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(20)]
    public void Histogram_counts_match_an_independent_count(int bins)
    {
        var rng = new SplitMix64(5);
        var values = Enumerable.Range(0, 997).Select(_ => Math.Round(rng.NextGaussian(), 1)).ToArray();
        var histogram = MonteCarloDistribution.Of((double[])values.Clone(), bins).Histogram;
        Assert.Equal(bins, histogram.Count);
        Assert.Equal(values.Min(), histogram[0].Low);
        Assert.Equal(values.Max(), histogram[^1].High);
        for (var b = 0; b < bins; b++)
        {
            var bin = histogram[b];
            var last = b == bins - 1;
            // Every value falls in the bin whose edges hold it (the bins' own edges, half-open but the last).
            Assert.Equal(values.Count(x => x >= bin.Low && (x < bin.High || (last && x <= bin.High))), bin.Count);
            if (b > 0)
            {
                Assert.Equal(histogram[b - 1].High, bin.Low);
            }
        }

        Assert.Equal(values.Length, histogram.Sum(h => h.Count));
    }

    [Fact]
    public void Equal_values_make_one_bin_and_undefined_values_are_counted_apart()
    {
        var distribution = MonteCarloDistribution.Of([2.5, double.NaN, 2.5, 2.5, double.NaN], 20);
        Assert.Equal(3, distribution.Count);
        Assert.Equal(2, distribution.Undefined);
        Assert.Equal([new HistogramBin(2.5, 2.5, 3)], distribution.Histogram);
        Assert.Equal(2.5, distribution.Percentiles!.P5);

        var none = MonteCarloDistribution.Of([double.NaN], 5);
        Assert.Equal(0, none.Count);
        Assert.Null(none.Percentiles);
        Assert.Null(none.Mean);
        Assert.Empty(none.Histogram);
    }

    [Fact]
    public void A_ruined_path_stays_ruined_and_has_no_CAGR_or_Sharpe_ratio()
    {
        // Either order of these two returns is ruined at −50% of E0.
        var result = MonteCarlo.Run(Series([-1.5, 0.0]), MonteCarloMethod.TradeShuffle, new MonteCarloOptions(Paths: 10, Seed: 1));
        Assert.Equal(0, result.Cagr.Count);
        Assert.Equal(10, result.Cagr.Undefined);
        Assert.Equal(10, result.Sharpe.Undefined);
        Assert.Equal(1.0, result.ProbabilityOfLoss);
        Assert.Equal(1.0, result.ProbabilityOfDrawdownBeyondLimit);
        Assert.Equal(-1.5, result.FinalReturn.Percentiles!.P50, 12); // ruined at −0.5 E0, then frozen
    }

    [Fact]
    public void Fan_steps_start_at_zero_end_at_the_last_step_and_never_repeat()
    {
        Assert.Equal([0, 1, 2, 3], MonteCarlo.FanSteps(3, 101));
        Assert.Equal([0, 1], MonteCarlo.FanSteps(1, 2));
        foreach (var (steps, points) in new[] { (1_260, 101), (1_260, 2), (101, 101), (100, 101), (7, 3), (1_000_000, 201) })
        {
            var fan = MonteCarlo.FanSteps(steps, points);
            Assert.Equal(Math.Min(points, steps + 1), fan.Length);
            Assert.Equal(0, fan[0]);
            Assert.Equal(steps, fan[^1]);
            Assert.True(fan.Zip(fan.Skip(1)).All(pair => pair.First < pair.Second));
        }
    }

    [Fact]
    public void Trade_returns_compound_to_the_realized_equity_in_exit_order()
    {
        static Trade T(int id, int exitDay, double pnl) => new()
        {
            Id = id, Instrument = "SPY", Side = TradeSide.Long, Quantity = 1, EntryPrice = 1, ExitPrice = 1, Pnl = pnl, ReturnPct = 0, Commission = 0, Mae = 0, Mfe = 0, BarsHeld = 1,
            EntryTime = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), ExitTime = new DateTime(2024, 1, exitDay, 0, 0, 0, DateTimeKind.Utc),
        };

        var series = MonteCarloSeries.FromTrades(1_000, [T(2, 5, -100), T(1, 3, 200), T(3, 5, 50)], 10, 252, 0)!;
        // Exit order: 1 (+200 on 1,000), then 2 (−100 on 1,200), then 3 (+50 on 1,100).
        Assert.Equal([0.2, -100 / 1_200.0, 50 / 1_100.0], series.Returns);
        Assert.Equal(1_150, series.Returns.Aggregate(1_000.0, (e, r) => e * (1 + r)), 9);
        Assert.Equal(3 * 252 / 10.0, series.StepsPerYear);
        Assert.Null(MonteCarloSeries.FromTrades(100, [T(1, 2, -100), T(2, 3, 10)], 10, 252, 0));
    }

    public static TheoryData<double[], string> UnusableSeries => new()
    {
        { [], "at least 2 returns" },
        { [0.01], "at least 2 returns" },
        { [0.01, 0.01, 0.01], "do not vary" },
        { [0.0, 0.0], "do not vary" },
        { [0.01, double.NaN], "finite" },
        { [0.01, double.PositiveInfinity], "finite" },
    };

    [Theory]
    [MemberData(nameof(UnusableSeries))]
    public void A_series_that_cannot_be_resampled_is_refused_with_its_reason(double[] returns, string reason)
    {
        var series = Series(returns);
        Assert.Contains(reason, series.Unusable());
        foreach (var method in Methods)
        {
            var e = Assert.Throws<ArgumentException>(() => MonteCarlo.Run(series, method, new MonteCarloOptions(Paths: 10)));
            Assert.Contains(reason, e.Message);
        }
    }

    [Fact]
    public void No_trades_or_one_trade_cannot_be_resampled()
    {
        Assert.Contains("at least 2", MonteCarloSeries.FromTrades(1_000, [], 10, 252, 0)!.Unusable());
        Assert.Contains("at least 2", MonteCarloSeries.FromDailyEquity(1_000, [new DailyEquity(new DateOnly(2024, 1, 2), 1_010)], 252, 0)!.Unusable());
        Assert.Contains("initial equity", new MonteCarloSeries(0, [0.1, 0.2], 2, 252, 0).Unusable());
        Assert.Contains("days", new MonteCarloSeries(1, [0.1, 0.2], 0, 252, 0).Unusable());
    }

    public static TheoryData<MonteCarloMethod, MonteCarloOptions, string> BadOptions => new()
    {
        { MonteCarloMethod.TradeShuffle, new MonteCarloOptions(Paths: 0), "paths" },
        { MonteCarloMethod.TradeShuffle, new MonteCarloOptions(Paths: MonteCarlo.MaxPaths + 1), "paths" },
        { MonteCarloMethod.StationaryBootstrap, new MonteCarloOptions(MeanBlockLength: 0.5), "blockSize" },
        { MonteCarloMethod.StationaryBootstrap, new MonteCarloOptions(MeanBlockLength: 11), "blockSize" },
        { MonteCarloMethod.StationaryBootstrap, new MonteCarloOptions(MeanBlockLength: double.NaN), "blockSize" },
        { MonteCarloMethod.TradeResample, new MonteCarloOptions(DrawdownLimit: 0), "drawdownLimit" },
        { MonteCarloMethod.TradeResample, new MonteCarloOptions(DrawdownLimit: 1.01), "drawdownLimit" },
        { MonteCarloMethod.TradeResample, new MonteCarloOptions(DrawdownLimit: double.NaN), "drawdownLimit" },
        { MonteCarloMethod.TradeResample, new MonteCarloOptions(Bins: 0), "bins" },
        { MonteCarloMethod.TradeResample, new MonteCarloOptions(Bins: MonteCarlo.MaxBins + 1), "bins" },
        { MonteCarloMethod.TradeResample, new MonteCarloOptions(FanPoints: 1), "fanPoints" },
        { MonteCarloMethod.TradeResample, new MonteCarloOptions(FanPoints: MonteCarlo.MaxFanPoints + 1), "fanPoints" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void An_option_out_of_range_is_refused_naming_its_field(MonteCarloMethod method, MonteCarloOptions options, string field)
    {
        var series = Series(Noise(10, 1));
        Assert.Equal(field, MonteCarlo.InvalidOption(series, method, options)?.Field);
        Assert.Throws<ArgumentOutOfRangeException>(() => MonteCarlo.Run(series, method, options));
    }

    [Fact]
    public void The_block_size_is_ignored_by_the_trade_methods_and_bounds_are_inclusive()
    {
        var series = Series(Noise(10, 1));
        Assert.Null(MonteCarlo.InvalidOption(series, MonteCarloMethod.TradeShuffle, new MonteCarloOptions(MeanBlockLength: 0.5)));
        Assert.Null(MonteCarlo.InvalidOption(series, MonteCarloMethod.StationaryBootstrap,
            new MonteCarloOptions(Paths: MonteCarlo.MaxPaths, MeanBlockLength: 10, DrawdownLimit: 1, Bins: MonteCarlo.MaxBins, FanPoints: 2)));
        Assert.Null(MonteCarlo.InvalidOption(series, MonteCarloMethod.StationaryBootstrap,
            new MonteCarloOptions(Paths: 1, MeanBlockLength: 1, Bins: 1, FanPoints: MonteCarlo.MaxFanPoints)));
    }

    [Fact]
    public void The_automatic_block_length_is_short_for_independent_returns_and_long_for_persistent_ones()
    {
        var white = Noise(1_260, 17);
        var independent = MonteCarloBlockLength.Stationary(white);
        Assert.InRange(independent, 1, 4);

        // AR(1) with φ = 0.9: strong persistence wants long blocks.
        var rng = new SplitMix64(3);
        var ar = new double[1_260];
        for (var t = 1; t < ar.Length; t++)
        {
            ar[t] = 0.9 * ar[t - 1] + 0.01 * rng.NextGaussian();
        }

        var persistent = MonteCarloBlockLength.Stationary(ar);
        Assert.True(persistent > 10, $"{persistent}");
        Assert.True(persistent <= Math.Ceiling(Math.Min(3 * Math.Sqrt(1_260), 1_260 / 3.0)));

        var result = MonteCarlo.Run(Series(ar), MonteCarloMethod.StationaryBootstrap, new MonteCarloOptions(Paths: 10));
        Assert.True(result.BlockLengthAutomatic);
        Assert.Equal(persistent, result.MeanBlockLength);
        var given = MonteCarlo.Run(Series(ar), MonteCarloMethod.StationaryBootstrap, new MonteCarloOptions(Paths: 10, MeanBlockLength: 5));
        Assert.False(given.BlockLengthAutomatic);
        Assert.Equal(5, given.MeanBlockLength);
        Assert.Null(MonteCarlo.Run(Series(ar), MonteCarloMethod.TradeResample, new MonteCarloOptions(Paths: 10)).MeanBlockLength);
    }

    [Fact]
    public void The_automatic_block_length_of_a_two_point_series_is_in_its_bounds_and_flat_returns_are_refused()
    {
        Assert.Equal(1, MonteCarloBlockLength.Stationary([0.01, -0.01]));
        Assert.Throws<ArgumentException>(() => MonteCarloBlockLength.Stationary([0.01, 0.01, 0.01]));
        Assert.Throws<ArgumentException>(() => MonteCarloBlockLength.Stationary([0.01]));
    }
}
