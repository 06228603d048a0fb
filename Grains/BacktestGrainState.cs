using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains;

/// <summary>What a backtest grain persists (grain storage in PostgreSQL): enough to recover on any silo.</summary>
[GenerateSerializer, Alias("backtest.grain-state")]
public sealed class BacktestGrainState
{
    [Id(0)] public BacktestState State { get; set; } = BacktestState.Created;
    [Id(1)] public string Owner { get; set; } = "";
    [Id(2)] public BacktestPriority Priority { get; set; }
    /// <summary>
    /// The normalized config as JSON. Kept as text: strategy parameters are JsonElements, which do not survive a
    /// round trip through grain storage as objects.
    /// </summary>
    [Id(3)] public string? ConfigJson { get; set; }
    [Id(17)] public string Strategy { get; set; } = "";
    [Id(18)] public int InstrumentCount { get; set; }
    [Id(4)] public string? ContentHash { get; set; }
    [Id(5)] public DateTime CreatedAt { get; set; }
    [Id(6)] public DateTime UpdatedAt { get; set; }
    [Id(7)] public DateTime? CompletedAt { get; set; }
    [Id(8)] public List<StateChange> History { get; set; } = new();
    [Id(9)] public List<RunAttempt> Attempts { get; set; } = new();
    [Id(10)] public BacktestProgressData? Progress { get; set; }
    [Id(11)] public BacktestErrorData? Error { get; set; }
    [Id(12)] public CompletionSummary? Summary { get; set; }
    [Id(13)] public bool FromCache { get; set; }
    /// <summary>The worker's latest checkpoint (also in PostgreSQL's backtest_checkpoints), to resume anywhere.</summary>
    [Id(14)] public string? Checkpoint { get; set; }
    /// <summary>Running time used so far (paused time excluded), for the timeout.</summary>
    [Id(15)] public TimeSpan RunningTime { get; set; }
    [Id(16)] public bool Deleted { get; set; }
    /// <summary>The custom strategy version this backtest runs (its source is read from the strategy store); null for a template.</summary>
    [Id(19)] public CustomStrategyRef? CustomStrategy { get; set; }
}
