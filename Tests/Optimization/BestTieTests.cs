using System.Text.Json;
using Backtesting.Engine.Optimization;
using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Optimization;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// Ties for the best trial: between equal objective values the lowest trial number wins, in the engine's rule and in the
/// job's running tally, whatever order the batches report in and from whatever best a resumed job had kept.
/// </summary>
public sealed class BestTieTests
{
    /// <summary>
    /// Twelve trials in four batches of three: ties at the top (trials 5, 2, 10 and 7 share the best value, 0.0 and -0.0
    /// among them), an infeasible trial and one without an objective that would win on their number, and a worse value.
    /// </summary>
    private static readonly (int Trial, bool Feasible, double? Value)[] Trials =
    [
        (0, false, 9), (1, true, null), (2, true, 0.0),
        (3, true, -1), (4, true, -2), (5, true, -0.0),
        (6, true, -3), (7, true, 0.0), (8, false, 5),
        (9, true, -1), (10, true, 0.0), (11, true, -4),
    ];

    /// <summary>The rows of each direction whose values tie at the top: maximizing 0 (trials 2, 5, 7, 10); minimizing -4 alone, so it is made a tie too.</summary>
    private static (int Trial, bool Feasible, double? Value)[] For(bool maximize) => maximize
        ? Trials
        : [.. Trials.Select(t => t.Trial is 9 or 3 ? t with { Value = -4 } : t)];

    /// <summary>The lowest trial number among the feasible trials with the best value, computed by scanning.</summary>
    private static int Expected(IEnumerable<(int Trial, bool Feasible, double? Value)> trials, bool maximize)
    {
        var ranked = trials.Where(t => t.Feasible && t.Value is not null).ToList();
        var best = maximize ? ranked.Max(t => t.Value!.Value) : ranked.Min(t => t.Value!.Value);
        return ranked.Where(t => t.Value!.Value == best).Min(t => t.Trial);
    }

    private static IEnumerable<IReadOnlyList<T>> Permutations<T>(IReadOnlyList<T> items)
    {
        if (items.Count <= 1)
        {
            yield return items;
            yield break;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var rest = items.Where((_, j) => j != i).ToList();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }

    private static TrialRules Rules(bool maximize) => new(new Objective("sharpeRatio", maximize), []);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_engines_best_is_the_lowest_tied_trial_in_every_finishing_order(bool maximize)
    {
        var trials = For(maximize);
        var expected = Expected(trials, maximize);
        var outcomes = trials.Select(t => new TrialOutcome
        {
            Trial = t.Trial, Parameters = new Dictionary<string, JsonElement>(), Feasible = t.Feasible, ObjectiveValue = t.Value,
        }).ToList();
        // Every order of the four batches, each batch in either order inside.
        var batches = outcomes.Chunk(3).ToList();
        foreach (var order in Permutations(batches))
        {
            foreach (var reversed in new[] { false, true })
            {
                var finished = order.SelectMany(b => reversed ? Enumerable.Reverse(b) : b).ToList();
                Assert.Equal(expected, Rules(maximize).Best(finished)!.Trial);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_jobs_tally_keeps_the_lowest_tied_trial_whatever_order_the_batches_report_in_and_across_a_resume(bool maximize)
    {
        var trials = For(maximize);
        var stored = trials.Select(t => new StoredTrial(t.Trial, $$"""{"n":{{t.Trial}}}""", "{}", 1, t.Feasible, t.Feasible ? null : "constraint", t.Value, null)).ToList();
        var batches = stored.Chunk(3).ToList();
        foreach (var order in Permutations(batches))
        {
            // Reported one batch at a time: after each report the best so far is the lowest tied trial of what was reported.
            OptimizationBest? best = null;
            var seen = new List<(int Trial, bool Feasible, double? Value)>();
            foreach (var batch in order)
            {
                best = OptimizationTally.Best(Rules(maximize), best, batch);
                seen.AddRange(batch.Select(t => (t.Trial, t.Feasible, Value: t.Objective)));
                if (seen.Any(t => t.Feasible && t.Value is not null))
                {
                    Assert.Equal(Expected(seen, maximize), best!.Trial);
                    Assert.Equal($$"""{"n":{{best.Trial}}}""", best.ParametersJson);
                }
                else
                {
                    Assert.Null(best);
                }
            }

            Assert.Equal(Expected(trials, maximize), best!.Trial);

            // A resume: the job kept the best of the batches before its pause (or its silo's death), then the rest report;
            // a kept best with a higher number than an equal later trial gives way to it, never the other way round.
            for (var split = 1; split < order.Count; split++)
            {
                var kept = order.Take(split).Aggregate((OptimizationBest?)null, (b, batch) => OptimizationTally.Best(Rules(maximize), b, batch));
                var resumed = order.Skip(split).Aggregate(kept, (b, batch) => OptimizationTally.Best(Rules(maximize), b, batch));
                Assert.Equal(Expected(trials, maximize), resumed!.Trial);
            }
        }
    }

    [Fact]
    public void A_trial_reported_again_does_not_move_a_tied_best()
    {
        var rules = Rules(maximize: true);
        var two = new StoredTrial(2, "{}", "{}", 1, true, null, 1.0, null);
        var seven = new StoredTrial(7, "{}", "{}", 1, true, null, 1.0, null);
        var best = OptimizationTally.Best(rules, null, [seven, two, seven]);
        Assert.Equal(2, best!.Trial);
        Assert.Equal(2, OptimizationTally.Best(rules, best, [seven])!.Trial);
        Assert.Equal(2, OptimizationTally.Best(rules, OptimizationTally.Best(rules, null, [seven]), [two])!.Trial);
    }
}
