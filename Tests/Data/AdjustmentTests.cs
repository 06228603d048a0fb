using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Lean;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

public class AdjustmentTests
{
    private static readonly FactorFile Factors = FactorFile.Load(TestPaths.Lean("equity", "usa", "factor_files", "aapl.csv"));

    private static List<MarketData> AaplDaily(PriceAdjustment adjustment) =>
        LeanReaderTests.ReadAll(LeanReaders.EquityDaily(TestPaths.Lean("equity", "usa", "daily", "aapl.zip"), 0,
            Factors, adjustment));

    private static (MarketData Before, MarketData After) AroundSplit(List<MarketData> bars, DateOnly before, DateOnly after) =>
        (bars.Single(b => b.Date == before), bars.Single(b => b.Date == after));

    [Theory]
    [InlineData(2014, 6, 6, 2014, 6, 9, 7.0)]
    [InlineData(2020, 8, 28, 2020, 8, 31, 4.0)]
    public void RawPricesDropAtTheSplit_AdjustedStayContinuous(int y1, int m1, int d1, int y2, int m2, int d2, double ratio)
    {
        var before = new DateOnly(y1, m1, d1);
        var after = new DateOnly(y2, m2, d2);

        var (rawBefore, rawAfter) = AroundSplit(AaplDaily(PriceAdjustment.Raw), before, after);
        var rawJump = rawAfter.Open / rawBefore.Close;
        Assert.InRange(rawJump * ratio, 0.9, 1.1); // e.g. 645.57 -> 92.69 for 7:1

        foreach (var adjustment in new[] { PriceAdjustment.Split, PriceAdjustment.SplitDividend })
        {
            var (adjBefore, adjAfter) = AroundSplit(AaplDaily(adjustment), before, after);
            Assert.InRange(adjAfter.Open / adjBefore.Close, 0.95, 1.05);
            // Volume is divided by the split factor too, so pre-split shares count as post-split shares.
            var (_, splitFactor) = Factors.FactorsFor(before);
            Assert.Equal(1 / splitFactor, adjBefore.Volume / rawBefore.Volume, 1e-6);
        }
    }

    [Fact]
    public void Split_adjustment_uses_the_first_factor_row_on_or_after_the_date()
    {
        var raw = AaplDaily(PriceAdjustment.Raw).Single(b => b.Date == new DateOnly(2014, 6, 6));
        var split = AaplDaily(PriceAdjustment.Split).Single(b => b.Date == new DateOnly(2014, 6, 6));
        var total = AaplDaily(PriceAdjustment.SplitDividend).Single(b => b.Date == new DateOnly(2014, 6, 6));

        // Row 20140606: price factor 0.9011818, split factor 0.0357143.
        Assert.Equal(645.57 * 0.0357143, split.Close, 1e-9);
        Assert.Equal(645.57 * 0.9011818 * 0.0357143, total.Close, 1e-9);
        Assert.Equal(raw.Volume / 0.0357143, split.Volume, 1e-6);
        Assert.Equal(645.57, raw.Close, 1e-9);
    }

    [Fact]
    public void Latest_bars_are_unadjusted()
    {
        var raw = AaplDaily(PriceAdjustment.Raw)[^1];
        var total = AaplDaily(PriceAdjustment.SplitDividend)[^1];
        // 2021-03-31 falls under the final 20501231 row, whose factors are 1.
        Assert.Equal(raw.Close, total.Close);
    }

    [Fact]
    public void Spy_first_daily_bar_opens_at_9731_raw()
    {
        var first = LeanReaderTests.ReadAll(LeanReaders.EquityDaily(TestPaths.Lean("equity", "usa", "daily", "spy.zip"), 0,
            FactorFile.Load(TestPaths.Lean("equity", "usa", "factor_files", "spy.csv")), PriceAdjustment.Raw))[0];
        Assert.Equal(new DateOnly(1998, 1, 2), first.Date);
        Assert.Equal(97.31, first.Open, 1e-9);
    }

    [Fact]
    public void FactorFile_LooksUpRows()
    {
        var factors = Factors;
        Assert.Equal((0.9011818, 0.0357143), factors.FactorsFor(new DateOnly(2014, 6, 6)));
        Assert.Equal((0.9011818, 0.25), factors.FactorsFor(new DateOnly(2014, 6, 9)));
        Assert.Equal((1.0, 1.0), factors.FactorsFor(new DateOnly(2051, 1, 1)));
        Assert.Equal((1.0, 1.0), factors.Multipliers(new DateOnly(2014, 6, 6), PriceAdjustment.Raw));
    }
}
