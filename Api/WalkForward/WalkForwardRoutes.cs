using System.Text.Json.Nodes;
using Backtesting.Api.Backtests;
using Backtesting.Api.Backtests.Contracts;
using Backtesting.Api.Hosting;
using Backtesting.Api.WalkForward.Contracts;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.WalkForward;

/// <summary>
/// The walk-forward routes under <c>/api/v1/walkforward</c> (issue 16 §2; docs/robustness.md): this file only maps
/// them (handlers: <see cref="WalkForwardHandlers"/>, contracts: <c>Contracts/</c>).
/// </summary>
public static class WalkForwardRoutes
{
    public const string Prefix = "/api/v1/walkforward";

    public static string StatusUrl(Guid id) => $"{Prefix}/{id}";

    /// <remarks>As the optimization's example: every value is one the job needs exactly so (a fuzz test makes each hostile
    /// in turn), so the seed (any whole number) is documented in docs/api.md instead.</remarks>
    private const string StartRequest = """
        {"name":"MA cross walk-forward","baseConfig":{"strategyClass":"MovingAverageCross","strategyConfig":{"maType":"SMA"},
         "startDate":"2016-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000},
         "parameters":{"fastPeriod":{"min":5,"max":50,"step":5},"slowPeriod":{"min":60,"max":200,"step":20}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"},
         "validation":{"inSample":"2y","outOfSample":"6m","step":"6m","anchored":false}}
        """;

    public static void MapWalkForwardRoutes(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value;
        var group = app.MapGroup(Prefix).WithTags("Walk-forward").RequireAuthorization().AddEndpointFilter<WalkForwardErrorFilter>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/", WalkForwardHandlers.Start)
            .WithSummary("Start a walk-forward analysis: an in-sample optimization per window, its best feasible trial run out of sample, stitched")
            .WithDescription("Body: an optimization's body (docs/optimization.md) whose baseConfig spans the whole analysis, plus " +
                             "validation:{inSample, outOfSample, step, anchored} with lengths like 1y, 6m, 2w or 30d (docs/robustness.md). " +
                             "Every error is returned keyed by its field (validation.inSample, parameters.fastPeriod.max, " +
                             "validation.windows[2].baseConfig.endDate) and nothing is created. Counts as one start against the user's limit " +
                             $"({limits.StartsPerWindow} per {limits.StartWindow.TotalMinutes:G} minutes).")
            .Accepts<JsonObject>("application/json")
            .WithRequestExample(StartRequest)
            .WithExample(202, """{"id":"6f1c0f0e-8d7e-4d0b-9a51-3f0b6c2d7e11","status":"queued","windowsPlanned":6,"statusUrl":"/api/v1/walkforward/6f1c0f0e-8d7e-4d0b-9a51-3f0b6c2d7e11"}""")
            .WithStandardErrors(401)
            .WithProblemExamples(400);

        group.MapGet("/", WalkForwardHandlers.List)
            .WithSummary("List your walk-forward analyses, newest first")
            .WithDescription($"status filters by state; page and pageSize (up to {Paging.MaxPageSize}).")
            .WithStandardErrors(401)
            .WithProblemExamples(400);

        group.MapGet("/{id:guid}", WalkForwardHandlers.Status)
            .WithSummary("A walk-forward analysis: its windows (dates, chosen parameters, in- and out-of-sample metrics) and, once complete, " +
                         "the stitched out-of-sample curve with its metrics, efficiency, t-statistic and parameter drift")
            .WithStandardErrors(401)
            .WithProblemExamples(404);

        group.MapGet("/{id:guid}/insample", WalkForwardHandlers.InSample)
            .WithSummary("A completed walk-forward analysis's in-sample curves: per window, the chosen trial's stored daily returns compounded " +
                         "and rebased to end where the stitched out-of-sample curve begins that window's out-of-sample part (docs/robustness.md)")
            .AddEndpointFilter<Robustness.ComputeGateFilter>()
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);

        group.MapPost("/{id:guid}/cancel", WalkForwardHandlers.Cancel)
            .WithSummary("Cancel a walk-forward analysis and its children that still run")
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);
    }
}
