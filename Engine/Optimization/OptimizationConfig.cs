using System.Text.Json;
using Backtesting.Engine.Configuration;

namespace Backtesting.Engine.Optimization;

// An optimization job as a client sends it, camelCase on the wire like a backtest's config. Words (method, direction,
// op) stay strings so that validation reports every bad value with its field at once; OptimizationPlan holds the typed,
// validated form. docs/optimization.md documents every field.

public sealed record OptimizationConfig
{
    public string Name { get; init; } = "";
    /// <summary>The backtest every trial runs, validated as a backtest's start request; the space's parameters override its strategyConfig.</summary>
    public BacktestConfig BaseConfig { get; init; } = new();
    /// <summary>
    /// Per strategy parameter: a fixed value (<c>12</c>, <c>"EMA"</c>), a range <c>{"min":5,"max":50,"step":1}</c>, a list
    /// <c>{"values":[...]}</c>, or for random and tpe a continuous range <c>{"min":0.5,"max":3}</c>, optionally <c>"log":true</c>.
    /// </summary>
    public Dictionary<string, JsonElement> Parameters { get; init; } = new();
    /// <summary>grid | random | tpe.</summary>
    public string Method { get; init; } = "grid";
    /// <summary>The trial budget: required for random and tpe, an upper bound for grid (null: the whole grid).</summary>
    public int? MaxTrials { get; init; }
    public ObjectiveSettings Objective { get; init; } = new();
    public List<ConstraintSettings> Constraints { get; init; } = new();
    /// <summary>Stop early once the best feasible objective reaches this value (at or above it maximizing, at or below minimizing).</summary>
    public double? Target { get; init; }
    /// <summary>Seeds random and tpe; the same job with the same seed proposes the same trials.</summary>
    public long Seed { get; init; }
    /// <summary>low | normal | high | urgent, as a backtest's.</summary>
    public string Priority { get; init; } = "normal";
    /// <summary>
    /// The version of the owner's custom strategy (baseConfig.strategyClass) the job runs, as a backtest's start request
    /// pins one; null: the latest, which the cluster pins here when it accepts the job. Templates have none.
    /// </summary>
    public int? StrategyVersion { get; init; }
}

public sealed record ObjectiveSettings
{
    /// <summary>Any metric of a result's <c>metrics</c> object (camelCase), e.g. sharpeRatio.</summary>
    public string Metric { get; init; } = "sharpeRatio";
    /// <summary>maximize | minimize.</summary>
    public string Direction { get; init; } = "maximize";
}

public sealed record ConstraintSettings
{
    public string Metric { get; init; } = "";
    /// <summary>&gt;= | &lt;= | &gt; | &lt;.</summary>
    public string Op { get; init; } = "";
    public double Value { get; init; }
}
