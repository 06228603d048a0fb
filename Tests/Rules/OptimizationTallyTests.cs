using Backtesting.Engine.Optimization;
using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Optimization;

namespace Backtesting.Tests.Rules;

/// <summary>The job's best so far and its progress, against a scan and arithmetic written here.</summary>
public class OptimizationTallyTests
{
    private static StoredTrial Trial(int n, double? objective, bool feasible = true) =>
        new(n, $"{{\"p\":{n}}}", "{}", 3, feasible, feasible ? null : "constraint: x", objective, "hash");

    /// <summary>Ties, an infeasible trial holding the best value, an undefined objective, negative values.</summary>
    private static readonly StoredTrial[] Trials =
    [
        Trial(0, 0.5), Trial(1, 1.25), Trial(2, 9.0, feasible: false), Trial(3, null), Trial(4, 1.25), Trial(5, -2.0), Trial(6, -2.0), Trial(7, 0.0),
    ];

    private static int? Scan(IEnumerable<StoredTrial> trials, bool maximize)
    {
        StoredTrial? best = null;
        foreach (var t in trials.Where(t => t.Feasible && t.Objective is not null).OrderBy(t => t.Trial))
        {
            if (best is null || (maximize ? t.Objective > best.Objective : t.Objective < best.Objective))
            {
                best = t;
            }
        }

        return best?.Trial;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_best_is_the_scans_whatever_order_and_batching_the_trials_arrive_in(bool maximize)
    {
        var rules = new TrialRules(new Objective("sharpeRatio", maximize), []);
        var expected = Scan(Trials, maximize);
        Assert.Equal(maximize ? 1 : 5, expected);
        var random = new Random(11);
        for (var round = 0; round < 200; round++)
        {
            var order = Trials.OrderBy(_ => random.Next()).ToList();
            OptimizationBest? best = null;
            var i = 0;
            while (i < order.Count)
            {
                var size = random.Next(1, 4);
                best = OptimizationTally.Best(rules, best, order.Skip(i).Take(size));
                i += size;
            }

            Assert.Equal(expected, best?.Trial);
            Assert.Equal(Trials.Single(t => t.Trial == expected).Objective, best!.Objective);
            Assert.Equal($"{{\"p\":{expected}}}", best.ParametersJson);
        }
    }

    [Fact]
    public void No_feasible_trial_with_an_objective_means_no_best()
    {
        var rules = new TrialRules(new Objective("sharpeRatio", true), []);
        Assert.Null(OptimizationTally.Best(rules, null, [Trial(0, null), Trial(1, 3.0, feasible: false)]));
        Assert.Null(OptimizationTally.Best(rules, null, []));
    }

    [Theory]
    [InlineData(0, 100, 10.0, false, 0.0, null)]
    [InlineData(10, 100, 0.0, false, 0.0, null)]
    [InlineData(25, 100, 10.0, false, 2.5, 30.0)]
    [InlineData(100, 100, 8.0, false, 12.5, 0.0)]
    [InlineData(30, 100, 7.0, false, 4.29, 16.3)]
    [InlineData(25, 100, 10.0, true, 2.5, null)]
    public void Progress_is_trials_per_running_second_and_the_rest_at_that_rate(int completed, int planned, double seconds, bool terminal,
        double rate, double? remaining)
    {
        var progress = OptimizationTally.Progress(completed, planned, completed / 2, TimeSpan.FromSeconds(seconds), terminal);
        Assert.Equal(new OptimizationProgress(completed, planned, completed / 2, rate, remaining), progress);
    }
}
