using System.Reflection;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// A trial keeps only the figures of its run (<see cref="BacktestRun.ExecuteFigures"/>), not the whole result document:
/// every metric, every daily return, the trade count and the content hash equal, bit for bit, those of the same config
/// run alone as a backtest over a fresh provider, over data of every kind the batch takes: one equity, several with a
/// benchmark not traded, forex against an equity benchmark (another calendar), crypto (365 periods a year), a warm-up,
/// hourly and minute bars.
/// </summary>
public class TrialFiguresBitwiseTests
{
    public static TheoryData<string, string> Configs => new()
    {
        { "one equity, daily", """{"instruments":["SPY"]}""" },
        { "two equities, a benchmark not traded", """{"instruments":["SPY","QQQ"],"benchmark":"AAPL"}""" },
        { "forex, an equity benchmark", """{"instruments":["EURUSD"],"benchmark":"SPY","startDate":"2017-01-03","endDate":"2018-06-29"}""" },
        { "crypto", """{"instruments":["BTCUSD"],"benchmark":"BTCUSD","baseCurrency":"USD","startDate":"2016-01-01","endDate":"2018-08-10"}""" },
        { "a warm-up", """{"instruments":["SPY"],"dataConfiguration":{"resolution":"daily","adjustment":"splitDividend","warmup":50}}""" },
        { "hourly bars", """{"instruments":["SPY"],"dataConfiguration":{"resolution":"hour","adjustment":"splitDividend"},"startDate":"2019-01-02","endDate":"2019-03-29"}""" },
        { "minute bars", """{"instruments":["SPY"],"dataConfiguration":{"resolution":"minute","adjustment":"raw"},"startDate":"2013-10-07","endDate":"2013-10-11"}""" },
    };

    private static readonly PropertyInfo[] MetricProperties = typeof(PerformanceMetrics).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    [Theory]
    [MemberData(nameof(Configs))]
    public void Every_trial_s_figures_equal_its_backtest_s_bit_for_bit(string data, string change)
    {
        var job = WithBase(Job(GridJob, ("parameters", """{"fastPeriod":{"values":[2,5,10]},"slowPeriod":{"values":[20,45]}}""")),
            JsonChanges(change));
        var plan = Plan(job);
        var runner = new TrialRunner(plan, new PreloadedMarketData(new LeanDataProvider(TestPaths.LeanData)), StrategyCatalog.Templates);
        var points = plan.CreateMethod().Propose([], [], (int)plan.PlannedTrials);
        Assert.Equal(6, points.Count);

        var alone = new LeanDataProvider(TestPaths.LeanData);
        var compared = 0;
        foreach (var point in points)
        {
            var trial = runner.Run(point);
            Assert.True(trial.Metrics is not null, $"{data}: trial {point.Trial} failed: {trial.InfeasibleReason}");
            var validation = ConfigValidator.Validate(plan.TrialConfig(point.Parameters), alone, StrategyCatalog.Templates, ValidationPolicy.Service, Today);
            Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => e.Message)));
            var result = new BacktestRun(validation.Spec!, alone, StrategyCatalog.Templates).Execute();

            foreach (var property in MetricProperties)
            {
                Assert.True(SameBits(property.GetValue(result.Metrics), property.GetValue(trial.Metrics)),
                    $"{data}, trial {point.Trial}: {property.Name} {property.GetValue(result.Metrics)} alone, {property.GetValue(trial.Metrics)} in the batch");
            }

            Assert.Equal(result.DailyReturns.Select(r => BitConverter.DoubleToInt64Bits(r.Return)), trial.DailyReturns.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(result.Summary.TotalTrades, trial.TradeCount);
            Assert.Equal(result.ContentHash, trial.ContentHash);
            Assert.NotEmpty(trial.DailyReturns);
            compared++;
        }

        Assert.Equal(points.Count, compared);
    }

    [Fact]
    public void Bit_comparison_tells_every_difference_a_metric_can_have()
    {
        Assert.True(SameBits(null, null));
        Assert.True(SameBits(0.1 + 0.2, 0.1 + 0.2));
        Assert.True(SameBits(7, 7));
        Assert.False(SameBits(0.1 + 0.2, 0.3));
        Assert.False(SameBits(0.0, -0.0));
        Assert.False(SameBits(1.0, null));
        Assert.False(SameBits(null, 1.0));
        Assert.False(SameBits(7, 8));
    }

    /// <summary>Doubles by their bits (so 0 and −0, and the last bit of a sum, differ); anything else by Equals.</summary>
    private static bool SameBits(object? expected, object? actual) => (expected, actual) switch
    {
        (null, null) => true,
        (double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        _ => Equals(expected, actual),
    };

    private static (string Key, string Json)[] JsonChanges(string change) =>
        [.. System.Text.Json.Nodes.JsonNode.Parse(change)!.AsObject().Select(p => (p.Key, p.Value!.ToJsonString()))];
}
