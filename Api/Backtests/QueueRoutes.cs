namespace Backtesting.Api.Backtests;

/// <summary>
/// The queue: what waits and what runs, and changing a waiting backtest's priority. This file only maps the routes
/// (handlers: <see cref="QueueHandlers"/>, contracts: <c>Contracts/QueueContracts.cs</c>, examples: <see cref="QueueExamples"/>).
/// </summary>
public static class QueueRoutes
{
    public static void MapQueueRoutes(this IEndpointRouteBuilder app)
    {
        // GrainErrorFilter answers 503 on either while the cluster is unreachable.
        var group = app.MapGroup(BacktestRoutes.Prefix).WithTags("Queue").RequireAuthorization().AddEndpointFilter<GrainErrorFilter>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapGet("/queue", QueueHandlers.Get)
            .WithSummary("The queue: running backtests, waiting ones in the order they will run (priority, then first come), and the limits")
            .WithDescription("Each entry carries its id, position, priority, state, owner, strategy, instruments, submittedAt and queuedAt, " +
                             "and for running ones the live progress, so a client needs no /status call per entry. Users see their own " +
                             "entries (positions stay cluster-wide); admins see all.")
            .WithExample(200, QueueExamples.Queue)
            .WithStandardErrors(401);

        group.MapPatch("/queue/{id:guid}", QueueHandlers.ChangePriority)
            .WithSummary("Change a queued backtest's priority")
            .WithDescription("Answers the entry as GET /queue shows it, at its new position.")
            .WithRequestExample(QueueExamples.PriorityRequest)
            .WithExample(200, QueueExamples.Item)
            .WithStandardErrors(401, 409)
            .WithProblemExamples(400, 404);
    }
}
