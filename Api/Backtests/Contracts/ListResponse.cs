namespace Backtesting.Api.Backtests.Contracts;

/// <summary>One backtest in <c>GET /list</c>: its stored row.</summary>
public sealed record ListItem(
    Guid Id,
    string Status,
    string Owner,
    string Strategy,
    DateTime? StartDate,
    DateTime? EndDate,
    DateTime CreatedAt,
    DateTime? CompletedAt,
    double? Progress,
    int Priority,
    string? Error);

/// <summary>What <c>GET /list</c> answers: one page of backtests and how many match in all.</summary>
public sealed record ListResponse(IReadOnlyList<ListItem> Items, int Page, int PageSize, long TotalCount);
