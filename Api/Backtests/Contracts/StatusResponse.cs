using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Backtests.Contracts;

/// <summary>A backtest's status: the grain's snapshot, with the seed's lower-case status words.</summary>
public sealed record StatusResponse(
    Guid Id,
    string Status,
    string Owner,
    BacktestPriority Priority,
    string Strategy,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? CompletedAt,
    BacktestProgressData? Progress,
    BacktestErrorData? Error,
    CompletionSummary? Summary,
    bool FromCache,
    IReadOnlyList<RunAttempt> Attempts,
    IReadOnlyList<StateChange> History,
    string ResultsUrl,
    CustomStrategyRef? CustomStrategy)
{
    public static StatusResponse From(BacktestStatus s) => new(s.Id, StatusWords.Of(s.State), s.Owner, s.Priority, s.Strategy,
        s.CreatedAt, s.UpdatedAt, s.CompletedAt, s.Progress, s.Error, s.Summary, s.FromCache, s.Attempts, s.History,
        BacktestLinks.Results(s.Id), s.CustomStrategy);
}
