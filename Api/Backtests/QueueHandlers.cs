using System.Text.Json;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests.Contracts;
using Backtesting.Engine.Configuration;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Backtests;

/// <summary>The handlers of <see cref="QueueRoutes"/>.</summary>
public static class QueueHandlers
{
    public static async Task<Ok<QueueResponse>> Get(HttpContext context, IClusterClient client, IBacktestStore store)
    {
        var user = context.User.ApiUser();
        var snapshot = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
        var queued = snapshot.Queued.Where(q => user.IsAdmin || q.Owner == user.UserId).ToList();
        var running = snapshot.Running.Where(r => user.IsAdmin || r.Owner == user.UserId).ToList();
        return TypedResults.Ok(await ViewAsync(client, store, queued, running, snapshot.Limits, context.RequestAborted));
    }

    /// <summary>A backtest that is not waiting answers 409 with its state (<see cref="GrainErrorFilter"/>).</summary>
    public static async Task<Results<Ok<QueueItem>, InvalidProblem, NotFoundProblem>> ChangePriority(Guid id, [FromBody] PriorityRequest request,
        HttpContext context, IClusterClient client, BacktestAccess access, IBacktestStore store)
    {
        if (!EnumWords.TryParse<BacktestPriority>(request.Priority, out var priority))
        {
            return Problems.Invalid("priority", "allowed", EnumWords.NotAllowed<BacktestPriority>(request.Priority));
        }

        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return Problems.NotFound(id);
        }

        // Through the backtest grain: it keeps its own priority and its row in step with the queue.
        await client.GetGrain<IBacktestGrain>(id).ChangePriority(priority);
        var snapshot = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
        var view = await ViewAsync(client, store, snapshot.Queued.Where(q => q.BacktestId == id).ToList(), [], snapshot.Limits,
            context.RequestAborted);
        return TypedResults.Ok(view.Queued.Single());
    }

    /// <summary>
    /// Completes the queue's entries: one query for the stored rows of all of them (strategy, instruments, submission
    /// time), and the grain's status of each slot holder only (at most the concurrency limit) for state and progress.
    /// </summary>
    private static async Task<QueueResponse> ViewAsync(IClusterClient client, IBacktestStore store, IReadOnlyList<QueueEntry> queued,
        IReadOnlyList<RunningEntry> running, QueueLimits limits, CancellationToken cancellationToken)
    {
        var records = (await store.GetManyAsync(queued.Select(q => q.BacktestId).Concat(running.Select(r => r.BacktestId)).ToList(), cancellationToken))
            .ToDictionary(r => r.Id);
        var statuses = await Task.WhenAll(running.Select(r => client.GetGrain<IBacktestGrain>(r.BacktestId).GetStatus()));

        var waiting = new List<QueueItem>(queued.Count);
        foreach (var entry in queued)
        {
            // A row deleted between the two reads is no longer in the queue for the caller either.
            if (records.TryGetValue(entry.BacktestId, out var record))
            {
                waiting.Add(new QueueItem(entry.BacktestId, entry.BacktestId, entry.Position, entry.Priority, StatusWords.Of(BacktestState.Queued),
                    entry.Owner, record.StrategyName, Instruments(record), record.CreatedAt, entry.EnqueuedAt, entry.Sequence, null, null, null, null));
            }
        }

        var holding = new List<QueueItem>(running.Count);
        foreach (var (entry, status) in running.Zip(statuses))
        {
            var instruments = records.TryGetValue(entry.BacktestId, out var record) ? Instruments(record) : [];
            var queuedAt = status.History.LastOrDefault(h => h.State == BacktestState.Queued)?.LastAt;
            holding.Add(new QueueItem(entry.BacktestId, entry.BacktestId, null, entry.Priority, StatusWords.Of(status.State), entry.Owner,
                status.Strategy, instruments, status.CreatedAt, queuedAt, null, entry.GrantedAt, entry.LeaseExpiresAt, entry.Silo, status.Progress));
        }

        return new QueueResponse(waiting, holding, limits);
    }

    /// <summary>The instruments as the caller submitted them (the stored configuration).</summary>
    private static IReadOnlyList<string> Instruments(BacktestRecord record)
    {
        using var document = JsonDocument.Parse(record.Configuration);
        return document.RootElement.ValueKind == JsonValueKind.Object
               && document.RootElement.TryGetProperty("instruments", out var instruments) && instruments.ValueKind == JsonValueKind.Array
            ? instruments.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!).ToList()
            : [];
    }
}
