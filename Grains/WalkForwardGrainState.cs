using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains;

/// <summary>What a walk-forward grain persists (grain storage in PostgreSQL): enough to go on from any silo.</summary>
[GenerateSerializer, Alias("walkforward.grain-state")]
public sealed class WalkForwardGrainState
{
    [Id(0)] public OptimizationState State { get; set; } = OptimizationState.Created;
    [Id(1)] public string Owner { get; set; } = "";
    /// <summary>The accepted job as JSON (the shape of <c>WalkForwardJob</c>).</summary>
    [Id(2)] public string? ConfigJson { get; set; }
    [Id(3)] public string Name { get; set; } = "";
    [Id(4)] public string Strategy { get; set; } = "";
    [Id(5)] public string Method { get; set; } = "";
    [Id(6)] public string ObjectiveMetric { get; set; } = "";
    [Id(7)] public string ObjectiveDirection { get; set; } = "";
    [Id(8)] public DateTime CreatedAt { get; set; }
    [Id(9)] public DateTime UpdatedAt { get; set; }
    [Id(10)] public DateTime? StartedAt { get; set; }
    [Id(11)] public DateTime? CompletedAt { get; set; }
    [Id(12)] public string? ErrorMessage { get; set; }
    [Id(13)] public List<OptimizationStateChange> History { get; set; } = new();
    /// <summary>Every window of the plan, in order, with its children and what they gave.</summary>
    [Id(14)] public List<WalkForwardWindowStatus> Windows { get; set; } = new();
}
