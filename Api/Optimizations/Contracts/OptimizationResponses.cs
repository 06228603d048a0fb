using System.Text.Json;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Optimizations.Contracts;

/// <summary>What <c>POST /optimizations</c> answers (202): the new job's id, its status word, its planned trials and where to follow it.</summary>
public sealed record OptimizationStartResponse(Guid Id, string Status, long TrialsPlanned, string StatusUrl);

/// <summary>What <c>POST /optimizations/plan</c> answers: how many trials the job would run (nothing is stored).</summary>
public sealed record PlanResponse(long TrialsPlanned);

/// <summary>One job in <c>GET /optimizations</c>: its stored row and how far its stored trials got.</summary>
/// <param name="BestObjective">The best feasible objective stored so far in the job's direction; null when none.</param>
public sealed record OptimizationListItem(
    Guid Id,
    string? Name,
    string Status,
    string Strategy,
    string Method,
    long TrialsPlanned,
    int TrialsCompleted,
    double? BestObjective,
    DateTime CreatedAt,
    DateTime? CompletedAt);

public sealed record OptimizationListResponse(IReadOnlyList<OptimizationListItem> Items, int TotalCount, int Page, int PageSize);

public sealed record ObjectiveView(string Metric, string Direction);

/// <summary>
/// What <c>GET /optimizations/{id}</c> answers: the grain's live status (progress, best so far and batches, in the
/// live feed's shapes) with the accepted job as <c>config</c>.
/// </summary>
public sealed record OptimizationStatusResponse(
    Guid Id,
    string Name,
    string Status,
    string Strategy,
    string Method,
    ObjectiveView Objective,
    BacktestPriority Priority,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? StartedAt,
    DateTime? CompletedAt,
    string? ErrorMessage,
    OptimizationProgress Progress,
    OptimizationBestData? Best,
    OptimizationBatchCounts Batches,
    IReadOnlyList<OptimizationStateChange> History,
    JsonElement Config)
{
    public static OptimizationStatusResponse From(OptimizationStatus s)
    {
        using var config = JsonDocument.Parse(s.ConfigJson);
        return new(s.Id, s.Name, s.StateWord, s.Strategy, s.Method, new ObjectiveView(s.ObjectiveMetric, s.ObjectiveDirection), s.Priority,
            s.CreatedAt, s.UpdatedAt, s.StartedAt, s.CompletedAt, s.ErrorMessage, s.Progress, OptimizationBestData.From(s.Best), s.Batches,
            s.History, config.RootElement.Clone());
    }
}

/// <summary>A page of trials; each item has the live feed's trial shape.</summary>
public sealed record TrialListResponse(IReadOnlyList<OptimizationTrialItem> Items, int TotalCount, int Page, int PageSize);

/// <summary>One cell of the surface: the two parameter values, the best metric over the cell's feasible trials, and its counts.</summary>
public sealed record SurfaceCellView(JsonElement X, JsonElement Y, double? Best, int Trials, int FeasibleTrials);

/// <summary>A heatmap of one metric over two parameters; xValues and yValues in the search space's order.</summary>
public sealed record SurfaceResponse(string X, string Y, string Metric, IReadOnlyList<JsonElement> XValues, IReadOnlyList<JsonElement> YValues,
    IReadOnlyList<SurfaceCellView> Cells);
