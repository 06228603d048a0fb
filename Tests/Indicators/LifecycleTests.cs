using Backtesting.Engine.Indicators;

namespace Backtesting.Tests.Indicators;

// Warm-up counts, Reset, and the no-allocation promise.
public sealed class LifecycleTests
{
    private static double Price(int i) => 100 + 10 * Math.Sin(i * 0.37) + (i % 7);

    // One driver per indicator: feeds bar i and returns the indicator's main output.
    private static (IIndicator Indicator, Func<int, double> Step)[] AllIndicators()
    {
        var sma = new Sma(5);
        var ema = new Ema(5);
        var rsi = new Rsi(5);
        var sd = new RollingStdDev(5);
        var bb = new BollingerBands(5, 2);
        var atr = new Atr(5);
        var macd = new Macd(3, 6, 4);
        var dc = new DonchianChannel(5);
        return
        [
            (sma, i => { sma.Update(Price(i)); return sma.Value; }),
            (ema, i => { ema.Update(Price(i)); return ema.Value; }),
            (rsi, i => { rsi.Update(Price(i)); return rsi.Value; }),
            (sd, i => { sd.Update(Price(i)); return sd.Value; }),
            (bb, i => { bb.Update(Price(i)); return bb.Upper; }),
            (atr, i => { atr.Update(Price(i) + 1, Price(i) - 1, Price(i)); return atr.Value; }),
            (macd, i => { macd.Update(Price(i)); return macd.Histogram; }),
            (dc, i => { dc.Update(Price(i) + 1, Price(i) - 1); return dc.Lower; }),
        ];
    }

    [Fact]
    public void Ready_exactly_after_the_warm_up_period_and_NaN_before()
    {
        foreach (var (indicator, step) in AllIndicators())
        {
            for (var i = 0; i < 50; i++)
            {
                var value = step(i);
                var ready = i + 1 >= indicator.WarmUpPeriod;
                Assert.Equal(ready, indicator.IsReady);
                Assert.Equal(!ready, double.IsNaN(value));
            }
        }
    }

    [Fact]
    public void Warm_up_periods_are_as_documented()
    {
        Assert.Equal(20, new Sma(20).WarmUpPeriod);
        Assert.Equal(20, new Ema(20).WarmUpPeriod);
        Assert.Equal(15, new Rsi(14).WarmUpPeriod);
        Assert.Equal(20, new RollingStdDev(20).WarmUpPeriod);
        Assert.Equal(20, new BollingerBands(20, 2).WarmUpPeriod);
        Assert.Equal(14, new Atr(14).WarmUpPeriod);
        Assert.Equal(26, new Macd().Period);
        Assert.Equal(20, new DonchianChannel(20).WarmUpPeriod);
    }

    [Fact]
    public void Reset_gives_the_same_outputs_as_a_new_instance()
    {
        foreach (var (indicator, step) in AllIndicators())
        {
            var first = new double[40];
            for (var i = 0; i < 40; i++)
            {
                first[i] = step(i);
            }

            indicator.Reset();
            Assert.False(indicator.IsReady);
            for (var i = 0; i < 40; i++)
            {
                Assert.Equal(first[i], step(i));
            }
        }
    }

    [Fact]
    public void Updates_do_not_allocate()
    {
        var sma = new Sma(50);
        var ema = new Ema(50);
        var rsi = new Rsi(14);
        var sd = new RollingStdDev(50);
        var bb = new BollingerBands(20, 2);
        var atr = new Atr(14);
        var macd = new Macd();
        var dc = new DonchianChannel(50);

        void Run(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var p = Price(i);
                sma.Update(p);
                ema.Update(p);
                rsi.Update(p);
                sd.Update(p);
                bb.Update(p);
                atr.Update(p + 1, p - 1, p);
                macd.Update(p);
                dc.Update(p + 1, p - 1);
            }
        }

        // Warm up until tiered compilation has settled: the runtime's own promotions (call counting, tier-1 installs) may
        // allocate on the calling thread for a while, which is no allocation of the indicators'. Bounded; the measured
        // round below must still allocate nothing at all.
        for (var round = 0; round < 50; round++)
        {
            var start = GC.GetAllocatedBytesForCurrentThread();
            Run(10_000);
            if (round >= 3 && GC.GetAllocatedBytesForCurrentThread() == start)
            {
                break;
            }

            Thread.Sleep(20);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(100_000);
        var after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
    }
}
