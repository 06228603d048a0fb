using System.Globalization;
using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Optimization;

/// <summary>The metric a job optimizes and which way.</summary>
public sealed record Objective(string Metric, bool Maximize)
{
    /// <summary>The metric's value in a trial's metrics; null when undefined for that run.</summary>
    public double? ValueOf(PerformanceMetrics metrics) => MetricValues.Get(metrics, Metric);

    /// <summary>A value turned so that higher is always better (the search methods rank by it).</summary>
    public double Score(double value) => Maximize ? value : -value;

    /// <summary>Whether a best value has reached the job's target: at or above it maximizing, at or below minimizing.</summary>
    public bool Reached(double value, double target) => Maximize ? value >= target : value <= target;
}

public enum ConstraintOp
{
    AtLeast,
    AtMost,
    Above,
    Below,
}

/// <summary>A bound a trial's metric must keep for the trial to count (be feasible).</summary>
public sealed record Constraint(string Metric, ConstraintOp Op, double Value)
{
    public static readonly IReadOnlyList<string> Ops = [">=", "<=", ">", "<"];

    public static ConstraintOp? ParseOp(string? op) => op switch
    {
        ">=" => ConstraintOp.AtLeast,
        "<=" => ConstraintOp.AtMost,
        ">" => ConstraintOp.Above,
        "<" => ConstraintOp.Below,
        _ => null,
    };

    public string OpText => Op switch
    {
        ConstraintOp.AtLeast => ">=",
        ConstraintOp.AtMost => "<=",
        ConstraintOp.Above => ">",
        _ => "<",
    };

    /// <summary>True when the value keeps the bound; an undefined metric (null) keeps none.</summary>
    public bool Holds(double? value) => value is { } v && Op switch
    {
        ConstraintOp.AtLeast => v >= Value,
        ConstraintOp.AtMost => v <= Value,
        ConstraintOp.Above => v > Value,
        _ => v < Value,
    };

    /// <summary>Null when the metrics keep the bound, else why not, e.g. "maxDrawdown -0.31 breaks >= -0.2".</summary>
    public string? Violation(PerformanceMetrics metrics)
    {
        var value = MetricValues.Get(metrics, Metric);
        if (Holds(value))
        {
            return null;
        }

        var shown = value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "undefined";
        return $"{Metric} {shown} breaks {OpText} {Value.ToString("R", CultureInfo.InvariantCulture)}";
    }
}
