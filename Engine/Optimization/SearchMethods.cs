using System.Text.Json;

namespace Backtesting.Engine.Optimization;

/// <summary>
/// A search method: proposes the next trials from what was proposed and what finished so far. A pure function of the
/// space, the job's seed, and its arguments: the same history gives the same proposals, on every machine.
/// </summary>
public interface ISearchMethod
{
    /// <summary>
    /// Up to <paramref name="count"/> new trials, numbered on from <c>proposed.Count</c>; fewer when the space has no more
    /// points to offer (grid at its end, a discrete space with every point proposed).
    /// </summary>
    IReadOnlyList<TrialPoint> Propose(IReadOnlyList<TrialPoint> proposed, IReadOnlyList<TrialOutcome> finished, int count);
}

/// <summary>Every grid point in order: trial n is <see cref="SearchSpace.GridPoint"/>(n).</summary>
public sealed class GridSearch(SearchSpace space) : ISearchMethod
{
    public IReadOnlyList<TrialPoint> Propose(IReadOnlyList<TrialPoint> proposed, IReadOnlyList<TrialOutcome> finished, int count)
    {
        var size = space.GridSize ?? throw new InvalidOperationException("a grid needs a discrete space");
        var points = new List<TrialPoint>();
        for (long trial = proposed.Count; trial < size && points.Count < count; trial++)
        {
            points.Add(new TrialPoint((int)trial, space.GridPoint(trial)));
        }

        return points;
    }
}

/// <summary>
/// Uniform draws, trial n from <see cref="SplitMix64.ForTrial"/>(seed, n). In a discrete space a point already proposed is
/// drawn again (a few times), then the next unproposed grid point from a random start is taken, so no point repeats.
/// </summary>
public sealed class RandomSearch(SearchSpace space, long seed) : ISearchMethod
{
    public IReadOnlyList<TrialPoint> Propose(IReadOnlyList<TrialPoint> proposed, IReadOnlyList<TrialOutcome> finished, int count)
    {
        var seen = Unseen.Proposed(space, proposed);
        var points = new List<TrialPoint>();
        for (var trial = proposed.Count; points.Count < count; trial++)
        {
            var random = SplitMix64.ForTrial(seed, trial);
            var point = Unseen.Draw(space, ref random, seen);
            if (point is null)
            {
                break;
            }

            points.Add(new TrialPoint(trial, point));
        }

        return points;
    }
}

/// <summary>How methods avoid proposing a point twice in a discrete space.</summary>
internal static class Unseen
{
    private const int Redraws = 64;

    /// <summary>The keys of the points proposed so far; null for a continuous space (repeats are then of measure zero).</summary>
    public static HashSet<string>? Proposed(SearchSpace space, IReadOnlyList<TrialPoint> proposed) =>
        space.IsDiscrete ? proposed.Select(p => space.Key(p.Parameters)).ToHashSet(StringComparer.Ordinal) : null;

    /// <summary>True when the point was not proposed yet; then it is marked as proposed.</summary>
    public static bool Claim(SearchSpace space, HashSet<string>? seen, IReadOnlyDictionary<string, JsonElement> point) =>
        seen is null || seen.Add(space.Key(point));

    /// <summary>A uniform draw not proposed yet; null when a discrete space has no point left.</summary>
    public static IReadOnlyDictionary<string, JsonElement>? Draw(SearchSpace space, ref SplitMix64 random, HashSet<string>? seen)
    {
        if (seen is not null && seen.Count >= space.GridSize)
        {
            return null;
        }

        for (var attempt = 0; attempt < Redraws; attempt++)
        {
            var point = space.Sample(ref random);
            if (Claim(space, seen, point))
            {
                return point;
            }
        }

        // Nearly exhausted: walk the grid from a random start to the first point not proposed yet.
        var size = space.GridSize!.Value;
        var start = random.NextLong(size);
        for (long step = 0; step < size; step++)
        {
            var point = space.GridPoint((start + step) % size);
            if (Claim(space, seen, point))
            {
                return point;
            }
        }

        return null;
    }
}
