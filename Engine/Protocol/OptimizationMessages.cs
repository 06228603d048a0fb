using System.Text.Json;
using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Protocol;

// The optimization batch's side of the protocol, camelCase on the wire: the worker's optimize-batch command prints one
// JSON line per message, { "type", "optimizationId", "batch", "timestamp", "data" }, and keeps its checkpoint files in its
// output folder. docs/optimization.md documents the lines and the files.

public static class OptimizationMessageTypes
{
    /// <summary>One finished trial (<see cref="OptimizationTrialData"/>), printed once it is finished.</summary>
    public const string Trial = "optimization_trial";
    /// <summary>The batch's progress (<see cref="OptimizationBatchProgressData"/>), at most about once a second and at its end.</summary>
    public const string BatchProgress = "optimization_batch_progress";
    /// <summary>The batch ended (<see cref="OptimizationBatchCompleteData"/>): every trial ran, or it was stopped between trials.</summary>
    public const string BatchComplete = "optimization_batch_complete";
    /// <summary>The batch failed or was refused (<see cref="BacktestErrorData"/>, its validation errors listed).</summary>
    public const string BatchError = "optimization_batch_error";
}

public sealed record OptimizationMessage<TData>(
    string Type,
    string OptimizationId,
    int Batch,
    DateTime Timestamp,
    TData Data);

/// <param name="Trial">The trial's number in its job (from 0).</param>
/// <param name="Parameters">Every searched parameter's value.</param>
/// <param name="Metrics">The run's metrics, every one of them; null when the strategy's rule refused the parameters (it did not run).</param>
/// <param name="Feasible">False when the strategy's rule refused the parameters or a constraint does not hold.</param>
/// <param name="InfeasibleReason">Why it is infeasible: the rule's message, or each broken constraint with its value.</param>
/// <param name="ContentHash">The run's content hash, equal to that of the same config run as a backtest.</param>
/// <param name="Objective">The objective metric's value, when the trial ran and it is defined.</param>
public sealed record OptimizationTrialData(
    int Trial,
    IReadOnlyDictionary<string, JsonElement> Parameters,
    PerformanceMetrics? Metrics,
    int TradeCount,
    bool Feasible,
    string? InfeasibleReason,
    string? ContentHash,
    double? Objective);

/// <param name="TrialsDone">Trials of the batch finished, those a checkpoint already held included.</param>
/// <param name="TrialsTotal">Trials in the batch.</param>
/// <param name="TrialsSkipped">Trials the checkpoint held at the start (finished by an earlier run; not printed again).</param>
/// <param name="TrialsPerSecond">Trials this run finished per second of its time since the data was loaded.</param>
public sealed record OptimizationBatchProgressData(
    int TrialsDone,
    int TrialsTotal,
    int TrialsSkipped,
    double TrialsPerSecond,
    double ElapsedSeconds);

/// <param name="Stopped">True when a signal stopped the batch between trials; the checkpoint lets a new run finish it.</param>
public sealed record OptimizationBatchCompleteData(
    int TrialsRun,
    int TrialsSkipped,
    int TrialsTotal,
    double ElapsedSeconds,
    double TrialsPerSecond,
    bool Stopped);

/// <summary>The files of a batch's run folder (the worker's <c>--output</c>).</summary>
public static class OptimizationFiles
{
    /// <summary>The batch: the job's config and the trials to run (<c>--batch</c>, written by the supervisor).</summary>
    public const string Batch = "batch.json";

    /// <summary>The checkpoint: one finished trial number per line, appended and flushed after each trial.</summary>
    public const string TrialsDone = "trials-done.txt";

    /// <summary>Each finished trial's daily returns: records of (int32 trial, int32 count, float32 × count), little-endian.</summary>
    public const string TrialReturns = "trial-returns.bin";
}
