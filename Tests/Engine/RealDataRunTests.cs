using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Engine;

/// <summary>Whole runs on the bundled real data: every template, warm-up, rotation, FX and the benchmark.</summary>
public class RealDataRunTests
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);

    private sealed class WarmupProbe : Strategy
    {
        public int WarmupBarsSeen { get; private set; }
        public int LiveBarsSeen { get; private set; }
        public DateOnly FirstLiveDate { get; private set; }
        public Order? WarmupOrder { get; private set; }

        public override void OnBar(in MarketData bar)
        {
            if (IsWarmingUp)
            {
                WarmupBarsSeen++;
                WarmupOrder ??= Buy(bar.Instrument, 1);
                return;
            }

            if (LiveBarsSeen++ == 0)
            {
                FirstLiveDate = bar.Date;
            }
        }
    }

    private static BacktestResult Run(string json, StrategyCatalog? catalog = null)
    {
        catalog ??= StrategyCatalog.Templates;
        var (config, parseErrors) = ConfigValidator.Parse(json);
        Assert.Empty(parseErrors);
        var validation = ConfigValidator.Validate(config!, Data, catalog, ValidationPolicy.Service, new DateOnly(2026, 11, 24));
        Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => $"{e.Field}: {e.Message}")));
        return new BacktestRun(validation.Spec!, Data, catalog).Execute();
    }

    private static string Config(string strategy, string parameters, string instruments = "\"SPY\"", string extra = "") => $$"""
        {"strategyClass":"{{strategy}}","strategyConfig":{{parameters}},"startDate":"2015-01-01","endDate":"2019-12-31",
         "instruments":[{{instruments}}],"initialBalance":100000{{extra}}}
        """;

    [Theory]
    [InlineData("MovingAverageCross", """{"fastPeriod":20,"slowPeriod":50,"maType":"EMA"}""")]
    [InlineData("RsiMeanReversion", """{"period":14,"oversold":30,"overbought":70}""")]
    [InlineData("BollingerBands", """{"period":20,"stdDevs":2}""")]
    [InlineData("DonchianBreakout", """{"entryPeriod":20,"exitPeriod":10}""")]
    [InlineData("BuyAndHold", "{}")]
    public void Every_single_instrument_template_trades_real_data(string strategy, string parameters)
    {
        var result = Run(Config(strategy, parameters));
        Assert.True(result.Trades.Count + result.OpenPositions.Count > 0, $"{strategy} never traded");
        Assert.DoesNotContain(result.Orders, o => o.Status == "rejected");
        Assert.All(result.Trades, t => Assert.True(t.ExitTime > t.EntryTime));
        Assert.Equal(result.Summary.FinalBalance, result.DailyEquity[^1].Equity);
        Assert.NotNull(result.Metrics.SharpeRatio);
    }

    [Fact]
    public void Buy_and_hold_tracks_its_benchmark()
    {
        var result = Run(Config("BuyAndHold", "{}", extra: ""","riskSettings":{"positionSizing":{"mode":"percentEquity","percent":1}}"""));
        // Buy-and-hold of SPY at the first open vs the benchmark from the first close: close, not equal.
        Assert.Equal("SPY.ARCA", result.Benchmark.Instrument);
        Assert.InRange(result.Summary.TotalReturn - result.Benchmark.TotalReturn, -0.02, 0.02);
        Assert.InRange(result.Metrics.Correlation ?? 0, 0.99, 1.0);
    }

    [Fact]
    public void A_chosen_benchmark_is_bought_and_held_instead_of_the_first_instrument()
    {
        var ibmAlone = Run(Config("BuyAndHold", "{}", "\"IBM\""));
        var spyAgainstIbm = Run(Config("MovingAverageCross", """{"fastPeriod":10,"slowPeriod":30}""", extra: ",\"benchmark\":\"IBM\""));
        // The benchmark of a run on IBM alone is IBM by default: the same curve as IBM chosen for a run on SPY.
        Assert.StartsWith("IBM", ibmAlone.Benchmark.Instrument, StringComparison.Ordinal);
        Assert.Equal(ibmAlone.Benchmark.Instrument, spyAgainstIbm.Benchmark.Instrument);
        Assert.Equal(ibmAlone.Benchmark.TotalReturn, spyAgainstIbm.Benchmark.TotalReturn, 12);
        Assert.Equal(ibmAlone.Benchmark.EquityCurve, spyAgainstIbm.Benchmark.EquityCurve);
        Assert.All(spyAgainstIbm.Trades, t => Assert.StartsWith("SPY", t.Instrument, StringComparison.Ordinal));
    }

    [Fact]
    public void Momentum_rotation_holds_at_most_top_n_and_rebalances_without_cash_rejections()
    {
        var result = Run(Config("MomentumRotation", """{"lookback":60,"topN":2,"rebalanceDays":21}""",
            "\"SPY\",\"QQQ\",\"IWM\",\"EEM\",\"AAPL\"",
            ""","riskSettings":{"positionSizing":{"mode":"percentEquity","percent":0.95}}"""));
        Assert.True(result.Trades.Count > 10);
        Assert.True(result.OpenPositions.Count <= 2);
        Assert.DoesNotContain(result.Orders, o => o.Status == "rejected");
        Assert.Equal(5, result.PerInstrument.Count);
        Assert.Equal(result.Trades.Sum(t => t.Pnl), result.PerInstrument.Sum(p => p.NetPnl), 6);
    }

    [Fact]
    public void Warm_up_bars_before_the_start_feed_indicators_but_neither_trade_nor_count()
    {
        var probe = new WarmupProbe();
        var catalog = StrategyCatalog.Templates.With([StrategyDescriptor.For("WarmupProbe", "test probe", () => probe)]);
        var json = """
            {"strategyClass":"WarmupProbe","startDate":"2019-01-01","endDate":"2019-12-31","instruments":["SPY"],
             "dataConfiguration":{"warmup":30}}
            """;
        var result = Run(json, catalog);
        Assert.Equal(30, probe.WarmupBarsSeen);
        Assert.Equal(new DateOnly(2019, 1, 2), probe.FirstLiveDate);
        Assert.Null(probe.WarmupOrder);
        Assert.Equal(252, result.DailyEquity.Count);
        Assert.Equal(new DateOnly(2019, 1, 2), result.DailyEquity[0].Date);
    }

    [Fact]
    public void Warm_up_lets_the_first_cross_happen_at_the_start()
    {
        var cold = Run(Config("MovingAverageCross", """{"fastPeriod":10,"slowPeriod":30}"""));
        var warm = Run(Config("MovingAverageCross", """{"fastPeriod":10,"slowPeriod":30}""", extra: ""","dataConfiguration":{"warmup":30}"""));
        var firstCold = cold.Orders.Min(o => o.SubmittedAt);
        var firstWarm = warm.Orders.Min(o => o.SubmittedAt);
        Assert.True(firstWarm <= firstCold);
        // Without warm-up nothing can be signalled before 31 bars exist in the range.
        Assert.True((firstCold - cold.DailyEquity[0].Date.ToDateTime(TimeOnly.MinValue)).TotalDays > 40);
    }

    [Fact]
    public void A_euro_account_converts_through_eurusd_and_says_so()
    {
        var usd = Run(Config("BuyAndHold", "{}"));
        // 2015-2019 runs past the end of the bundled EURUSD (2018-12-31) and across its missing week of December 2016.
        var eur = Run(Config("BuyAndHold", "{}", extra: ""","baseCurrency":"EUR","dataConfiguration":{"fxCarryForward":true}"""));
        Assert.Equal(2, eur.Notes.Count(n => n.Contains("EURUSD")));
        Assert.Contains("EURUSD", eur.FxRateSource);
        Assert.StartsWith("none needed", usd.FxRateSource);
        // Same shares bought (sizing is in euros at the euro rate, so not necessarily the same count) and
        // the euro account's return differs from the dollar account's by the currency move.
        Assert.NotEqual(usd.Summary.TotalReturn, eur.Summary.TotalReturn);
        Assert.InRange(eur.Summary.TotalReturn, -0.5, 2);
        Assert.Equal(100_000, eur.Summary.InitialBalance);
    }

    [Fact]
    public void Ticks_run_with_next_tick_fills_at_trade_prices()
    {
        var json = """
            {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":50,"slowPeriod":400},
             "startDate":"2013-10-07","endDate":"2013-10-08","instruments":["SPY"],
             "dataConfiguration":{"resolution":"tick","dataType":"ticks","adjustment":"raw"},
             "executionSettings":{"fillModel":"nextTick"},
             "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":10}}}
            """;
        var result = Run(json);
        Assert.True(result.Trades.Count > 5);
        Assert.All(result.Fills, f => Assert.InRange(f.Price, 160, 172));
        Assert.True(result.Summary.ProcessedBars > 500_000);
        Assert.True(result.EquityCurve.Count <= 10_000);
    }

    [Fact]
    public void Split_adjusted_data_removes_the_split_from_returns()
    {
        var raw = Run(Config("BuyAndHold", "{}", "\"AAPL\"", ""","dataConfiguration":{"adjustment":"raw"}""").Replace("2015-01-01", "2014-01-01").Replace("2019-12-31", "2014-12-31"));
        var adjusted = Run(Config("BuyAndHold", "{}", "\"AAPL\"", ""","dataConfiguration":{"adjustment":"split"}""").Replace("2015-01-01", "2014-01-01").Replace("2019-12-31", "2014-12-31"));
        // AAPL split 7:1 in June 2014: raw prices lose ~6/7 of their value; split-adjusted ones rose ~40% that year.
        Assert.True(raw.Benchmark.TotalReturn < -0.7);
        Assert.InRange(adjusted.Benchmark.TotalReturn, 0.2, 0.6);
    }

    [Fact]
    public void Results_serialize_to_camel_case_json_without_nan()
    {
        var result = Run(Config("MovingAverageCross", """{"fastPeriod":10,"slowPeriod":30}"""));
        var json = JsonSerializer.Serialize(result, JsonDefaults.Options);
        Assert.Contains("\"sharpeRatio\"", json);
        Assert.DoesNotContain("NaN", json);
        Assert.DoesNotContain("Infinity", json);
    }
}
