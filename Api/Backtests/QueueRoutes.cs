using Backtesting.Api.Auth;
using Backtesting.Grains.Interfaces;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Backtests;

public sealed record PriorityRequest(string Priority);

/// <summary>The queue: what waits and what runs, and changing a waiting backtest's priority.</summary>
public static class QueueRoutes
{
    public static void MapQueueRoutes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(BacktestRoutes.Prefix).WithTags("Queue").RequireAuthorization().AddEndpointFilter<GrainErrorFilter>();

        group.MapGet("/queue", async (HttpContext context, IClusterClient client) =>
            {
                var user = context.User.ApiUser();
                var snapshot = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
                return Results.Ok(user.IsAdmin
                    ? snapshot
                    : snapshot with
                    {
                        Queued = snapshot.Queued.Where(q => q.Owner == user.UserId).ToList(),
                        Running = snapshot.Running.Where(r => r.Owner == user.UserId).ToList(),
                    });
            })
            .WithSummary("The queue: waiting backtests in the order they will run (priority, then first come), running ones, and the limits")
            .WithDescription("Users see their own entries (positions stay cluster-wide); admins see all.")
            .Produces<QueueSnapshot>()
            .WithExample(200, """{"queued":[{"backtestId":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","owner":"alice","priority":"high","sequence":12,"enqueuedAt":"2025-01-02T10:00:00Z","position":1}],"running":[{"backtestId":"8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a","owner":"alice","priority":"normal","grantedAt":"2025-01-02T09:59:58Z","leaseExpiresAt":"2025-01-02T10:01:58Z","silo":"S127.0.0.1:11111:1"}],"limits":{"maxConcurrent":4,"maxConcurrentPerOwner":2}}""")
            .WithStandardErrors(401);

        group.MapPatch("/queue/{id:guid}", async (Guid id, [FromBody] PriorityRequest request, HttpContext context, IClusterClient client, BacktestAccess access) =>
            {
                if (!Enum.TryParse<BacktestPriority>(request.Priority, ignoreCase: true, out var priority) || !Enum.IsDefined(priority))
                {
                    return Problems.Invalid("priority", "allowed", $"'{request.Priority}' is not allowed: use one of low, normal, high, urgent");
                }

                if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
                {
                    return Problems.NotFound(id);
                }

                // Through the backtest grain: it keeps its own priority and its row in step with the queue. A backtest
                // that is not waiting answers 409 with its state (GrainErrorFilter).
                await client.GetGrain<IBacktestGrain>(id).ChangePriority(priority);
                var snapshot = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
                return Results.Ok(snapshot.Queued.First(q => q.BacktestId == id));
            })
            .WithSummary("Change a queued backtest's priority")
            .Produces<QueueEntry>()
            .WithRequestExample("""{"priority":"high"}""")
            .WithExample(200, """{"backtestId":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","owner":"alice","priority":"high","sequence":12,"enqueuedAt":"2025-01-02T10:00:00Z","position":1}""")
            .WithStandardErrors(400, 401, 404, 409);
    }
}
