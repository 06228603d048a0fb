using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains;

/// <summary>What an optimization grain persists (grain storage in PostgreSQL): enough to go on from any silo.</summary>
[GenerateSerializer, Alias("optimization.grain-state")]
public sealed class OptimizationGrainState
{
    [Id(0)] public OptimizationState State { get; set; } = OptimizationState.Created;
    [Id(1)] public string Owner { get; set; } = "";
    [Id(2)] public BacktestPriority Priority { get; set; }
    /// <summary>The accepted job as JSON (its parameters are JsonElements, which grain storage does not keep as objects).</summary>
    [Id(3)] public string? ConfigJson { get; set; }
    [Id(4)] public string Name { get; set; } = "";
    [Id(5)] public string Strategy { get; set; } = "";
    [Id(6)] public string Method { get; set; } = "";
    [Id(7)] public string ObjectiveMetric { get; set; } = "";
    [Id(8)] public string ObjectiveDirection { get; set; } = "";
    [Id(9)] public int PlannedTrials { get; set; }
    /// <summary>Trials per batch, fixed when the job was submitted (<see cref="Optimization.BatchSizing"/>; TPE's proposals depend on it).</summary>
    [Id(10)] public int BatchTrials { get; set; }
    [Id(11)] public DateTime CreatedAt { get; set; }
    [Id(12)] public DateTime UpdatedAt { get; set; }
    [Id(13)] public DateTime? StartedAt { get; set; }
    [Id(14)] public DateTime? CompletedAt { get; set; }
    [Id(15)] public string? ErrorMessage { get; set; }
    [Id(16)] public List<OptimizationStateChange> History { get; set; } = new();
    /// <summary>Every batch created so far, by number.</summary>
    [Id(17)] public List<BatchRecord> Batches { get; set; } = new();
    /// <summary>Trials handed to batches so far (numbered 0 to this, exclusive).</summary>
    [Id(18)] public int ProposedTrials { get; set; }
    /// <summary>The method had no more points to propose (a discrete space fully proposed).</summary>
    [Id(19)] public bool Exhausted { get; set; }
    /// <summary>The best reached the job's target: no new batch is started.</summary>
    [Id(20)] public bool TargetReached { get; set; }
    /// <summary>Counts kept as the batches report them; re-read from the stored trials when the job activates and ends.</summary>
    [Id(21)] public int TrialsCompleted { get; set; }
    [Id(22)] public int TrialsFeasible { get; set; }
    [Id(23)] public OptimizationBest? Best { get; set; }
    /// <summary>Time spent running (queued and paused time excluded), for the rate.</summary>
    [Id(24)] public TimeSpan RunningTime { get; set; }
    [Id(25)] public bool Deleted { get; set; }
    /// <summary>The owner's custom strategy the job runs (pinned when it was accepted), null for a template.</summary>
    [Id(26)] public Guid? StrategyId { get; set; }
    [Id(27)] public int? StrategyVersion { get; set; }
    /// <summary>The CPU cores each batch's container may use, fixed with <see cref="BatchTrials"/>; null: the runner's own limit.</summary>
    [Id(28)] public double? BatchCpus { get; set; }
}

/// <summary>A batch of the job as the job knows it: its trials (a range of numbers) and its last reported state.</summary>
[GenerateSerializer, Immutable, Alias("optimization.batch-record")]
public sealed record BatchRecord(
    [property: Id(0)] int Number,
    [property: Id(1)] int FirstTrial,
    [property: Id(2)] int Count,
    [property: Id(3)] OptimizationBatchState State,
    [property: Id(4)] long Version);
