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

/// <summary>
/// What <c>GET /walkforward/{id}/insample</c> answers for a completed job: per window that chose a trial, its in-sample
/// equity curve (the trial's stored daily returns compounded, rebased as <see cref="Scaling"/> says); a window whose
/// curve cannot be made is left out and named in <see cref="Notes"/>.
/// </summary>
public sealed record WalkForwardInSampleResponse(Guid Id, string Scaling, IReadOnlyList<WalkForwardInSampleWindow> Windows, IReadOnlyList<string> Notes)
{
    public const string ScalingText =
        "each window's in-sample curve compounds its chosen trial's daily returns and is rebased to end at the stitched out-of-sample " +
        "equity where that window's out-of-sample part begins (the job's initial balance before any stitched day): " +
        "equity(d_k) = anchor * G_k / G_n, G_k the growth (1 + r_1)...(1 + r_k)";
}

/// <summary>One window's in-sample curve: its chosen trial, its dates, the anchor it ends at, one point per day of the in-sample run.</summary>
public sealed record WalkForwardInSampleWindow(
    int Index,
    Guid OptimizationId,
    int Trial,
    DateOnly InSampleStart,
    DateOnly InSampleEnd,
    DateOnly OutOfSampleStart,
    double Anchor,
    IReadOnlyList<Engine.Results.DailyEquity> Equity);
