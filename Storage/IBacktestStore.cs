using Backtesting.Engine.Results;

namespace Backtesting.Storage;

/// <summary>
/// Where backtests, their status and their results live. Every write is safe to repeat (Orleans may deliver
/// a reminder tick or a call twice): creating an existing backtest or saving the same results again changes
/// nothing.
/// </summary>
public interface IBacktestStore
{
    /// <summary>Inserts the backtest unless its id exists; records the first status in the history.</summary>
    /// <returns>True when it was created now, false when a backtest with that id already existed.</returns>
    Task<bool> CreateAsync(BacktestRecord record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the status. A null <paramref name="progress"/>, <paramref name="error"/> or
    /// <paramref name="completedAt"/> leaves that column as it is; a terminal status without
    /// <paramref name="completedAt"/> gets the current time when none was set before. A history row is
    /// appended when the status changes or a <paramref name="detail"/> is given (plain progress updates
    /// do not grow the history). A terminal status is final: a later update to another status changes
    /// nothing (not even progress or error), whoever sends it late.
    /// </summary>
    /// <param name="progress">Percent, 0..100.</param>
    /// <returns>False when there is no such backtest.</returns>
    Task<bool> UpdateStatusAsync(Guid id, string status, double? progress, string? error, DateTime? completedAt, string? detail,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a run's results in one transaction, replacing any results saved before for this backtest, so
    /// saving twice leaves exactly one copy. Trade prices and amounts are stored with 8 decimals.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such backtest.</exception>
    Task SaveResultsAsync(Guid id, BacktestResult result, CancellationToken cancellationToken = default);

    Task<BacktestRecord?> GetAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>The rows of these backtests in one query (ids with no row are left out; order not kept).</summary>
    Task<IReadOnlyList<BacktestRecord>> GetManyAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken = default);

    /// <summary>Reassembles the saved results, or null when none were saved.</summary>
    Task<BacktestResult?> GetResultAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The most recently completed backtest with this content hash that has results, if any; with
    /// <paramref name="owner"/>, only among that owner's backtests.
    /// </summary>
    Task<BacktestRecord?> FindCompletedByContentHashAsync(string contentHash, string? owner = null, CancellationToken cancellationToken = default);

    /// <summary>Stores the latest checkpoint (JSON), replacing the previous one.</summary>
    /// <exception cref="KeyNotFoundException">No such backtest.</exception>
    Task SaveCheckpointAsync(Guid id, string json, CancellationToken cancellationToken = default);

    /// <summary>The latest checkpoint as JSON (normalized by jsonb: same content, maybe other spacing and key order).</summary>
    Task<string?> LoadCheckpointAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Sets the queue priority (higher runs first).</summary>
    /// <returns>False when there is no such backtest.</returns>
    Task<bool> UpdatePriorityAsync(Guid id, int priority, CancellationToken cancellationToken = default);

    /// <summary>Removes the backtest and every row that belongs to it, in one transaction.</summary>
    /// <returns>False when there was no such backtest.</returns>
    Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of backtests matching every filter given (null = any). <paramref name="from"/> and
    /// <paramref name="to"/> bound the creation time: from ≤ created_at &lt; to.
    /// </summary>
    /// <param name="page">1-based.</param>
    /// <param name="pageSize">1..<see cref="BacktestPage.MaxPageSize"/>.</param>
    Task<BacktestPage> ListAsync(string? owner, string? status, string? strategy, DateTime? from, DateTime? to,
        BacktestSort sort, int page, int pageSize, CancellationToken cancellationToken = default);

    /// <summary>The status history of a backtest, oldest first.</summary>
    Task<IReadOnlyList<StatusChange>> GetStatusHistoryAsync(Guid id, CancellationToken cancellationToken = default);
}
