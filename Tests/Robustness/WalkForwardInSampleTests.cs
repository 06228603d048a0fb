using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Results;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Backtesting.Tests.Optimization;

namespace Backtesting.Tests.Robustness;

/// <summary>
/// A walk-forward window's in-sample curve: the rebasing checked by hand, its refusals, the anchor on the stitched curve,
/// and the days of a run without its strategy equal to the run's own, for every template over several kinds of data.
/// </summary>
public class WalkForwardInSampleTests
{
    private static readonly DateOnly D1 = new(2019, 1, 2), D2 = new(2019, 1, 3), D3 = new(2019, 1, 4);

    [Fact]
    public void The_curve_compounds_the_returns_and_ends_at_the_anchor()
    {
        // Growth 1.1, 1.1 * 0.9 = 0.99, 0.99 * 1.05 = 1.0395; anchor 50,000.
        var curve = WalkForwardInSample.Curve([D1, D2, D3], [0.1f, -0.1f, 0.05f], 50_000)!;
        double[] growth = [1 + (double)0.1f, (1 + (double)0.1f) * (1 + (double)-0.1f), (1 + (double)0.1f) * (1 + (double)-0.1f) * (1 + (double)0.05f)];
        Assert.Equal([D1, D2, D3], curve.Select(p => p.Date));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(50_000 * growth[i] / growth[2], curve[i].Equity, 1e-9);
        }

        Assert.Equal(50_000, curve[^1].Equity, 1e-9);
        Assert.Equal(50_000 * 1.1 / 1.0395, curve[0].Equity, 1e-2);
    }

    [Fact]
    public void No_returns_is_an_empty_curve_and_a_wiped_out_account_cannot_be_rebased()
    {
        Assert.Empty(WalkForwardInSample.Curve([], [], 1_000)!);
        Assert.Null(WalkForwardInSample.Curve([D1, D2], [0.5f, -1f], 1_000));
        Assert.Null(WalkForwardInSample.Curve([D1, D2], [-1f, 0.5f], 1_000));
    }

    [Fact]
    public void Returns_that_are_not_one_a_day_a_bad_anchor_or_a_return_that_is_not_a_number_are_refused()
    {
        Assert.Throws<ArgumentException>(() => WalkForwardInSample.Curve([D1, D2], [0.1f], 1_000));
        Assert.Throws<ArgumentException>(() => WalkForwardInSample.Curve([D1], [float.NaN], 1_000));
        Assert.Throws<ArgumentException>(() => WalkForwardInSample.Curve([D1], [float.PositiveInfinity], 1_000));
        foreach (var anchor in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => WalkForwardInSample.Curve([D1], [0.1f], anchor));
        }
    }

    [Fact]
    public void The_anchor_is_the_stitched_equity_on_the_last_day_before_the_out_of_sample_start_or_the_initial_equity()
    {
        DailyEquity[] stitched = [new(D1, 101), new(D2, 102), new(D3, 103)];
        Assert.Equal(100, WalkForwardInSample.Anchor(stitched, D1, 100));
        Assert.Equal(101, WalkForwardInSample.Anchor(stitched, D2, 100));
        Assert.Equal(103, WalkForwardInSample.Anchor(stitched, new DateOnly(2019, 2, 1), 100));
        // A window after a gap (a window without a feasible trial before it): the last stitched day before it.
        Assert.Equal(102, WalkForwardInSample.Anchor(stitched, D3, 100));
        Assert.Equal(100, WalkForwardInSample.Anchor([], D3, 100));
    }

    /// <summary>Data of several kinds: one equity, two with a benchmark not traded, forex (another calendar), a warm-up, hourly bars.</summary>
    public static TheoryData<string> Configs => new()
    {
        """{"instruments":["SPY"]}""",
        """{"instruments":["SPY","QQQ"],"benchmark":"AAPL"}""",
        """{"instruments":["EURUSD"],"benchmark":"SPY","startDate":"2017-01-03","endDate":"2018-06-29"}""",
        """{"instruments":["SPY"],"dataConfiguration":{"warmup":50}}""",
        """{"instruments":["SPY"],"dataConfiguration":{"resolution":"hour"},"startDate":"2019-01-02","endDate":"2019-03-29"}""",
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void The_days_of_a_run_without_its_strategy_are_the_runs_own_days_for_every_template(string change)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse("""
            {"strategyClass":"BuyAndHold","startDate":"2018-01-02","endDate":"2019-06-28","instruments":["SPY"],"initialBalance":100000}
            """)!.AsObject();
        foreach (var (name, value) in System.Text.Json.Nodes.JsonNode.Parse(change)!.AsObject())
        {
            node[name] = value?.DeepClone();
        }

        var ran = 0;
        foreach (var strategy in StrategyCatalog.Templates.All)
        {
            if (strategy.MaxInstruments < node["instruments"]!.AsArray().Count)
            {
                continue;
            }

            node["strategyClass"] = strategy.Name;
            // Every parameter at its schema's default (required ones too).
            node["strategyConfig"] = new System.Text.Json.Nodes.JsonObject(strategy.Parameters.Where(p => p.Default is not null)
                .Select(p => KeyValuePair.Create(p.Name, System.Text.Json.JsonSerializer.SerializeToNode(p.Default))));
            var config = ConfigValidator.Parse(node.ToJsonString()).Config!;
            var validation = ConfigValidator.Validate(config, OptimizationFixtures.Lean, StrategyCatalog.Templates, ValidationPolicy.Local, OptimizationFixtures.Today);
            Assert.True(validation.IsValid, $"{strategy.Name} {change}: " + string.Join("; ", validation.Errors.Select(e => e.Message)));
            var run = new BacktestRun(validation.Spec!, OptimizationFixtures.Lean, StrategyCatalog.Templates);
            var days = run.TradingDays();
            var result = new BacktestRun(validation.Spec!, OptimizationFixtures.Lean, StrategyCatalog.Templates).Execute();
            Assert.NotEmpty(days);
            Assert.Equal(result.DailyEquity.Select(d => d.Date), days);
            Assert.Equal(result.DailyReturns.Count, days.Count);
            ran++;
        }

        Assert.True(ran >= 2, $"only {ran} templates take {change}");
    }
}
