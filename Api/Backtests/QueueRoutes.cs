using System.Text.Json;
using Backtesting.Api.Auth;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Backtests;

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

/// <summary>The queue: what waits and what runs, and changing a waiting backtest's priority.</summary>
public static class QueueRoutes
{
    private const string ItemExample = """{"id":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","backtestId":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","position":1,"priority":"high","state":"queued","owner":"alice","strategy":"MovingAverageCross","instruments":["SPY"],"submittedAt":"2025-01-02T10:00:00Z","queuedAt":"2025-01-02T10:00:00Z","sequence":12,"grantedAt":null,"leaseExpiresAt":null,"silo":null,"progress":null}""";

    public static void MapQueueRoutes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(BacktestRoutes.Prefix).WithTags("Queue").RequireAuthorization().AddEndpointFilter<GrainErrorFilter>();

        group.MapGet("/queue", async (HttpContext context, IClusterClient client, IBacktestStore store) =>
            {
                var user = context.User.ApiUser();
                var snapshot = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
                var queued = snapshot.Queued.Where(q => user.IsAdmin || q.Owner == user.UserId).ToList();
                var running = snapshot.Running.Where(r => user.IsAdmin || r.Owner == user.UserId).ToList();
                return Results.Ok(await ViewAsync(client, store, queued, running, snapshot.Limits, context.RequestAborted));
            })
            .WithSummary("The queue: running backtests, waiting ones in the order they will run (priority, then first come), and the limits")
            .WithDescription("Each entry carries its id, position, priority, state, owner, strategy, instruments, submittedAt and queuedAt, " +
                             "and for running ones the live progress, so a client needs no /status call per entry. Users see their own " +
                             "entries (positions stay cluster-wide); admins see all.")
            .Produces<QueueResponse>()
            .WithExample(200, """{"queued":[""" + ItemExample + """],"running":[{"id":"8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a","backtestId":"8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a","position":null,"priority":"normal","state":"running","owner":"alice","strategy":"RsiMeanReversion","instruments":["SPY","QQQ"],"submittedAt":"2025-01-02T09:59:57Z","queuedAt":"2025-01-02T09:59:57Z","sequence":null,"grantedAt":"2025-01-02T09:59:58Z","leaseExpiresAt":"2025-01-02T10:01:58Z","silo":"S127.0.0.1:11111:1","progress":{"progress":{"percentage":42.5,"currentDate":"2019-11-04","processedBars":213,"totalBars":503,"estimatedTimeRemaining":0.4,"processingRate":520.0},"statistics":{"tradesExecuted":3,"currentBalance":104200.0,"unrealizedPnl":1250.0,"drawdown":0.031},"performance":{"memoryUsage":42.0,"cpuUsage":97.0,"diskIO":0.2}}}],"limits":{"maxConcurrent":4,"maxConcurrentPerOwner":2}}""")
            .WithStandardErrors(401);

        group.MapPatch("/queue/{id:guid}", async (Guid id, [FromBody] PriorityRequest request, HttpContext context, IClusterClient client,
                BacktestAccess access, IBacktestStore store) =>
            {
                if (!EnumWords.TryParse<BacktestPriority>(request.Priority, out var priority))
                {
                    return Problems.Invalid("priority", "allowed", EnumWords.NotAllowed<BacktestPriority>(request.Priority));
                }

                if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
                {
                    return Problems.NotFound(id);
                }

                // Through the backtest grain: it keeps its own priority and its row in step with the queue. A backtest
                // that is not waiting answers 409 with its state (GrainErrorFilter).
                await client.GetGrain<IBacktestGrain>(id).ChangePriority(priority);
                var snapshot = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
                var view = await ViewAsync(client, store, snapshot.Queued.Where(q => q.BacktestId == id).ToList(), [], snapshot.Limits,
                    context.RequestAborted);
                return Results.Ok(view.Queued.Single());
            })
            .WithSummary("Change a queued backtest's priority")
            .WithDescription("Answers the entry as GET /queue shows it, at its new position.")
            .Produces<QueueItem>()
            .WithRequestExample("""{"priority":"high"}""")
            .WithExample(200, ItemExample)
            .WithStandardErrors(400, 401, 404, 409);
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
            var queuedAt = status.History.LastOrDefault(h => h.State == BacktestState.Queued)?.At;
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
