using System.Text.Json;
using Backtesting.Engine.Robustness;

namespace Backtesting.Grains.Interfaces;

/// <summary>What a client asks for: a walk-forward job (validated by the grain with <see cref="WalkForwardJobRules"/>) and its owner.</summary>
[GenerateSerializer, Immutable, Alias("walkforward.submission")]
public sealed record WalkForwardSubmission(
    [property: Id(0)] WalkForwardJob Job,
    [property: Id(1)] string Owner);

/// <summary>Where a window is: its in-sample optimization runs, its out-of-sample backtest runs, it is done, or its
/// optimization found no feasible trial (then nothing runs out of sample and the window is left out of the stitched curve).</summary>
[GenerateSerializer, Alias("walkforward.window-state")]
public enum WalkForwardWindowState
{
    Optimizing = 0,
    OutOfSample = 1,
    Completed = 2,
    NoFeasibleTrial = 3,
}

/// <summary>The words of <see cref="WalkForwardWindowState"/> on the wire.</summary>
public static class WalkForwardWindowWords
{
    public static string Word(WalkForwardWindowState state) => state switch
    {
        WalkForwardWindowState.Optimizing => "optimizing",
        WalkForwardWindowState.OutOfSample => "outOfSample",
        WalkForwardWindowState.Completed => "completed",
        WalkForwardWindowState.NoFeasibleTrial => "noFeasibleTrial",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a window state"),
    };
}

/// <summary>One window as the job knows it: its dates, its children, and once known the chosen trial and both sides' metrics.</summary>
/// <param name="ParametersJson">The chosen (best feasible) trial's parameters, a JSON object; null until chosen or with no feasible trial.</param>
/// <param name="InSampleMetricsJson">The chosen trial's in-sample metrics object (as its optimization stored it).</param>
/// <param name="OutOfSampleMetricsJson">The out-of-sample backtest's metrics object, once it completed.</param>
[GenerateSerializer, Immutable, Alias("walkforward.window")]
public sealed record WalkForwardWindowStatus(
    [property: Id(0)] int Index,
    [property: Id(1)] DateOnly InSampleStart,
    [property: Id(2)] DateOnly InSampleEnd,
    [property: Id(3)] DateOnly OutOfSampleStart,
    [property: Id(4)] DateOnly OutOfSampleEnd,
    [property: Id(5)] bool Truncated,
    [property: Id(6)] WalkForwardWindowState State,
    [property: Id(7)] Guid OptimizationId,
    [property: Id(8)] Guid? BacktestId,
    [property: Id(9)] int? BestTrial,
    [property: Id(10)] string? ParametersJson,
    [property: Id(11)] string? InSampleMetricsJson,
    [property: Id(12)] string? OutOfSampleMetricsJson)
{
    public WalkForwardWindow Window => new(Index, InSampleStart, InSampleEnd, OutOfSampleStart, OutOfSampleEnd, Truncated);

    public string StateWord => WalkForwardWindowWords.Word(State);
}

/// <summary>Everything a client needs to show a job; the stitched result is stored apart (the walkforwards row) once complete.</summary>
/// <param name="ConfigJson">The job as accepted (camelCase JSON, the shape of <see cref="WalkForwardJob"/>).</param>
[GenerateSerializer, Immutable, Alias("walkforward.status")]
public sealed record WalkForwardStatus(
    [property: Id(0)] Guid Id,
    [property: Id(1)] OptimizationState State,
    [property: Id(2)] string Owner,
    [property: Id(3)] string Name,
    [property: Id(4)] string Strategy,
    [property: Id(5)] string Method,
    [property: Id(6)] DateTime CreatedAt,
    [property: Id(7)] DateTime UpdatedAt,
    [property: Id(8)] DateTime? StartedAt,
    [property: Id(9)] DateTime? CompletedAt,
    [property: Id(10)] string? ErrorMessage,
    [property: Id(11)] IReadOnlyList<WalkForwardWindowStatus> Windows,
    [property: Id(12)] IReadOnlyList<OptimizationStateChange> History,
    [property: Id(13)] string ObjectiveMetric,
    [property: Id(14)] string ObjectiveDirection,
    [property: Id(15)] string ConfigJson)
{
    public bool IsTerminal => OptimizationLifecycle.IsTerminal(State);

    /// <summary>The state's word (an optimization's words: stored in the walkforwards row, shown to clients).</summary>
    public string StateWord => OptimizationLifecycle.Word(State);
}

/// <summary>One window as stored with the result and as clients see it: JSON objects parsed, the state as its word.</summary>
public sealed record WalkForwardWindowItem(
    int Index,
    DateOnly InSampleStart,
    DateOnly InSampleEnd,
    DateOnly OutOfSampleStart,
    DateOnly OutOfSampleEnd,
    bool Truncated,
    string State,
    Guid OptimizationId,
    Guid? BacktestId,
    int? BestTrial,
    JsonElement? Parameters,
    JsonElement? InSampleMetrics,
    JsonElement? OutOfSampleMetrics)
{
    public static WalkForwardWindowItem Of(WalkForwardWindowStatus w)
    {
        ArgumentNullException.ThrowIfNull(w);
        return new(w.Index, w.InSampleStart, w.InSampleEnd, w.OutOfSampleStart, w.OutOfSampleEnd, w.Truncated, w.StateWord, w.OptimizationId,
            w.BacktestId, w.BestTrial, Parse(w.ParametersJson), Parse(w.InSampleMetricsJson), Parse(w.OutOfSampleMetricsJson));
    }

    private static JsonElement? Parse(string? json) => json is null ? null : OptimizationEvents.Parse(json);
}

/// <summary>
/// What a completed job stores in its walkforwards row: every window, and the stitched out-of-sample summary
/// (<see cref="WalkForwardAnalysis"/>) over the windows that ran out of sample; null when none had a feasible trial.
/// </summary>
public sealed record WalkForwardResultDocument(IReadOnlyList<WalkForwardWindowItem> Windows, WalkForwardSummary? Summary);
