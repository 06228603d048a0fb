using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.WalkForward;
using Backtesting.Tests.Optimization;

namespace Backtesting.Tests.Robustness;

/// <summary>The walk-forward job's rules apart from the cluster: reading, validating, each window's configs, and what a child's state means.</summary>
public class WalkForwardJobTests
{
    private static readonly string Body = $$$"""
        {"name":"wf","baseConfig":{{{OptimizationFixtures.BaseConfig}}},
         "parameters":{"fastPeriod":{"values":[10,20]},"slowPeriod":{"values":[60,100]}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"},"seed":7,
         "validation":{"inSample":"18m","outOfSample":"6m","anchored":true}}
        """;

    private static WalkForwardJobPlan Plan(string body)
    {
        var (job, parseErrors) = WalkForwardJobRules.Parse(body);
        Assert.Empty(parseErrors);
        var (errors, plan) = WalkForwardJobRules.Validate(job!, OptimizationFixtures.Lean, StrategyCatalog.Templates, ValidationPolicy.Service,
            OptimizationFixtures.Today);
        Assert.Empty(errors);
        return plan!;
    }

    [Fact]
    public void Every_window_runs_the_job_over_its_in_sample_dates_and_the_chosen_trial_over_its_out_of_sample_dates()
    {
        var plan = Plan(Body);
        // 2016-01-01 + 18m = 2017-07-01, then every 6 months to the end of 2020: seven windows, all anchored at the start.
        Assert.Equal(7, plan.Windows.Count);
        var parameters = new Dictionary<string, JsonElement> { ["fastPeriod"] = OptimizationFixtures.Json("20"), ["slowPeriod"] = OptimizationFixtures.Json("60") };
        foreach (var window in plan.Windows)
        {
            var inSample = plan.InSampleJob(window);
            Assert.Equal(("2016-01-01", $"{window.InSampleEnd:yyyy-MM-dd}"), (inSample.BaseConfig.StartDate, inSample.BaseConfig.EndDate));
            Assert.Equal(plan.Plan.Config with { Name = inSample.Name, BaseConfig = plan.Plan.Config.BaseConfig with
                {
                    StartDate = inSample.BaseConfig.StartDate, EndDate = inSample.BaseConfig.EndDate,
                } }, inSample);
            Assert.Equal($"wf · window {window.Index} in sample", inSample.Name);

            var outOfSample = plan.OutOfSampleConfig(window, parameters);
            Assert.Equal(JsonSerializer.Serialize(plan.Plan.TrialConfig(parameters) with
            {
                StartDate = $"{window.OutOfSampleStart:yyyy-MM-dd}", EndDate = $"{window.OutOfSampleEnd:yyyy-MM-dd}",
            }, JsonDefaults.Options), JsonSerializer.Serialize(outOfSample, JsonDefaults.Options));
            Assert.Equal(20, outOfSample.StrategyConfig["fastPeriod"].GetInt32());
            Assert.Equal("SMA", outOfSample.StrategyConfig["maType"].GetString());
        }

        Assert.Equal("2020-07-01", $"{plan.Windows[^1].OutOfSampleStart:yyyy-MM-dd}");
        Assert.Equal("2020-12-31", $"{plan.Windows[^1].OutOfSampleEnd:yyyy-MM-dd}");
    }

    [Fact]
    public void A_span_longer_than_the_maximum_duration_and_a_window_too_short_for_its_job_are_refused_with_their_fields()
    {
        var (longJob, _) = WalkForwardJobRules.Parse(Body.Replace("\"startDate\":\"2016-01-01\"", "\"startDate\":\"2010-01-01\"", StringComparison.Ordinal));
        var (longErrors, longPlan) = WalkForwardJobRules.Validate(longJob!, OptimizationFixtures.Lean, StrategyCatalog.Templates, ValidationPolicy.Service,
            OptimizationFixtures.Today);
        Assert.Null(longPlan);
        Assert.Contains(longErrors, e => (e.Field, e.Rule) == ("baseConfig.endDate", "maxDuration"));

        // A one-day in-sample part starting on a Sunday holds no session: that window's job is named by its index.
        var (shortJob, _) = WalkForwardJobRules.Parse(Body.Replace("\"inSample\":\"18m\"", "\"inSample\":\"1d\"", StringComparison.Ordinal)
            .Replace("\"startDate\":\"2016-01-01\"", "\"startDate\":\"2016-01-03\"", StringComparison.Ordinal));
        var (shortErrors, shortPlan) = WalkForwardJobRules.Validate(shortJob!, OptimizationFixtures.Lean, StrategyCatalog.Templates, ValidationPolicy.Service,
            OptimizationFixtures.Today);
        Assert.Null(shortPlan);
        Assert.Contains(shortErrors, e => e.Field.StartsWith("validation.windows[0].baseConfig.", StringComparison.Ordinal));
    }

    private static OptimizationStatus Optimization(OptimizationState state, OptimizationBest? best) => new(Guid.NewGuid(), state, "alice",
        BacktestPriority.Normal, "n", "MovingAverageCross", "grid", DateTime.UtcNow, DateTime.UtcNow, null, null, state == OptimizationState.Failed ? "boom" : null,
        OptimizationProgress.None(4), best, OptimizationBatchCounts.None, [], "sharpeRatio", "maximize", "{}");

    [Fact]
    public void Every_state_of_a_windows_optimization_maps_to_one_step()
    {
        var best = new OptimizationBest(2, """{"fastPeriod":10}""", """{"annualizedReturn":0.1}""", 1.2);
        foreach (var state in Enum.GetValues<OptimizationState>())
        {
            foreach (var withBest in new[] { best, null })
            {
                var (step, reason) = WalkForwardWindowRule.AfterOptimization(3, Optimization(state, withBest));
                var expected = state switch
                {
                    OptimizationState.Completed => withBest is null ? WindowStep.NoFeasibleTrial : WindowStep.RunOutOfSample,
                    OptimizationState.Cancelled or OptimizationState.Failed => WindowStep.Fail,
                    _ => WindowStep.Wait,
                };
                Assert.Equal(expected, step);
                Assert.Equal(step == WindowStep.Fail, reason is not null);
                if (reason is not null)
                {
                    Assert.StartsWith("window 3: ", reason, StringComparison.Ordinal);
                    Assert.Contains(OptimizationLifecycle.Word(state), reason, StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public void Every_state_of_a_windows_out_of_sample_backtest_maps_to_one_step()
    {
        foreach (var state in Enum.GetValues<BacktestState>())
        {
            var status = new BacktestStatus(Guid.NewGuid(), state, "alice", BacktestPriority.Normal, "MovingAverageCross", DateTime.UtcNow, DateTime.UtcNow,
                null, null, null, null, [], [], false, null);
            var (step, reason) = WalkForwardWindowRule.AfterBacktest(1, status);
            var expected = state switch
            {
                BacktestState.Completed => WindowStep.Done,
                BacktestState.Cancelled or BacktestState.Failed or BacktestState.TimedOut => WindowStep.Fail,
                _ => WindowStep.Wait,
            };
            Assert.Equal(expected, step);
            Assert.Equal(step == WindowStep.Fail, reason is not null);
        }
    }

    [Theory]
    [InlineData("""{"annualizedReturn":0.125}""", 0.125)]
    [InlineData("""{"annualizedReturn":-0.5,"sharpeRatio":1}""", -0.5)]
    [InlineData("""{"annualizedReturn":null}""", null)]
    [InlineData("""{"annualizedReturn":"NaN"}""", null)]
    [InlineData("""{"sharpeRatio":1}""", null)]
    [InlineData(null, null)]
    public void The_in_sample_annualized_return_is_the_chosen_trials_metric_or_nothing(string? metrics, double? expected) =>
        Assert.Equal(expected, WalkForwardWindowRule.InSampleAnnualizedReturn(metrics));
}
