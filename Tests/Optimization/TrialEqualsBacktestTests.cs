using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// A trial run by the TrialRunner over preloaded data equals the same config run alone as a backtest (validated from its
/// config, over a fresh data provider): the full metrics object byte for byte, the trade count, the content hash and the
/// daily returns; for every template strategy, over a grid of parameter sets derived from its schema.
/// </summary>
public class TrialEqualsBacktestTests
{
    public static TheoryData<string> Templates() => new(StrategyCatalog.Templates.All.Select(d => d.Name));

    /// <summary>Per parameter: its default and a second value inside its bounds; both sides of a switch; every allowed word.</summary>
    private static string Space(StrategyDescriptor strategy)
    {
        var parameters = new Dictionary<string, object>();
        foreach (var p in strategy.Parameters)
        {
            switch (p.Type)
            {
                case "integer":
                    var i = Convert.ToInt64(p.Default, System.Globalization.CultureInfo.InvariantCulture);
                    parameters[p.Name] = new { values = new[] { i, (long)Math.Min(p.Max ?? double.MaxValue, i * 2 + 1) }.Distinct() };
                    break;
                case "number":
                    var d = Convert.ToDouble(p.Default, System.Globalization.CultureInfo.InvariantCulture);
                    parameters[p.Name] = new { values = new[] { d, Math.Min(p.Max ?? double.MaxValue, d * 1.5 + 0.25) }.Distinct() };
                    break;
                case "boolean":
                    parameters[p.Name] = new { values = new[] { false, true } };
                    break;
                default:
                    parameters[p.Name] = new { values = p.Allowed ?? [(string)p.Default!] };
                    break;
            }
        }

        return JsonSerializer.Serialize(parameters);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_trial_equals_its_config_run_alone(string strategyName)
    {
        var strategy = StrategyCatalog.Templates.All.Single(s => s.Name == strategyName);
        var baseConfig = """
            {"strategyClass":"STRATEGY","startDate":"2018-01-01","endDate":"2019-12-31","instruments":["SPY","QQQ"],
             "initialBalance":100000,"accountType":"margin","dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
             "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}}
            """.Replace("STRATEGY", strategyName, StringComparison.Ordinal);
        var plan = Plan(Job(GridJob, ("baseConfig", baseConfig), ("parameters", Space(strategy))));
        var preloaded = new PreloadedMarketData(new LeanDataProvider(TestPaths.LeanData));
        var runner = new TrialRunner(plan, preloaded, StrategyCatalog.Templates);
        var summary = OptimizationLoop.Run(plan, batch => batch.Select(p => runner.Run(p)).ToList(), batchSize: 5);
        Assert.Equal(plan.PlannedTrials, summary.Trials.Count);

        var alone = new LeanDataProvider(TestPaths.LeanData);
        var ran = 0;
        foreach (var trial in summary.Trials)
        {
            var config = plan.TrialConfig(trial.Parameters);
            var validation = ConfigValidator.Validate(config, alone, StrategyCatalog.Templates, ValidationPolicy.Service, Today);
            if (trial.Metrics is null)
            {
                // The strategy's rule refused it: run alone, the same config is refused by that rule.
                Assert.False(validation.IsValid);
                Assert.Contains(validation.Errors, e => trial.InfeasibleReason!.Contains(e.Message, StringComparison.Ordinal));
                continue;
            }

            Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => e.Message)));
            var result = new BacktestRun(validation.Spec!, alone, StrategyCatalog.Templates).Execute();
            Assert.Equal(JsonSerializer.Serialize(result.Metrics, JsonDefaults.Options), JsonSerializer.Serialize(trial.Metrics, JsonDefaults.Options));
            Assert.Equal(result.Summary.TotalTrades, trial.TradeCount);
            Assert.Equal(result.ContentHash, trial.ContentHash);
            Assert.Equal(result.DailyReturns.Select(r => r.Return), trial.DailyReturns);
            ran++;
        }

        Assert.True(ran > 0);
    }

    [Fact]
    public void Trials_share_no_state_running_them_in_any_order_or_at_once_gives_the_same_metrics()
    {
        var plan = Plan(Job(GridJob, ("baseConfig", BaseConfig.Replace("2016-01-01", "2019-01-01"))));
        var runner = new TrialRunner(plan, new PreloadedMarketData(Lean), StrategyCatalog.Templates);
        var points = plan.CreateMethod().Propose([], [], 12);
        string Metrics(TrialOutcome t) => $"{t.Trial}:{JsonSerializer.Serialize(t.Metrics, JsonDefaults.Options)}";
        var forward = points.Select(p => Metrics(runner.Run(p))).ToList();
        var backward = points.Reverse().Select(p => Metrics(runner.Run(p))).Reverse().ToList();
        var parallel = points.AsParallel().AsOrdered().WithDegreeOfParallelism(2).Select(p => Metrics(runner.Run(p))).ToList();
        Assert.Equal(forward, backward);
        Assert.Equal(forward, parallel);
    }
}
