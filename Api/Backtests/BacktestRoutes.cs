using System.Text.Json.Nodes;
using Backtesting.Api.Exports;
using Backtesting.Api.Hosting;
using Backtesting.Api.Realtime;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Backtests;

/// <summary>
/// The seed's backtest routes under <c>/api/v1/nautilus/backtest</c>, plus pause, resume and export: this file only maps
/// them (handlers: <see cref="BacktestHandlers"/>, contracts: <c>Contracts/</c>, examples: <see cref="BacktestExamples"/>,
/// export: <see cref="ExportRoutes"/>). The answers a handler gives are documented by its return type; what
/// authentication and <see cref="GrainErrorFilter"/> add is declared here.
/// </summary>
public static class BacktestRoutes
{
    public const string Prefix = Grains.Interfaces.BacktestLinks.Prefix;

    public static void MapBacktestRoutes(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value;
        // GrainErrorFilter answers 503 on any of them while the cluster is unreachable.
        var group = app.MapGroup(Prefix).WithTags("Backtests").RequireAuthorization().AddEndpointFilter<GrainErrorFilter>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/start", BacktestHandlers.Start)
            .WithSummary("Start a backtest")
            .WithDescription("Body: the BacktestConfig (docs/configuration.md) plus optional `priority` (low | normal | high | urgent) and `useCache` " +
                             "(default true: an identical config, data and engine completes at once from stored results). strategyClass names a template or one of " +
                             "your custom strategies (its latest version, or the one optional `strategyVersion` pins). Validated with the same " +
                             "rules as the worker; every error is returned keyed by its field and nothing is created. " +
                             $"At most {limits.StartsPerWindow} starts per {limits.StartWindow.TotalMinutes:G} minutes per user.")
            .Accepts<JsonObject>("application/json")
            .WithRequestExample(BacktestExamples.StartRequest)
            .WithExample(202, BacktestExamples.Started)
            .WithStandardErrors(401)
            .WithProblemExamples(400)
            .WithExample(429, BacktestExamples.TooManyStarts(limits.StartsPerWindow, limits.StartWindow));

        group.MapGet("/status/{id:guid}", BacktestHandlers.Status)
            .WithSummary("Get a backtest's status and progress")
            .WithExample(200, BacktestExamples.Status)
            .WithStandardErrors(401)
            .WithProblemExamples(404);

        group.MapPost("/cancel/{id:guid}", BacktestHandlers.Cancel)
            .WithSummary("Cancel a queued, running or paused backtest (partial results are kept)")
            .WithExample(200, BacktestExamples.Cancelled)
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);

        group.MapPost("/pause/{id:guid}", BacktestHandlers.Pause)
            .WithSummary("Pause a running backtest (it keeps its slot)")
            .WithExample(200, BacktestExamples.Paused)
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);

        group.MapPost("/resume/{id:guid}", BacktestHandlers.Resume)
            .WithSummary("Resume a paused backtest")
            .WithExample(200, BacktestExamples.Resumed)
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);

        group.MapGet("/results/{id:guid}", BacktestHandlers.GetResults)
            .WithName("GetResults")
            .WithSummary("Get a backtest's results")
            .WithDescription($"Metrics, summary, trades (paged: tradesPage, tradesPageSize up to {Contracts.Paging.MaxPageSize}), the equity curve and drawdown " +
                             "(equityPoints=N downsamples them to N points, keeping peaks and troughs), the benchmark, and monthly returns. " +
                             "409 while the backtest has no results yet.")
            .WithExample(200, BacktestExamples.Results)
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404, 409);

        group.MapGet("/list", BacktestHandlers.List)
            .WithSummary("List backtests")
            .WithDescription($"Pagination (page, pageSize up to {Contracts.Paging.MaxPageSize}), filters (status, strategy, from/to on the creation time) and sort " +
                             "(createdNewest | createdOldest | priorityHighest | strategyName | status). Users see their own backtests; admins see all.")
            .WithExample(200, BacktestExamples.List)
            .WithStandardErrors(401)
            .WithProblemExamples(400);

        group.MapDelete("/{id:guid}", BacktestHandlers.Delete)
            .WithSummary("Delete a backtest (cancelling it first when it runs) and all its stored rows")
            .WithStandardErrors(401)
            .WithProblemExamples(404);

        group.MapPost("/compare", BacktestHandlers.Compare)
            .WithSummary("Compare backtests")
            .WithDescription("Body: { ids: [at least two completed backtests], riskFreeRate }. Aligned curves, metric table with the best run per metric, " +
                             "correlations and a Sharpe difference test (Engine/Metrics/Comparison).")
            .WithRequestExample(BacktestExamples.CompareRequest)
            .WithExample(200, BacktestExamples.Comparison)
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404, 409);

        group.MapExportRoute();
    }
}
