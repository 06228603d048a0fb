using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Optimization;

namespace Backtesting.Engine.Robustness;

/// <summary>One searched parameter's grid: its values in grid order (ascending for a range, as listed for a list).</summary>
public sealed record StabilityAxis(string Name, IReadOnlyList<JsonElement> Values);

/// <summary>What is at a neighbouring grid point.</summary>
public enum NeighbourState
{
    /// <summary>A feasible trial with an objective ran there.</summary>
    Present,

    /// <summary>No trial ran there (a random or capped job, or a job still running).</summary>
    Missing,

    /// <summary>A trial ran there but was infeasible or its objective undefined.</summary>
    Infeasible,
}

/// <summary>The grid point <see cref="Offset"/> steps away from a trial along one parameter, the others held.</summary>
public sealed record Neighbour(string Parameter, int Offset, JsonElement Value, NeighbourState State, int? TrialNumber, double? Objective);

/// <summary>
/// The objective over a trial's ±1 neighbourhood (the trial and its neighbours one step away along each parameter that
/// are present): the mean, and the worst (the lowest when maximizing, the highest when minimizing).
/// </summary>
public sealed record Plateau(int TrialNumber, double Mean, double Worst, int Present, int Missing, int Infeasible);

/// <summary>The stability of a job's optimum; see <see cref="OptimumStability"/>.</summary>
/// <param name="BestTrial">The job's best trial (<see cref="TrialRules.Best"/>).</param>
/// <param name="Neighbours">Its neighbours at −2, −1, +1, +2 steps along each parameter with more than one value, inside the grid.</param>
/// <param name="BestPlateau">Its ±1 plateau.</param>
/// <param name="MostStable">The plateau of the most stable region's centre; null when no trial qualifies.</param>
/// <param name="TrialsOffGrid">Trials whose values are not on the grid (not used).</param>
public sealed record StabilityResult(
    int BestTrial, double BestObjective, IReadOnlyList<Neighbour> Neighbours, Plateau BestPlateau, Plateau? MostStable, int TrialsOffGrid);

/// <summary>
/// How stable a job's optimum is on its grid of parameter values.
/// <list type="bullet">
/// <item>A trial's neighbours are the grid points one and two steps away along one parameter, every other parameter held
/// (no diagonals); points past the grid's edge do not exist and are not listed. Each is present, missing or infeasible.</item>
/// <item>A trial's plateau is the mean and the worst objective over itself and its present ±1 neighbours; missing and
/// infeasible neighbours are counted, not scored.</item>
/// <item>The most stable region's centre is the feasible trial that has at least one present ±1 neighbour and no
/// infeasible one (a cliff next to it disqualifies it) and whose plateau has the best worst objective, then the best mean,
/// then the lowest trial number.</item>
/// </list>
/// Random and tpe jobs on a discrete space are handled the same way (their unexplored points are missing); a space with
/// a continuous parameter has no grid, so <see cref="Axes"/> returns null for it.
/// </summary>
public static class OptimumStability
{
    /// <summary>The offsets listed around the best trial.</summary>
    public static readonly IReadOnlyList<int> Offsets = [-2, -1, 1, 2];

    /// <summary>
    /// The grid of a job's parameters (its request's <c>parameters</c>): a list gives its values, a range with a step
    /// Min + k step ≤ Max, a range without a step whose bounds are whole numbers the integers between them (an integer
    /// parameter); a fixed value is not an axis. Null when a parameter is continuous (a log range, or a range of numbers
    /// without a step).
    /// </summary>
    public static IReadOnlyList<StabilityAxis>? Axes(IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var axes = new List<StabilityAxis>();
        foreach (var (name, spec) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (spec.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (spec.TryGetProperty("values", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                axes.Add(new StabilityAxis(name, list.EnumerateArray().Select(v => v.Clone()).ToList()));
                continue;
            }

            if (!spec.TryGetProperty("min", out var min) || !spec.TryGetProperty("max", out var max)
                || min.ValueKind != JsonValueKind.Number || max.ValueKind != JsonValueKind.Number
                || (spec.TryGetProperty("log", out var log) && log.ValueKind == JsonValueKind.True))
            {
                return null;
            }

            double? step = spec.TryGetProperty("step", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : null;
            var integer = IsWhole(min) && IsWhole(max) && (step is null || step == Math.Floor(step.Value));
            if (step is null && !integer)
            {
                return null;
            }

            var range = new RangeDimension(name, integer, min.GetDouble(), max.GetDouble(), step, Log: false);
            var values = new List<JsonElement>();
            for (long i = 0; i < range.Count; i++)
            {
                values.Add(range.ValueAt(i));
            }

            axes.Add(new StabilityAxis(name, values));
        }

        return axes;
    }

    /// <summary>
    /// The stability of the job's best trial (<see cref="TrialRules.Best"/>: the best objective among feasible trials,
    /// ties to the lowest number); null when no trial is ranked or the best is not on the grid.
    /// </summary>
    public static StabilityResult? Compute(IReadOnlyList<StabilityAxis> axes, IReadOnlyList<TrialOutcome> trials, Objective objective)
    {
        ArgumentNullException.ThrowIfNull(axes);
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentNullException.ThrowIfNull(objective);
        var maximize = objective.Maximize;
        var cells = new Dictionary<string, TrialOutcome>(StringComparer.Ordinal);
        var positions = new Dictionary<int, int[]>();
        var offGrid = 0;
        foreach (var trial in trials.OrderBy(t => t.Trial))
        {
            if (Position(axes, trial) is not { } position)
            {
                offGrid++;
                continue;
            }

            // A repeated point keeps its first (lowest-numbered) trial.
            if (cells.TryAdd(Key(position), trial))
            {
                positions[trial.Trial] = position;
            }
        }

        double Score(double value) => objective.Score(value);
        var scored = cells.Values.Where(IsPresent).OrderBy(t => t.Trial).ToList();
        if (new TrialRules(objective, []).Best(trials) is not { } best || !positions.TryGetValue(best.Trial, out var bestPosition))
        {
            return null;
        }

        var neighbours = new List<Neighbour>();
        for (var d = 0; d < axes.Count; d++)
        {
            foreach (var offset in Offsets)
            {
                if (Shifted(axes, bestPosition, d, offset) is not { } at)
                {
                    continue;
                }

                var value = axes[d].Values[at[d]];
                neighbours.Add(cells.TryGetValue(Key(at), out var there)
                    ? new Neighbour(axes[d].Name, offset, value, IsPresent(there) ? NeighbourState.Present : NeighbourState.Infeasible,
                        there.Trial, IsPresent(there) ? there.ObjectiveValue : null)
                    : new Neighbour(axes[d].Name, offset, value, NeighbourState.Missing, null, null));
            }
        }

        Plateau PlateauOf(TrialOutcome centre)
        {
            var position = positions[centre.Trial];
            double sum = centre.ObjectiveValue!.Value, worst = Score(centre.ObjectiveValue.Value);
            int present = 1, missing = 0, infeasible = 0;
            for (var d = 0; d < axes.Count; d++)
            {
                foreach (var offset in (int[])[-1, 1])
                {
                    if (Shifted(axes, position, d, offset) is not { } at)
                    {
                        continue;
                    }

                    if (!cells.TryGetValue(Key(at), out var there))
                    {
                        missing++;
                    }
                    else if (!IsPresent(there))
                    {
                        infeasible++;
                    }
                    else
                    {
                        present++;
                        sum += there.ObjectiveValue!.Value;
                        worst = Math.Min(worst, Score(there.ObjectiveValue.Value));
                    }
                }
            }

            return new Plateau(centre.Trial, sum / present, maximize ? worst : -worst, present, missing, infeasible);
        }

        Plateau? stable = null;
        foreach (var trial in scored)
        {
            var plateau = PlateauOf(trial);
            if (plateau.Present < 2 || plateau.Infeasible > 0)
            {
                continue;
            }

            // Scored in the maximizing direction; ties keep the earlier (lower-numbered) trial.
            if (stable is null || Score(plateau.Worst) > Score(stable.Worst)
                || (Score(plateau.Worst) == Score(stable.Worst) && Score(plateau.Mean) > Score(stable.Mean)))
            {
                stable = plateau;
            }
        }

        return new StabilityResult(best.Trial, best.ObjectiveValue!.Value, neighbours, PlateauOf(best), stable, offGrid);
    }

    private static bool IsPresent(TrialOutcome trial) => trial.Ranked && double.IsFinite(trial.ObjectiveValue!.Value);

    private static int[]? Shifted(IReadOnlyList<StabilityAxis> axes, int[] position, int axis, int offset)
    {
        var index = position[axis] + offset;
        if (index < 0 || index >= axes[axis].Values.Count)
        {
            return null;
        }

        var shifted = (int[])position.Clone();
        shifted[axis] = index;
        return shifted;
    }

    private static string Key(int[] position) => string.Join(',', position);

    /// <summary>The trial's index on every axis; null when a value is absent or not on the axis.</summary>
    private static int[]? Position(IReadOnlyList<StabilityAxis> axes, TrialOutcome trial)
    {
        var position = new int[axes.Count];
        for (var d = 0; d < axes.Count; d++)
        {
            if (!trial.Parameters.TryGetValue(axes[d].Name, out var value))
            {
                return null;
            }

            var index = -1;
            for (var i = 0; i < axes[d].Values.Count && index < 0; i++)
            {
                if (SameValue(axes[d].Values[i], value))
                {
                    index = i;
                }
            }

            if (index < 0)
            {
                return null;
            }

            position[d] = index;
        }

        return position;
    }

    /// <summary>Numbers equal within 1e-9 relative (a step's multiples are not exact in binary); anything else by JSON equality.</summary>
    private static bool SameValue(JsonElement a, JsonElement b)
    {
        if (a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number)
        {
            double x = a.GetDouble(), y = b.GetDouble();
            return Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y)));
        }

        return JsonElement.DeepEquals(a, b);
    }

    private static bool IsWhole(JsonElement number) =>
        double.TryParse(number.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x == Math.Floor(x);
}
