using System.Text.Json;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>Infeasible trials, each constraint operator at its boundary, the best's tie-break and the target's early stop.</summary>
public class FeasibilityTests
{
    private static TrialOutcome Outcome(TrialRules rules, int trial, PerformanceMetrics metrics)
    {
        var (feasible, reason, objective) = rules.Evaluate(metrics);
        return new TrialOutcome
        {
            Trial = trial, Parameters = new Dictionary<string, JsonElement>(), Metrics = metrics, Feasible = feasible,
            InfeasibleReason = reason, ObjectiveValue = objective,
        };
    }

    private static OptimizationSummary RunReal(OptimizationPlan plan)
    {
        var runner = new TrialRunner(plan, new PreloadedMarketData(Lean), StrategyCatalog.Templates);
        return OptimizationLoop.Run(plan, batch => batch.Select(p => runner.Run(p)).ToList(), batchSize: 4);
    }

    private static readonly string ShortBase = BaseConfig.Replace("2016-01-01", "2019-01-01");

    [Theory]
    [InlineData(">=", 10, 10, true)]
    [InlineData(">=", 9.999, 10, false)]
    [InlineData("<=", 10, 10, true)]
    [InlineData("<=", 10.001, 10, false)]
    [InlineData(">", 10, 10, false)]
    [InlineData(">", 10.001, 10, true)]
    [InlineData("<", 10, 10, false)]
    [InlineData("<", 9.999, 10, true)]
    public void Each_operator_at_its_boundary(string op, double value, double bound, bool holds)
    {
        var constraint = new Constraint("expectancy", Constraint.ParseOp(op)!.Value, bound);
        Assert.Equal(holds, constraint.Holds(value));
        var rules = new TrialRules(new Objective("sharpeRatio", true), [constraint]);
        var outcome = Outcome(rules, 0, new PerformanceMetrics { Expectancy = value, SharpeRatio = 1 });
        Assert.Equal(holds, outcome.Feasible);
        Assert.Equal(holds, outcome.InfeasibleReason is null);
    }

    [Theory]
    [InlineData(">=")]
    [InlineData("<=")]
    [InlineData(">")]
    [InlineData("<")]
    public void An_undefined_metric_keeps_no_constraint(string op) =>
        Assert.False(new Constraint("profitFactor", Constraint.ParseOp(op)!.Value, 0).Holds(null));

    [Fact]
    public void The_reason_names_every_broken_constraint_and_its_value()
    {
        var rules = new TrialRules(new Objective("sharpeRatio", true),
            [new Constraint("maxDrawdown", ConstraintOp.AtLeast, -0.2), new Constraint("totalTrades", ConstraintOp.AtLeast, 20)]);
        var outcome = Outcome(rules, 0, new PerformanceMetrics { MaxDrawdown = -0.31, TotalTrades = 4, SharpeRatio = 2 });
        Assert.False(outcome.Feasible);
        Assert.Equal("constraint: maxDrawdown -0.31 breaks >= -0.2; totalTrades 4 breaks >= 20", outcome.InfeasibleReason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_best_is_the_best_feasible_objective_and_ties_go_to_the_lowest_trial(bool maximize)
    {
        var rules = new TrialRules(new Objective("sharpeRatio", maximize), [new Constraint("totalTrades", ConstraintOp.AtLeast, 1)]);
        var good = maximize ? 2.0 : -2.0;
        var trials = new[]
        {
            Outcome(rules, 5, new PerformanceMetrics { SharpeRatio = good, TotalTrades = 3 }),
            Outcome(rules, 3, new PerformanceMetrics { SharpeRatio = good * 10, TotalTrades = 0 }), // better but infeasible
            Outcome(rules, 1, new PerformanceMetrics { SharpeRatio = good, TotalTrades = 3 }),
            Outcome(rules, 0, new PerformanceMetrics { SharpeRatio = null, TotalTrades = 3 }), // undefined objective: not ranked
            Outcome(rules, 2, new PerformanceMetrics { SharpeRatio = 0.5 * good, TotalTrades = 3 }),
        };
        Assert.Equal(1, rules.Best(trials)!.Trial);
        Assert.Equal(1, rules.Best(trials.Reverse())!.Trial);
    }

    [Fact]
    public void No_best_when_no_trial_is_feasible()
    {
        var rules = new TrialRules(new Objective("sharpeRatio", true), [new Constraint("totalTrades", ConstraintOp.AtLeast, 100)]);
        Assert.Null(rules.Best([Outcome(rules, 0, new PerformanceMetrics { SharpeRatio = 1, TotalTrades = 2 })]));
    }

    [Theory]
    [InlineData("maximize", -0.05)]
    [InlineData("minimize", -0.5)]
    public void A_reached_target_stops_the_job_after_its_batch(string direction, double target)
    {
        // Trials in grid order score -fast/100 (maximize) or the same minimized; the target is reached at a known trial.
        var plan = Plan(Job(GridJob, ("objective", $$"""{"metric":"sharpeRatio","direction":"{{direction}}"}"""),
            ("target", target.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("parameters", """{"fastPeriod":{"values":[50,40,30,20,10,5]},"slowPeriod":100}""")));
        var summary = OptimizationLoop.Run(plan, batch => batch.Select(p =>
            Outcome(plan.Rules, p.Trial, new PerformanceMetrics { SharpeRatio = -p.Parameters["fastPeriod"].GetDouble() / 100 })).ToList(), batchSize: 2);
        Assert.True(summary.TargetReached);
        Assert.True(plan.Rules.Objective.Reached(summary.Best!.ObjectiveValue!.Value, target));
        // Maximizing, -0.05 is first reached by trial 5 (fast 5): every batch runs. Minimizing, -0.5 by trial 0: one batch.
        Assert.Equal(direction == "maximize" ? 6 : 2, summary.Trials.Count);
    }

    [Fact]
    public void Without_a_target_every_planned_trial_runs()
    {
        var plan = Plan(Job(GridJob, ("parameters", """{"fastPeriod":{"values":[50,40,30,20,10,5]},"slowPeriod":100}""")));
        var summary = OptimizationLoop.Run(plan, batch => batch.Select(p =>
            Outcome(plan.Rules, p.Trial, new PerformanceMetrics { SharpeRatio = 1 })).ToList(), batchSize: 4);
        Assert.False(summary.TargetReached);
        Assert.Equal(6, summary.Trials.Count);
        Assert.Equal(0, summary.Best!.Trial);
    }

    [Fact]
    public void A_trial_breaking_the_strategy_rule_is_infeasible_and_does_not_run_while_the_others_do()
    {
        var job = Job(GridJob, ("baseConfig", ShortBase), ("parameters", """{"fastPeriod":{"values":[10,40]},"slowPeriod":{"values":[20,40,50]}}"""));
        var summary = RunReal(Plan(job));
        Assert.Equal(6, summary.Trials.Count);
        foreach (var trial in summary.Trials)
        {
            var breaks = trial.Parameters["fastPeriod"].GetInt32() >= trial.Parameters["slowPeriod"].GetInt32();
            Assert.Equal(!breaks, trial.Feasible);
            if (breaks)
            {
                Assert.Null(trial.Metrics);
                Assert.Contains("must be less than slowPeriod", trial.InfeasibleReason);
                Assert.StartsWith("strategy rule: ", trial.InfeasibleReason);
            }
            else
            {
                Assert.NotNull(trial.Metrics);
                Assert.NotEmpty(trial.DailyReturns);
            }
        }

        Assert.True(summary.Best!.Feasible);
    }

    [Fact]
    public void A_short_side_on_a_cash_account_is_an_infeasible_trial_not_an_invalid_job()
    {
        var job = Job(GridJob, ("baseConfig", ShortBase), ("parameters", """{"fastPeriod":10,"slowPeriod":30,"allowShort":{"values":[false,true]}}"""));
        var trials = RunReal(Plan(job)).Trials;
        Assert.True(trials[0].Feasible);
        Assert.False(trials[1].Feasible);
        Assert.Contains("allowShort needs accountType margin", trials[1].InfeasibleReason);
    }

    [Fact]
    public void A_constraint_on_real_metrics_marks_the_trials_that_break_it_and_equality_keeps_it()
    {
        var job = Job(GridJob, ("baseConfig", ShortBase), ("parameters", """{"fastPeriod":{"values":[2,5,10,20]},"slowPeriod":60}"""));
        var counts = RunReal(Plan(job)).Trials.Select(t => t.TradeCount).ToList();
        Assert.True(counts.Distinct().Count() > 1, "the fast periods should trade differently often");
        var bound = counts.Max();
        var constrained = job with { Constraints = [new ConstraintSettings { Metric = "totalTrades", Op = ">=", Value = bound }] };
        var trials = RunReal(Plan(constrained)).Trials;
        Assert.All(trials, t => Assert.Equal(t.Metrics!.TotalTrades >= bound, t.Feasible));
        Assert.Contains(trials, t => t.Feasible && t.TradeCount == bound);
        Assert.Contains(trials, t => !t.Feasible);
        Assert.All(trials, t => Assert.Equal(t.TradeCount, t.Metrics!.TotalTrades));
    }
}
