using System.Text.Json;
using Backtesting.Api.Optimizations.Contracts;
using Backtesting.Engine.Robustness;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.WalkForward.Contracts;

/// <summary>What <c>POST /walkforward</c> answers (202): the new job's id, its status word, its windows and where to follow it.</summary>
public sealed record WalkForwardStartResponse(Guid Id, string Status, int WindowsPlanned, string StatusUrl);

/// <summary>One job in <c>GET /walkforward</c>: its stored row.</summary>
public sealed record WalkForwardListItem(Guid Id, string? Name, string Status, int WindowsPlanned, DateTime CreatedAt, DateTime? CompletedAt);

public sealed record WalkForwardListResponse(IReadOnlyList<WalkForwardListItem> Items, int TotalCount, int Page, int PageSize);

/// <summary>The windows' settings as accepted.</summary>
public sealed record WalkForwardSettingsView(string InSample, string OutOfSample, string Step, bool Anchored);

/// <summary>
/// What <c>GET /walkforward/{id}</c> answers: the grain's status (every window with its dates, chosen parameters and
/// both sides' metrics) and, once complete, the stitched out-of-sample summary (curve, full metrics, efficiency,
/// t-statistic, drift); the summary is null before then and when no window had a feasible trial.
/// </summary>
public sealed record WalkForwardStatusResponse(
    Guid Id,
    string Name,
    string Status,
    string Strategy,
    string Method,
    ObjectiveView Objective,
    WalkForwardSettingsView Validation,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? StartedAt,
    DateTime? CompletedAt,
    string? ErrorMessage,
    IReadOnlyList<WalkForwardWindowItem> Windows,
    WalkForwardSummary? Summary,
    IReadOnlyList<OptimizationStateChange> History,
    JsonElement Config)
{
    public static WalkForwardStatusResponse From(WalkForwardStatus s, WalkForwardSummary? summary)
    {
        ArgumentNullException.ThrowIfNull(s);
        var job = JsonSerializer.Deserialize<WalkForwardJob>(s.ConfigJson, Engine.Configuration.JsonDefaults.Options)!;
        using var config = JsonDocument.Parse(s.ConfigJson);
        return new(s.Id, s.Name, s.StateWord, s.Strategy, s.Method, new ObjectiveView(s.ObjectiveMetric, s.ObjectiveDirection),
            new WalkForwardSettingsView(job.Validation.InSample, job.Validation.OutOfSample, job.Validation.Step ?? job.Validation.OutOfSample,
                job.Validation.Anchored),
            s.CreatedAt, s.UpdatedAt, s.StartedAt, s.CompletedAt, s.ErrorMessage, s.Windows.Select(WalkForwardWindowItem.Of).ToList(), summary, s.History,
            config.RootElement.Clone());
    }
}
