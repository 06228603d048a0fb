using System.Text.Json;
using System.Text.Json.Serialization;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;

namespace Backtesting.Grains.Interfaces;

/// <summary>The states of an optimization job; their moves, terminal ones and words are <see cref="OptimizationLifecycle"/>.</summary>
[GenerateSerializer, Alias("optimization.state")]
public enum OptimizationState
{
    Created = 0,
    Queued = 1,
    Running = 2,
    Paused = 3,
    Completed = 4,
    Cancelled = 5,
    Failed = 6,
}

/// <summary>What a client asks for: a job (validated by the grain with <see cref="OptimizationValidator"/>) and its owner.</summary>
/// <remarks>The job's priority is its own <c>priority</c> word.</remarks>
[GenerateSerializer, Immutable, Alias("optimization.submission")]
public sealed record OptimizationSubmission(
    [property: Id(0)] OptimizationConfig Config,
    [property: Id(1)] string Owner);

/// <summary>One change of state, kept in the status history.</summary>
[GenerateSerializer, Immutable, Alias("optimization.transition")]
public sealed record OptimizationStateChange(
    [property: Id(0)] OptimizationState State,
    [property: Id(1)] DateTime At,
    [property: Id(2)] string? Detail);

/// <summary>How far a job is. Trials count once each, however many runs a batch took.</summary>
/// <param name="TrialsPerSecond">Trials finished per second of the job's running time (paused and queued time excluded).</param>
/// <param name="EstimatedSecondsRemaining">The trials left at that rate; null before the first trial, or once terminal.</param>
[GenerateSerializer, Immutable, Alias("optimization.progress")]
public sealed record OptimizationProgress(
    [property: Id(0)] int TrialsCompleted,
    [property: Id(1)] int TrialsPlanned,
    [property: Id(2)] int TrialsFeasible,
    [property: Id(3)] double TrialsPerSecond,
    [property: Id(4), JsonPropertyName("estimatedTimeRemaining")] double? EstimatedSecondsRemaining)
{
    public static OptimizationProgress None(int planned) => new(0, planned, 0, 0, null);
}

/// <summary>The best trial so far (docs/optimization.md, "Feasibility, objective, best"), as stored.</summary>
/// <param name="ParametersJson">The trial's parameters, a JSON object.</param>
/// <param name="MetricsJson">The trial's full metrics object as JSON.</param>
[GenerateSerializer, Immutable, Alias("optimization.best")]
public sealed record OptimizationBest(
    [property: Id(0)] int Trial,
    [property: Id(1)] string ParametersJson,
    [property: Id(2)] string? MetricsJson,
    [property: Id(3)] double Objective);

/// <summary>
/// A job's batches: running (holding a slot), queued (waiting for one), completed, and the total: the batches the planned
/// trials need (or those created so far, when more).
/// </summary>
[GenerateSerializer, Immutable, Alias("optimization.batches")]
public sealed record OptimizationBatchCounts(
    [property: Id(0)] int Running,
    [property: Id(1)] int Queued,
    [property: Id(2)] int Completed,
    [property: Id(3)] int Total)
{
    public static OptimizationBatchCounts None { get; } = new(0, 0, 0, 0);
}

/// <summary>Everything a client needs to show a job.</summary>
/// <param name="Method">grid | random | tpe.</param>
/// <param name="ObjectiveMetric">The objective's metric (a name of <c>MetricValues.Names</c>).</param>
/// <param name="ObjectiveDirection">maximize | minimize.</param>
/// <param name="ConfigJson">The job as accepted (camelCase JSON, the shape of <see cref="OptimizationConfig"/>).</param>
[GenerateSerializer, Immutable, Alias("optimization.status")]
public sealed record OptimizationStatus(
    [property: Id(0)] Guid Id,
    [property: Id(1)] OptimizationState State,
    [property: Id(2)] string Owner,
    [property: Id(3)] BacktestPriority Priority,
    [property: Id(4)] string Name,
    [property: Id(5)] string Strategy,
    [property: Id(6)] string Method,
    [property: Id(7)] DateTime CreatedAt,
    [property: Id(8)] DateTime UpdatedAt,
    [property: Id(9)] DateTime? StartedAt,
    [property: Id(10)] DateTime? CompletedAt,
    [property: Id(11)] string? ErrorMessage,
    [property: Id(12)] OptimizationProgress Progress,
    [property: Id(13)] OptimizationBest? Best,
    [property: Id(14)] OptimizationBatchCounts Batches,
    [property: Id(15)] IReadOnlyList<OptimizationStateChange> History,
    [property: Id(16)] string ObjectiveMetric,
    [property: Id(17)] string ObjectiveDirection,
    [property: Id(18)] string ConfigJson)
{
    public bool IsTerminal => OptimizationLifecycle.IsTerminal(State);

    /// <summary>The state's word (stored in the optimizations row, shown to clients).</summary>
    public string StateWord => OptimizationLifecycle.Word(State);
}

/// <summary>Raised to callers when a request does not fit the job's state (the API answers 409); nothing was changed.</summary>
[GenerateSerializer, Alias("optimization.illegal-move")]
public sealed class IllegalOptimizationMoveException : Exception
{
    public IllegalOptimizationMoveException(OptimizationState current, string action)
        : base($"cannot {action} an optimization that is {OptimizationLifecycle.Word(current)}")
    {
        Current = current;
        Action = action;
    }

    public IllegalOptimizationMoveException()
    {
        Action = "";
    }

    public IllegalOptimizationMoveException(string message) : base(message)
    {
        Action = "";
    }

    public IllegalOptimizationMoveException(string message, Exception inner) : base(message, inner)
    {
        Action = "";
    }

    [Id(0)] public OptimizationState Current { get; init; }
    [Id(1)] public string Action { get; init; }
}

/// <summary>Raised when a submission breaks the job's rules; carries every error (field like <c>parameters.slowPeriod.max</c>, rule, message).</summary>
[GenerateSerializer, Alias("optimization.invalid")]
public sealed class OptimizationValidationException : Exception
{
    public OptimizationValidationException(IReadOnlyList<ValidationError> errors)
        : base($"the optimization has {errors.Count} error(s): " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")))
    {
        Errors = errors;
    }

    public OptimizationValidationException()
    {
        Errors = [];
    }

    public OptimizationValidationException(string message) : base(message)
    {
        Errors = [];
    }

    public OptimizationValidationException(string message, Exception inner) : base(message, inner)
    {
        Errors = [];
    }

    [Id(0)] public IReadOnlyList<ValidationError> Errors { get; init; }
}

/// <summary>One event of a job on its stream (<see cref="OptimizationStreamNames"/>): its type and the message as JSON.</summary>
/// <remarks>The JSON is the whole message, <c>{type, optimizationId, timestamp, data}</c>, so the API relays it unchanged.</remarks>
[GenerateSerializer, Immutable, Alias("optimization.event")]
public sealed record OptimizationEvent(
    [property: Id(0)] Guid OptimizationId,
    [property: Id(1)] string Type,
    [property: Id(2)] string Json);

public static class OptimizationStreamNames
{
    /// <summary>The stream provider: the one that carries backtest events.</summary>
    public const string Provider = StreamNames.Provider;

    /// <summary>The stream namespace; the stream key is the job's id.</summary>
    public const string Namespace = "optimization";
}

/// <summary>The types of a job's live events.</summary>
public static class OptimizationEventTypes
{
    /// <summary><see cref="OptimizationProgressEventData"/>: about once a second while running, and at every change of state.</summary>
    public const string Progress = "optimization_progress";
    /// <summary><see cref="OptimizationTrialsEventData"/>: trials as they were stored.</summary>
    public const string Trials = "optimization_trials";
    /// <summary><see cref="OptimizationCompleteEventData"/>: the job reached a terminal state (the last event).</summary>
    public const string Complete = "optimization_complete";
}

/// <summary>The envelope of a job's event, camelCase on the wire.</summary>
public sealed record OptimizationEventMessage<TData>(string Type, string OptimizationId, DateTime Timestamp, TData Data);

/// <summary>The best trial as JSON objects (the status's <see cref="OptimizationBest"/> with its texts parsed).</summary>
public sealed record OptimizationBestData(int Trial, JsonElement Parameters, JsonElement? Metrics, double Objective)
{
    public static OptimizationBestData? From(OptimizationBest? best) => best is null
        ? null
        : new OptimizationBestData(best.Trial, OptimizationEvents.Parse(best.ParametersJson), best.MetricsJson is null ? null : OptimizationEvents.Parse(best.MetricsJson),
            best.Objective);
}

/// <param name="Status">The state's word (<see cref="LifecycleWords"/>).</param>
public sealed record OptimizationProgressEventData(string Status, OptimizationProgress Progress, OptimizationBestData? Best, OptimizationBatchCounts Batches);

/// <summary>One stored trial as clients see it (the trials page's item and the live feed's).</summary>
/// <param name="Metrics">The full metrics object; null when the trial did not run.</param>
public sealed record OptimizationTrialItem(
    int Trial,
    JsonElement Parameters,
    JsonElement? Metrics,
    int? TradeCount,
    bool Feasible,
    string? InfeasibleReason,
    double? Objective,
    string? ContentHash);

public sealed record OptimizationTrialsEventData(IReadOnlyList<OptimizationTrialItem> Trials);

/// <param name="Status">The terminal state's word: completed, cancelled or failed.</param>
public sealed record OptimizationCompleteEventData(string Status, OptimizationProgress Progress, OptimizationBestData? Best, string? ErrorMessage);

/// <summary>
/// Builds a job's events, the one home of their shape: the grain publishes them live, the API sends the same ones as
/// the snapshot a subscription starts with.
/// </summary>
public static class OptimizationEvents
{
    public static OptimizationEvent Progress(OptimizationStatus status) => Make(status.Id, OptimizationEventTypes.Progress,
        new OptimizationProgressEventData(status.StateWord, status.Progress, OptimizationBestData.From(status.Best), status.Batches));

    public static OptimizationEvent Trials(Guid id, IReadOnlyList<OptimizationTrialItem> trials) =>
        Make(id, OptimizationEventTypes.Trials, new OptimizationTrialsEventData(trials));

    public static OptimizationEvent Complete(OptimizationStatus status) => Make(status.Id, OptimizationEventTypes.Complete,
        new OptimizationCompleteEventData(status.StateWord, status.Progress, OptimizationBestData.From(status.Best), status.ErrorMessage));

    /// <summary>A stored trial as an item: its JSON texts (parameters, metrics) parsed.</summary>
    public static OptimizationTrialItem Item(int trial, string parametersJson, string? metricsJson, int? tradeCount, bool feasible,
        string? infeasibleReason, double? objective, string? contentHash) =>
        new(trial, Parse(parametersJson), metricsJson is null ? null : Parse(metricsJson), tradeCount, feasible, infeasibleReason, objective,
            contentHash);

    internal static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static OptimizationEvent Make<T>(Guid id, string type, T data) => new(id, type,
        JsonSerializer.Serialize(new OptimizationEventMessage<T>(type, id.ToString(), DateTime.UtcNow, data), JsonDefaults.Options));
}
