using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Backtests.Contracts;

/// <summary>The body of <c>PATCH /queue/{id}</c>: the new priority (low | normal | high | urgent).</summary>
public sealed record PriorityRequest(string Priority);

/// <summary>
/// One waiting or running backtest, with what a client shows for it, so it need not ask <c>/status</c> per entry.
/// </summary>
/// <param name="BacktestId">The same as <paramref name="Id"/> (the queue's earlier name for it).</param>
/// <param name="Position">1-based place among the waiting, cluster-wide; null once it holds a slot.</param>
/// <param name="State">queued, or for a slot holder starting, running or paused.</param>
/// <param name="SubmittedAt">When the backtest was created.</param>
/// <param name="QueuedAt">When it (last) entered the queue.</param>
/// <param name="Sequence">First-come order within a priority (waiting entries).</param>
/// <param name="Silo">The silo running it (slot holders).</param>
/// <param name="Progress">The live progress, in the seed's shape (slot holders).</param>
public sealed record QueueItem(
    Guid Id,
    Guid BacktestId,
    int? Position,
    BacktestPriority Priority,
    string State,
    string Owner,
    string Strategy,
    IReadOnlyList<string> Instruments,
    DateTime SubmittedAt,
    DateTime? QueuedAt,
    long? Sequence,
    DateTime? GrantedAt,
    DateTime? LeaseExpiresAt,
    string? Silo,
    BacktestProgressData? Progress);

/// <summary>What <c>GET /queue</c> answers: the running backtests, the waiting ones in the order they will run, and the limits.</summary>
public sealed record QueueResponse(IReadOnlyList<QueueItem> Queued, IReadOnlyList<QueueItem> Running, QueueLimits Limits);
