using Backtesting.Engine.Protocol;

namespace Backtesting.Storage;

/// <summary>
/// One row of <c>backtests</c>. Times are UTC (timestamptz keeps microseconds: finer ticks are dropped).
/// </summary>
/// <param name="Configuration">The run's configuration as JSON text (stored as jsonb, so read back normalized).</param>
/// <param name="Progress">Percent done, 0..100, two decimals.</param>
/// <param name="Priority">Queue priority: higher runs first.</param>
/// <param name="ContentHash">The engine's hash of config, data and engine version, when known.</param>
public sealed record BacktestRecord(
    Guid Id,
    string Owner,
    string StrategyName,
    string Configuration,
    DateTime? StartDate,
    DateTime? EndDate,
    string Status,
    DateTime CreatedAt,
    DateTime? CompletedAt,
    double? Progress,
    string? ErrorMessage,
    int Priority,
    string? ContentHash);

/// <summary>The statuses a backtest goes through, as stored: the lifecycle's words (<see cref="LifecycleWords"/>).</summary>
public static class StoredStatus
{
    public const string Created = LifecycleWords.Created;
    public const string Queued = LifecycleWords.Queued;
    public const string Starting = LifecycleWords.Starting;
    public const string Running = LifecycleWords.Running;
    public const string Paused = LifecycleWords.Paused;
    public const string Completed = LifecycleWords.Completed;
    public const string Failed = LifecycleWords.Failed;
    public const string Cancelled = LifecycleWords.Cancelled;
    public const string TimedOut = LifecycleWords.TimedOut;

    public static IReadOnlyList<string> Terminal => LifecycleWords.Terminal;

    public static bool IsTerminal(string status) => LifecycleWords.IsTerminal(status);
}

/// <summary>Orders of <see cref="IBacktestStore.ListAsync"/>; ties are broken by id so pages never overlap.</summary>
public enum BacktestSort
{
    CreatedNewest,
    CreatedOldest,
    PriorityHighest,
    StrategyName,
    Status,
}

/// <summary>One page of a listing, and how many backtests match in all.</summary>
/// <param name="Page">1-based.</param>
public sealed record BacktestPage(IReadOnlyList<BacktestRecord> Items, long TotalCount, int Page, int PageSize)
{
    /// <summary>The largest page the store returns, and so the largest a client may ask for.</summary>
    public const int MaxPageSize = 1000;
}

/// <summary>One row of <c>backtest_status_history</c>.</summary>
public sealed record StatusChange(string Status, DateTime At, string? Detail);
