using System.Text;
using System.Text.Json;

namespace Backtesting.Engine.Optimization;

/// <summary>One strategy parameter of a search space: the values a trial may give it.</summary>
public abstract record Dimension(string Name)
{
    /// <summary>How many distinct values it holds; null when it is continuous.</summary>
    public abstract long? Count { get; }

    /// <summary>The value at a grid index in [0, <see cref="Count"/>), in ascending (or listed) order.</summary>
    public abstract JsonElement ValueAt(long index);

    /// <summary>A value drawn uniformly (in log space for a log range).</summary>
    public abstract JsonElement Sample(ref SplitMix64 random);

    /// <summary>The first value, the one the base config is validated with.</summary>
    public virtual JsonElement First => ValueAt(0);

    internal static JsonElement Json(long value) => JsonSerializer.SerializeToElement(value);

    internal static JsonElement Json(double value) => JsonSerializer.SerializeToElement(value);
}

/// <summary>A parameter held at one value.</summary>
public sealed record FixedDimension(string Name, JsonElement Value) : Dimension(Name)
{
    public override long? Count => 1;

    public override JsonElement ValueAt(long index) => Value;

    public override JsonElement Sample(ref SplitMix64 random) => Value;
}

/// <summary>A list of values (any type the parameter takes), tried in the order given.</summary>
public sealed record CategoricalDimension(string Name, IReadOnlyList<JsonElement> Values) : Dimension(Name)
{
    public override long? Count => Values.Count;

    public override JsonElement ValueAt(long index) => Values[(int)index];

    public override JsonElement Sample(ref SplitMix64 random) => Values[(int)random.NextLong(Values.Count)];
}

/// <summary>
/// A numeric range [Min, Max]. With a step it is the grid Min, Min + step, ... ≤ Max; an integer range without a step
/// has step 1; a log range (Min &gt; 0) is searched in log space and has no step (integer log ranges round to integers);
/// a number range without a step is continuous (random and tpe only).
/// </summary>
/// <param name="Integer">The parameter's schema type is integer: every value is a whole number.</param>
public sealed record RangeDimension(string Name, bool Integer, double Min, double Max, double? Step, bool Log) : Dimension(Name)
{
    public override long? Count =>
        Step is { } step ? (long)Math.Floor((Max - Min) / step + 1e-9) + 1
        : Integer ? (long)(Max - Min) + 1
        : null;

    public override JsonElement ValueAt(long index) =>
        Step is { } step ? Value(Min + index * step)
        : Integer ? Value(Min + index)
        : throw new InvalidOperationException($"{Name} is continuous: it has no grid");

    public override JsonElement First => Value(Min);

    public override JsonElement Sample(ref SplitMix64 random)
    {
        if (!Log && Count is { } count)
        {
            return ValueAt(random.NextLong(count));
        }

        return FromUnit(random.NextDouble());
    }

    /// <summary>The search coordinate's bounds: log(Min)..log(Max) for a log range, else Min..Max.</summary>
    public (double Low, double High) Coordinates => Log ? (Math.Log(Min), Math.Log(Max)) : (Min, Max);

    /// <summary>A value's search coordinate.</summary>
    public double ToCoordinate(double value) => Log ? Math.Log(value) : value;

    /// <summary>The value nearest a search coordinate that the range holds (on its step, whole for integers, inside the bounds).</summary>
    public JsonElement FromCoordinate(double coordinate)
    {
        var value = Log ? Math.Exp(coordinate) : coordinate;
        value = Math.Clamp(value, Min, Max);
        if (!Log && Step is { } step)
        {
            var index = Math.Clamp(Math.Round((value - Min) / step, MidpointRounding.AwayFromZero), 0, Count!.Value - 1);
            return ValueAt((long)index);
        }

        return Value(value);
    }

    private JsonElement FromUnit(double unit)
    {
        var (low, high) = Coordinates;
        return FromCoordinate(low + unit * (high - low));
    }

    private JsonElement Value(double value) =>
        Integer ? Json((long)Math.Clamp(Math.Round(value, MidpointRounding.AwayFromZero), Min, Max)) : Json(value);
}

/// <summary>
/// The parameters an optimization searches, one <see cref="Dimension"/> per parameter in the strategy schema's order.
/// A point is a parameter set: every dimension's value by name.
/// </summary>
public sealed class SearchSpace(IReadOnlyList<Dimension> dimensions)
{
    public IReadOnlyList<Dimension> Dimensions { get; } = dimensions;

    /// <summary>The number of grid points (the product of the counts), saturating at long.MaxValue; null when a dimension is continuous.</summary>
    public long? GridSize
    {
        get
        {
            long size = 1;
            foreach (var dimension in Dimensions)
            {
                if (dimension.Count is not { } count)
                {
                    return null;
                }

                size = count != 0 && size > long.MaxValue / count ? long.MaxValue : size * count;
            }

            return size;
        }
    }

    /// <summary>True when every dimension holds finitely many values, so a proposal can be told apart from earlier ones.</summary>
    public bool IsDiscrete => GridSize is not null;

    /// <summary>
    /// The grid point at an index: mixed radix with the first dimension slowest, as nested loops in the dimensions' order.
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> GridPoint(long index)
    {
        var values = new JsonElement[Dimensions.Count];
        for (var d = Dimensions.Count - 1; d >= 0; d--)
        {
            var count = Dimensions[d].Count!.Value;
            var at = index % count;
            index /= count;
            values[d] = Dimensions[d].ValueAt(at);
        }

        return Point(values);
    }

    /// <summary>The point of these values, one per dimension in order.</summary>
    public IReadOnlyDictionary<string, JsonElement> Point(IReadOnlyList<JsonElement> values)
    {
        var point = new Dictionary<string, JsonElement>(Dimensions.Count, StringComparer.Ordinal);
        for (var d = 0; d < Dimensions.Count; d++)
        {
            point[Dimensions[d].Name] = values[d];
        }

        return point;
    }

    /// <summary>A point drawn uniformly, dimension by dimension.</summary>
    public IReadOnlyDictionary<string, JsonElement> Sample(ref SplitMix64 random)
    {
        var values = new JsonElement[Dimensions.Count];
        for (var d = 0; d < Dimensions.Count; d++)
        {
            values[d] = Dimensions[d].Sample(ref random);
        }

        return Point(values);
    }

    /// <summary>A point's identity: its values' JSON in dimension order (equal points, equal keys).</summary>
    public string Key(IReadOnlyDictionary<string, JsonElement> point)
    {
        var builder = new StringBuilder();
        foreach (var dimension in Dimensions)
        {
            builder.Append(point[dimension.Name].GetRawText()).Append('|');
        }

        return builder.ToString();
    }

    /// <summary>
    /// How many trials a job plans before anything runs: grid, the grid's size (at most maxTrials when given); random and
    /// tpe, maxTrials, at most the number of distinct points of a discrete space (proposals are never repeated there).
    /// </summary>
    public long PlannedTrials(SearchMethodKind method, int? maxTrials)
    {
        var grid = GridSize;
        return method switch
        {
            SearchMethodKind.Grid => Math.Min(grid ?? long.MaxValue, maxTrials ?? long.MaxValue),
            _ => Math.Min(maxTrials ?? 0, grid ?? long.MaxValue),
        };
    }
}

public enum SearchMethodKind
{
    Grid,
    Random,
    Tpe,
}
