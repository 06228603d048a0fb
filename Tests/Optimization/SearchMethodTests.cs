using System.Text.Json;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// The methods against a synthetic objective (no backtest runs): grid order and count, determinism per seed, difference
/// across seeds, no repeated proposal in a discrete space, and TPE beating random search on average.
/// </summary>
public class SearchMethodTests
{
    /// <summary>A smooth objective over MovingAverageCross's periods with its optimum at (fast 37, slow 211).</summary>
    private static double Bowl(IReadOnlyDictionary<string, JsonElement> p)
    {
        var fast = p["fastPeriod"].GetDouble();
        var slow = p["slowPeriod"].GetDouble();
        return -(Math.Pow((fast - 37) / 100.0, 2) + Math.Pow((slow - 211) / 200.0, 2));
    }

    private static IReadOnlyList<TrialOutcome> Synthetic(OptimizationPlan plan, IReadOnlyList<TrialPoint> batch) =>
        batch.Select(point =>
        {
            var metrics = new PerformanceMetrics { SharpeRatio = Bowl(point.Parameters) };
            var (feasible, reason, objective) = plan.Rules.Evaluate(metrics);
            return new TrialOutcome
            {
                Trial = point.Trial, Parameters = point.Parameters, Metrics = metrics, Feasible = feasible,
                InfeasibleReason = reason, ObjectiveValue = objective,
            };
        }).ToList();

    private static OptimizationPlan Wide(string method, int maxTrials, long seed) => Plan(Job(GridJob,
        ("parameters", """{"fastPeriod":{"min":1,"max":100},"slowPeriod":{"min":101,"max":300}}"""),
        ("method", $"\"{method}\""), ("maxTrials", maxTrials.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    private static OptimizationSummary Search(OptimizationPlan plan, int batchSize = 8) =>
        OptimizationLoop.Run(plan, batch => Synthetic(plan, batch), batchSize);

    private static string Trials(OptimizationSummary summary) =>
        string.Join("\n", summary.Trials.Select(t => $"{t.Trial}:{JsonSerializer.Serialize(t.Parameters)}"));

    [Fact]
    public void Grid_runs_every_point_once_first_dimension_slowest()
    {
        var plan = Plan(Job(GridJob));
        var summary = Search(plan);
        Assert.Equal(80, summary.Trials.Count);
        var expected = (from fast in Enumerable.Range(1, 10).Select(i => i * 5)
                        from slow in Enumerable.Range(0, 8).Select(i => 60 + i * 20)
                        select (fast, slow)).ToList();
        Assert.Equal(expected, summary.Trials.Select(t => (t.Parameters["fastPeriod"].GetInt32(), t.Parameters["slowPeriod"].GetInt32())));
        Assert.Equal(Enumerable.Range(0, 80), summary.Trials.Select(t => t.Trial));
    }

    [Fact]
    public void Grid_of_lists_and_fixed_values_keeps_the_listed_order()
    {
        var plan = Plan(Job(GridJob, ("parameters", """{"fastPeriod":{"values":[20,5]},"slowPeriod":100,"maType":{"values":["EMA","SMA"]}}""")));
        Assert.Equal(4, plan.PlannedTrials);
        var trials = Search(plan).Trials.Select(t => $"{t.Parameters["fastPeriod"]}/{t.Parameters["slowPeriod"]}/{t.Parameters["maType"]}");
        Assert.Equal(["20/100/EMA", "20/100/SMA", "5/100/EMA", "5/100/SMA"], trials);
    }

    [Fact]
    public void A_grid_of_number_steps_holds_both_ends()
    {
        var space = new SearchSpace([new RangeDimension("x", false, 0.5, 3, 0.25, false)]);
        Assert.Equal(11, space.GridSize);
        Assert.Equal(3.0, space.GridPoint(10)["x"].GetDouble());
    }

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    public void The_same_seed_gives_the_same_trials_and_best(string method)
    {
        var first = Search(Wide(method, 60, 42));
        var second = Search(Wide(method, 60, 42));
        Assert.Equal(Trials(first), Trials(second));
        Assert.Equal(first.Best!.Trial, second.Best!.Trial);
    }

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    public void Another_seed_gives_other_trials(string method) =>
        Assert.NotEqual(Trials(Search(Wide(method, 30, 1))), Trials(Search(Wide(method, 30, 2))));

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    public void A_trial_is_the_same_whatever_the_batch_size_while_the_history_is_the_same(string method)
    {
        // Random draws depend on the seed and the trial number only; TPE's first (startup) trials likewise.
        var plan = Wide(method, 10, 5);
        Assert.Equal(Trials(Search(plan, batchSize: 1)), Trials(Search(plan, batchSize: 10)));
    }

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    public void No_point_is_proposed_twice_even_when_the_budget_is_the_whole_space(string method)
    {
        var plan = Plan(Job(GridJob, ("parameters", """{"fastPeriod":{"min":1,"max":6},"slowPeriod":{"values":[100,200]},"maType":{"values":["SMA","EMA"]}}"""),
            ("method", $"\"{method}\""), ("maxTrials", "1000")));
        Assert.Equal(24, plan.PlannedTrials);
        var summary = Search(plan, batchSize: 5);
        Assert.Equal(24, summary.Trials.Count);
        Assert.Equal(24, summary.Trials.Select(t => plan.Space.Key(t.Parameters)).Distinct().Count());
    }

    [Fact]
    public void Random_draws_cover_the_range_uniformly_enough()
    {
        var summary = Search(Wide("random", 400, 9));
        var fast = summary.Trials.Select(t => t.Parameters["fastPeriod"].GetInt32()).ToList();
        Assert.All(fast, f => Assert.InRange(f, 1, 100));
        // Each quarter of the range gets a fair share (expected 100 of 400; the bound is many standard deviations wide).
        foreach (var quarter in Enumerable.Range(0, 4))
        {
            Assert.InRange(fast.Count(f => (f - 1) / 25 == quarter), 60, 140);
        }
    }

    [Fact]
    public void Log_ranges_are_drawn_in_log_space_within_bounds()
    {
        var space = new SearchSpace([new RangeDimension("x", false, 0.01, 100, null, true)]);
        var random = new SplitMix64(3);
        var values = Enumerable.Range(0, 2000).Select(_ => space.Sample(ref random)["x"].GetDouble()).ToList();
        Assert.All(values, v => Assert.InRange(v, 0.01, 100));
        // Uniform in log: about half below the geometric middle, 1.
        Assert.InRange(values.Count(v => v < 1), 850, 1150);
    }

    [Fact]
    public void Tpe_finds_the_optimum_better_than_random_on_average_over_seeds()
    {
        double Regret(string method, long seed) => -Search(Wide(method, 80, seed)).Best!.ObjectiveValue!.Value;
        var seeds = Enumerable.Range(1, 12).Select(s => (long)s).ToList();
        var tpe = seeds.Average(s => Regret("tpe", s));
        var random = seeds.Average(s => Regret("random", s));
        Assert.True(tpe < random, $"mean regret: tpe {tpe}, random {random}");
    }

    [Fact]
    public void SplitMix64_follows_its_published_sequence()
    {
        // The first outputs for seed 1234567, as in the reference implementation's test vectors.
        var random = new SplitMix64(1234567);
        Assert.Equal(6457827717110365317UL, random.Next());
        Assert.Equal(3203168211198807973UL, random.Next());
    }
}
