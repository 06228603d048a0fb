using Backtesting.Engine.Indicators;

namespace Backtesting.Tests.Indicators;

// Small cases whose expected values are worked out by hand in the comments.
public sealed class HandComputedIndicatorTests
{
    private const double Tol = 1e-12;

    [Fact]
    public void Sma_averages_the_last_n_values()
    {
        var sma = new Sma(3);
        sma.Update(2);
        sma.Update(4);
        Assert.False(sma.IsReady);
        Assert.True(double.IsNaN(sma.Value));
        sma.Update(9);
        Assert.True(sma.IsReady);
        Assert.Equal(5.0, sma.Value, Tol);            // (2+4+9)/3 = 15/3
        sma.Update(1);
        Assert.Equal(14.0 / 3, sma.Value, Tol);       // (4+9+1)/3
        sma.Update(6);
        Assert.Equal(16.0 / 3, sma.Value, Tol);       // (9+1+6)/3
    }

    [Fact]
    public void Ema_is_seeded_with_the_sma_of_the_first_n_values()
    {
        var ema = new Ema(3);                          // α = 2/(3+1) = 0.5
        Assert.Equal(0.5, ema.Alpha, Tol);
        ema.Update(2);
        ema.Update(4);
        Assert.False(ema.IsReady);
        Assert.True(double.IsNaN(ema.Value));
        ema.Update(9);
        Assert.Equal(5.0, ema.Value, Tol);            // seed = (2+4+9)/3
        ema.Update(1);
        Assert.Equal(3.0, ema.Value, Tol);            // 5 + 0.5·(1−5)
        ema.Update(6);
        Assert.Equal(4.5, ema.Value, Tol);            // 3 + 0.5·(6−3)
    }

    [Fact]
    public void Rsi_uses_wilder_smoothing_after_a_simple_mean_seed()
    {
        var rsi = new Rsi(3);
        Assert.Equal(4, rsi.WarmUpPeriod);
        // Prices 10, 11, 10.5, 11.5 → changes +1, −0.5, +1.
        foreach (var p in new[] { 10, 11, 10.5 })
        {
            rsi.Update(p);
            Assert.False(rsi.IsReady);
            Assert.True(double.IsNaN(rsi.Value));
        }

        rsi.Update(11.5);
        Assert.True(rsi.IsReady);
        // avgGain = (1+0+1)/3 = 2/3, avgLoss = (0+0.5+0)/3 = 1/6
        // RSI = 100·(2/3)/(2/3+1/6) = 100·(4/6)/(5/6) = 80
        Assert.Equal(2.0 / 3, rsi.AverageGain, Tol);
        Assert.Equal(1.0 / 6, rsi.AverageLoss, Tol);
        Assert.Equal(80.0, rsi.Value, 1e-10);

        rsi.Update(11);    // change −0.5
        // avgGain = (2/3·2 + 0)/3 = 4/9; avgLoss = (1/6·2 + 0.5)/3 = (5/6)/3 = 5/18
        // RSI = 100·(8/18)/(8/18 + 5/18) = 800/13
        Assert.Equal(4.0 / 9, rsi.AverageGain, Tol);
        Assert.Equal(5.0 / 18, rsi.AverageLoss, Tol);
        Assert.Equal(800.0 / 13, rsi.Value, 1e-10);

        rsi.Update(12);    // change +1
        // avgGain = (4/9·2 + 1)/3 = 17/27; avgLoss = (5/18·2 + 0)/3 = 5/27; RSI = 100·17/22
        Assert.Equal(1700.0 / 22, rsi.Value, 1e-10);
    }

    [Fact]
    public void Rsi_is_100_when_there_are_no_losses()
    {
        var rising = new Rsi(2);
        foreach (var p in new[] { 1.0, 2, 3, 4 })
        {
            rising.Update(p);
        }

        Assert.Equal(100.0, rising.Value);

        var flat = new Rsi(2);
        foreach (var p in new[] { 5.0, 5, 5 })
        {
            flat.Update(p);
        }

        Assert.Equal(100.0, flat.Value);

        var falling = new Rsi(2);
        foreach (var p in new[] { 4.0, 3, 2 })
        {
            falling.Update(p);
        }

        Assert.Equal(0.0, falling.Value);
    }

    [Fact]
    public void RollingStdDev_is_the_population_deviation_of_the_window()
    {
        var sd = new RollingStdDev(4);
        double[] xs = [2, 4, 4, 4, 5, 5, 7, 9];
        // Windows of 4 → mean, Σ(x−mean)², variance = Σ/4:
        // [2,4,4,4]: mean 3.5,  2.25+0.25+0.25+0.25 = 3    → 0.75
        // [4,4,4,5]: mean 4.25, 0.0625·3+0.5625   = 0.75 → 0.1875
        // [4,4,5,5]: mean 4.5,  0.25·4            = 1    → 0.25
        // [4,5,5,7]: mean 5.25, 1.5625+0.0625+0.0625+3.0625 = 4.75 → 1.1875
        // [5,5,7,9]: mean 6.5,  2.25+2.25+0.25+6.25 = 11 → 2.75
        double[] means = [3.5, 4.25, 4.5, 5.25, 6.5];
        double[] variances = [0.75, 0.1875, 0.25, 1.1875, 2.75];
        for (var i = 0; i < xs.Length; i++)
        {
            sd.Update(xs[i]);
            if (i < 3)
            {
                Assert.False(sd.IsReady);
                Assert.True(double.IsNaN(sd.Value));
                continue;
            }

            Assert.Equal(means[i - 3], sd.Mean, Tol);
            Assert.Equal(variances[i - 3], sd.Variance, Tol);
            Assert.Equal(Math.Sqrt(variances[i - 3]), sd.Value, Tol);
        }

        // The whole classic series: mean 5, Σ(x−5)² = 9+1+1+1+0+0+4+16 = 32, 32/8 = 4, σ = 2.
        var all = new RollingStdDev(8);
        foreach (var x in xs)
        {
            all.Update(x);
        }

        Assert.Equal(2.0, all.Value, Tol);
    }

    [Fact]
    public void BollingerBands_are_sma_plus_minus_k_population_sigma()
    {
        var bb = new BollingerBands(4, 2);
        foreach (var x in new double[] { 2, 4, 4, 4, 5, 5, 7, 9 })
        {
            bb.Update(x);
        }

        // Last window [5,5,7,9]: mean 6.5, variance 2.75 (see above), σ = √2.75 ≈ 1.6583124
        var sigma = Math.Sqrt(2.75);
        Assert.Equal(6.5, bb.Middle, Tol);
        Assert.Equal(sigma, bb.StandardDeviation, Tol);
        Assert.Equal(6.5 + 2 * sigma, bb.Upper, Tol);   // ≈ 9.8166248
        Assert.Equal(6.5 - 2 * sigma, bb.Lower, Tol);   // ≈ 3.1833752
    }

    [Fact]
    public void Atr_uses_true_range_and_wilder_smoothing()
    {
        var atr = new Atr(3);
        atr.Update(10, 8, 9);       // first bar: TR = h − l = 2
        Assert.Equal(2.0, atr.TrueRange);
        atr.Update(11, 9, 10.5);    // TR = max(2, |11−9|=2, |9−9|=0) = 2
        Assert.Equal(2.0, atr.TrueRange);
        Assert.False(atr.IsReady);
        Assert.True(double.IsNaN(atr.Value));
        atr.Update(14, 13, 13.5);   // gap up: TR = max(1, |14−10.5|=3.5, |13−10.5|=2.5) = 3.5
        Assert.Equal(3.5, atr.TrueRange);
        Assert.True(atr.IsReady);
        Assert.Equal(2.5, atr.Value, Tol);           // seed = (2+2+3.5)/3
        atr.Update(13, 11, 12);     // TR = max(2, |13−13.5|=0.5, |11−13.5|=2.5) = 2.5
        Assert.Equal(2.5, atr.Value, Tol);           // (2.5·2 + 2.5)/3
        atr.Update(12.5, 12, 12.2); // TR = max(0.5, 0.5, 0) = 0.5
        Assert.Equal(5.5 / 3, atr.Value, Tol);       // (2.5·2 + 0.5)/3
    }

    [Fact]
    public void Macd_line_signal_and_histogram()
    {
        // fast EMA(2) α=2/3, slow EMA(3) α=1/2, signal EMA(2) α=2/3. Prices 10, 12, 14, 13, 15.
        // fast: seed (10+12)/2 = 11; 14 → 11+2/3·3 = 13; 13 → 13; 15 → 13+2/3·2 = 43/3
        // slow: seed (10+12+14)/3 = 12; 13 → 12.5; 15 → 12.5+0.5·2.5 = 13.75
        // line: t3 = 13−12 = 1; t4 = 13−12.5 = 0.5; t5 = 43/3 − 13.75 = 7/12
        // signal: seed (1+0.5)/2 = 0.75 at t4; t5 → 0.75 + 2/3·(7/12 − 3/4) = 0.75 − 1/9 = 23/36
        // histogram: t4 = 0.5 − 0.75 = −0.25; t5 = 7/12 − 23/36 = −1/18
        var macd = new Macd(2, 3, 2);
        Assert.Equal(4, macd.WarmUpPeriod);
        macd.Update(10);
        macd.Update(12);
        Assert.True(double.IsNaN(macd.MacdLine));
        macd.Update(14);
        Assert.Equal(1.0, macd.MacdLine, Tol);
        Assert.False(macd.IsReady);
        Assert.True(double.IsNaN(macd.Signal));
        Assert.True(double.IsNaN(macd.Histogram));
        macd.Update(13);
        Assert.True(macd.IsReady);
        Assert.Equal(0.5, macd.MacdLine, Tol);
        Assert.Equal(0.75, macd.Signal, Tol);
        Assert.Equal(-0.25, macd.Histogram, Tol);
        macd.Update(15);
        Assert.Equal(7.0 / 12, macd.MacdLine, Tol);
        Assert.Equal(23.0 / 36, macd.Signal, Tol);
        Assert.Equal(-1.0 / 18, macd.Histogram, Tol);
    }

    [Fact]
    public void Macd_defaults_are_12_26_9()
    {
        var macd = new Macd();
        Assert.Equal((12, 26, 9), (macd.FastPeriod, macd.SlowPeriod, macd.SignalPeriod));
        Assert.Equal(34, macd.WarmUpPeriod);
    }

    [Fact]
    public void Donchian_tracks_highest_high_and_lowest_low()
    {
        var dc = new DonchianChannel(3);
        (double H, double L)[] bars = [(5, 1), (6, 2), (4, 0), (7, 3), (3, 2), (2, 1)];
        // After bar 3: max(5,6,4)=6, min(1,2,0)=0
        // After bar 4: max(6,4,7)=7, min(2,0,3)=0
        // After bar 5: max(4,7,3)=7, min(0,3,2)=0
        // After bar 6: max(7,3,2)=7, min(3,2,1)=1
        (double Upper, double Lower)[] expected = [(6, 0), (7, 0), (7, 0), (7, 1)];
        for (var i = 0; i < bars.Length; i++)
        {
            dc.Update(bars[i].H, bars[i].L);
            if (i < 2)
            {
                Assert.False(dc.IsReady);
                Assert.True(double.IsNaN(dc.Upper));
                Assert.True(double.IsNaN(dc.Lower));
                continue;
            }

            Assert.Equal(expected[i - 2], (dc.Upper, dc.Lower));
        }

        Assert.Equal(4.0, dc.Middle);   // (7+1)/2
    }

    [Fact]
    public void Donchian_read_before_update_is_the_channel_of_the_previous_n_bars()
    {
        var dc = new DonchianChannel(3);
        dc.Update(5, 1);
        dc.Update(6, 2);
        dc.Update(4, 0);
        // Current bar: high 7, low 3, close 6.5. Read first: the prior three bars' high is 6 → breakout.
        var close = 6.5;
        Assert.True(dc.IsReady && close > dc.Upper);
        dc.Update(7, 3);
        // Read after the update, the channel includes the bar itself and the close is inside it.
        Assert.False(close > dc.Upper);
    }

    [Fact]
    public void Donchian_handles_ties_and_period_one()
    {
        var dc = new DonchianChannel(2);
        dc.Update(5, 5);
        dc.Update(5, 5);
        dc.Update(4, 4);   // window [(5,5),(4,4)]
        Assert.Equal((5.0, 4.0), (dc.Upper, dc.Lower));
        dc.Update(3, 3);   // window [(4,4),(3,3)]: both 5s expired
        Assert.Equal((4.0, 3.0), (dc.Upper, dc.Lower));

        var one = new DonchianChannel(1);
        one.Update(9, 1);
        one.Update(2, 1.5);
        Assert.Equal((2.0, 1.5), (one.Upper, one.Lower));
    }

    [Fact]
    public void Constructors_reject_invalid_periods()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sma(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ema(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rsi(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RollingStdDev(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BollingerBands(0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BollingerBands(20, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BollingerBands(20, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Atr(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Macd(26, 12, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Macd(12, 26, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DonchianChannel(0));
    }
}
