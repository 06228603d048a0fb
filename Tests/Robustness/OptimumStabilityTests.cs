using System.Text.Json;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;

namespace Backtesting.Tests.Robustness;

/// <summary>
/// Stability of the optimum on small hand-built grids: a peak next to a plateau, the grid's edges, ties, infeasible and
/// missing neighbours, minimizing, two parameters, and the grid read from a job's parameters (lists, steps, integers,
/// fixed values, continuous ranges).
/// </summary>
public class OptimumStabilityTests
{
    private static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static StabilityAxis Axis(string name, int count) =>
        new(name, Enumerable.Range(0, count).Select(i => J((10 * (i + 1)).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList());

    private static TrialOutcome Trial(int number, Dictionary<string, JsonElement> parameters, bool feasible, double? objective) =>
        new() { Trial = number, Parameters = parameters, Feasible = feasible, ObjectiveValue = objective };

    private static readonly Objective Max = new("sharpeRatio", true);
    private static readonly Objective Min = new("maxDrawdown", false);

    /// <summary>One trial per value of a one-parameter grid; NaN marks an infeasible trial, null a point never run.</summary>
    private static List<TrialOutcome> Line(params double?[] objectives)
    {
        var trials = new List<TrialOutcome>();
        for (var i = 0; i < objectives.Length; i++)
        {
            if (objectives[i] is not { } o)
            {
                continue;
            }

            var feasible = !double.IsNaN(o);
            trials.Add(Trial(i + 1, new Dictionary<string, JsonElement> { ["p"] = J($"{10 * (i + 1)}") }, feasible,
                feasible ? o : null));
        }

        return trials;
    }

    [Fact]
    public void A_peak_in_the_middle_lists_its_four_neighbours_and_its_plateau()
    {
        var result = OptimumStability.Compute([Axis("p", 5)], Line(1, 3, 5, 3, 1), Max)!;
        Assert.Equal(3, result.BestTrial);
        Assert.Equal(5, result.BestObjective);
        Assert.Equal(
            [(-2, 1, 1.0), (-1, 2, 3.0), (1, 4, 3.0), (2, 5, 1.0)],
            result.Neighbours.Select(n => (n.Offset, n.TrialNumber!.Value, n.Objective!.Value)));
        Assert.All(result.Neighbours, n => Assert.Equal(NeighbourState.Present, n.State));
        Assert.Equal(new Plateau(3, 11 / 3.0, 3, 3, 0, 0), result.BestPlateau);
        // The peak's plateau (worst 3) beats every other (worst 1).
        Assert.Equal(3, result.MostStable!.TrialNumber);
    }

    [Fact]
    public void A_sharp_peak_loses_the_most_stable_region_to_a_plateau()
    {
        var result = OptimumStability.Compute([Axis("p", 7)], Line(0, 10, 0, 6, 6, 6, 0), Max)!;
        Assert.Equal(2, result.BestTrial);
        Assert.Equal(0, result.BestPlateau.Worst);
        Assert.Equal(new Plateau(5, 6, 6, 3, 0, 0), result.MostStable);
    }

    [Fact]
    public void At_the_edge_of_the_grid_only_the_neighbours_inside_it_are_listed()
    {
        var result = OptimumStability.Compute([Axis("p", 4)], Line(9, 5, 4, 1), Max)!;
        Assert.Equal(1, result.BestTrial);
        Assert.Equal([1, 2], result.Neighbours.Select(n => n.Offset));
        Assert.Equal(new Plateau(1, 7, 5, 2, 0, 0), result.BestPlateau);
    }

    [Fact]
    public void Ties_go_to_the_lowest_trial_number()
    {
        var result = OptimumStability.Compute([Axis("p", 6)], Line(4, 4, 4, 1, 4, 4), Max)!;
        Assert.Equal(1, result.BestTrial);
        // Trials 1 and 2 both have worst 4 and mean 4 over their plateau; trial 1 wins the tie.
        Assert.Equal(1, result.MostStable!.TrialNumber);
    }

    [Fact]
    public void The_mean_breaks_a_tie_on_the_worst()
    {
        // Every plateau's worst is 1; the means are 3 ({1, 5}), 7/3, 8/3, 4/3 and 3/2: trial 1's is the best.
        var result = OptimumStability.Compute([Axis("p", 5)], Line(1, 5, 1, 2, 1), Max)!;
        Assert.Equal(1, result.MostStable!.TrialNumber);
        Assert.Equal(3, result.MostStable.Mean);
    }

    [Fact]
    public void An_infeasible_neighbour_is_reported_and_disqualifies_its_region_and_a_missing_one_is_counted()
    {
        var result = OptimumStability.Compute([Axis("p", 6)], Line(double.NaN, 9, 8, null, 5, 5), Max)!;
        Assert.Equal(2, result.BestTrial);
        Assert.Equal(
            [(-1, NeighbourState.Infeasible, (int?)1), (1, NeighbourState.Present, 3), (2, NeighbourState.Missing, null)],
            result.Neighbours.Select(n => (n.Offset, n.State, n.TrialNumber)));
        Assert.Equal(new Plateau(2, 8.5, 8, 2, 0, 1), result.BestPlateau);
        // Trial 2 has an infeasible neighbour; trial 3 a missing one (plateau {9, 8}: worst 8); trial 5 {5, 5}: worst 5.
        Assert.Equal(new Plateau(3, 8.5, 8, 2, 1, 0), result.MostStable);
    }

    [Fact]
    public void A_trial_with_no_present_neighbour_is_no_region()
    {
        // A random job: three isolated points on a ten-value axis.
        var result = OptimumStability.Compute([Axis("p", 10)], Line(1, null, null, 7, null, null, null, null, 3, null), Max)!;
        Assert.Equal(4, result.BestTrial);
        Assert.All(result.Neighbours, n => Assert.Equal(NeighbourState.Missing, n.State));
        Assert.Equal(new Plateau(4, 7, 7, 1, 2, 0), result.BestPlateau);
        Assert.Null(result.MostStable);
    }

    [Fact]
    public void Minimizing_takes_the_lowest_objective_and_the_highest_as_the_worst()
    {
        var result = OptimumStability.Compute([Axis("p", 5)], Line(0.3, 0.2, 0.1, 0.4, 0.9), Min)!;
        Assert.Equal(3, result.BestTrial);
        Assert.Equal(0.4, result.BestPlateau.Worst);
        Assert.Equal((0.2 + 0.1 + 0.4) / 3, result.BestPlateau.Mean, 15);
        // Plateaus' worst: trial 1 0.3, trial 2 0.3, trial 3 0.4, trial 4 0.9, trial 5 0.9: of trials 1 and 2, trial 2 by its lower mean (0.2 against 0.25).
        Assert.Equal(2, result.MostStable!.TrialNumber);
    }

    [Fact]
    public void On_a_two_parameter_grid_neighbours_move_along_one_parameter_at_a_time()
    {
        StabilityAxis[] axes = [Axis("a", 3), Axis("b", 3)];
        var objective = new double[,] { { 1, 2, 1 }, { 2, 9, 2 }, { 1, 2, 1 } };
        var trials = new List<TrialOutcome>();
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                trials.Add(Trial(i * 3 + j + 1,
                    new Dictionary<string, JsonElement> { ["a"] = axes[0].Values[i], ["b"] = axes[1].Values[j] }, true, objective[i, j]));
            }
        }

        var result = OptimumStability.Compute(axes, trials, Max)!;
        Assert.Equal(5, result.BestTrial);
        Assert.Equal([("a", -1, 2), ("a", 1, 8), ("b", -1, 4), ("b", 1, 6)],
            result.Neighbours.Select(n => (n.Parameter, n.Offset, n.TrialNumber!.Value)));
        Assert.Equal(new Plateau(5, (9 + 2 * 4) / 5.0, 2, 5, 0, 0), result.BestPlateau); // diagonals are not neighbours
    }

    [Fact]
    public void Trials_off_the_grid_are_counted_and_no_feasible_trial_gives_no_result()
    {
        var trials = Line(1, 2);
        trials.Add(Trial(9, new Dictionary<string, JsonElement> { ["p"] = J("15") }, true, 0));
        trials.Add(Trial(10, new Dictionary<string, JsonElement>(), true, 0));
        var result = OptimumStability.Compute([Axis("p", 2)], trials, Max)!;
        Assert.Equal(2, result.BestTrial);
        Assert.Equal(2, result.TrialsOffGrid);
        // The job's best off the grid (a continuous value): no stability to speak of.
        trials.Add(Trial(11, new Dictionary<string, JsonElement> { ["p"] = J("12.5") }, true, 100));
        Assert.Null(OptimumStability.Compute([Axis("p", 2)], trials, Max));
        Assert.Null(OptimumStability.Compute([Axis("p", 3)], Line(double.NaN, null, double.NaN), Max));
        Assert.Null(OptimumStability.Compute([Axis("p", 3)], [], Max));
    }

    [Fact]
    public void The_grid_is_read_from_the_jobs_parameters()
    {
        var parameters = new Dictionary<string, JsonElement>
        {
            ["fast"] = J("""{"min":5,"max":20,"step":5}"""),
            ["slow"] = J("""{"min":1,"max":3}"""),
            ["kind"] = J("""{"values":["ema","sma"]}"""),
            ["width"] = J("""{"min":0.5,"max":1.0,"step":0.25}"""),
            ["fixed"] = J("12"),
        };
        var axes = OptimumStability.Axes(parameters)!;
        Assert.Equal(["fast", "kind", "slow", "width"], axes.Select(a => a.Name));
        Assert.Equal(["5", "10", "15", "20"], axes[0].Values.Select(v => v.GetRawText()));
        Assert.Equal(["\"ema\"", "\"sma\""], axes[1].Values.Select(v => v.GetRawText()));
        Assert.Equal(["1", "2", "3"], axes[2].Values.Select(v => v.GetRawText()));
        Assert.Equal([0.5, 0.75, 1.0], axes[3].Values.Select(v => v.GetDouble()));
    }

    [Theory]
    [InlineData("""{"min":0.5,"max":3}""")]
    [InlineData("""{"min":1,"max":100,"log":true}""")]
    [InlineData("""{"min":"a","max":3}""")]
    public void A_continuous_parameter_has_no_grid(string range)
    {
        Assert.Null(OptimumStability.Axes(new Dictionary<string, JsonElement> { ["x"] = J(range) }));
    }

    [Fact]
    public void A_value_a_step_away_matches_its_grid_point_despite_binary_rounding()
    {
        var axes = OptimumStability.Axes(new Dictionary<string, JsonElement> { ["w"] = J("""{"min":0.1,"max":0.3,"step":0.1}""") })!;
        var trials = new[] { 0.1, 0.1 + 0.1, 0.1 + 0.1 + 0.1 }
            .Select((v, i) => Trial(i + 1, new Dictionary<string, JsonElement> { ["w"] = JsonSerializer.SerializeToElement(v) }, true, i))
            .ToList();
        var result = OptimumStability.Compute(axes, trials, Max)!;
        Assert.Equal(0, result.TrialsOffGrid);
        Assert.Equal(3, result.BestTrial);
    }
}
