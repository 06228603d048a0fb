using System.Text.Json.Nodes;
using Backtesting.Api.Backtests;
using Backtesting.Api.Backtests.Contracts;
using Backtesting.Api.Exports;
using Backtesting.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Optimizations;

/// <summary>
/// The optimization routes under <c>/api/v1/optimizations</c> (issue 15; docs/optimization.md): this file only maps
/// them (handlers: <see cref="OptimizationHandlers"/>, contracts: <c>Contracts/</c>, examples: <see cref="OptimizationExamples"/>).
/// </summary>
public static class OptimizationRoutes
{
    public const string Prefix = "/api/v1/optimizations";

    public static string StatusUrl(Guid id) => $"{Prefix}/{id}";

    public static void MapOptimizationRoutes(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value;
        var group = app.MapGroup(Prefix).WithTags("Optimizations").RequireAuthorization().AddEndpointFilter<OptimizationErrorFilter>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/", OptimizationHandlers.Start)
            .WithSummary("Start an optimization (a parameter search over one backtest)")
            .WithDescription("Body: {name, baseConfig, parameters, method, maxTrials, objective:{metric,direction}, constraints:[{metric,op,value}], target, seed, " +
                             "priority} (docs/optimization.md). Validated with the engine's rules; every error is returned keyed by its field " +
                             "(e.g. parameters.slowPeriod.max) and nothing is created. Counts as one start against the user's limit " +
                             $"({limits.StartsPerWindow} per {limits.StartWindow.TotalMinutes:G} minutes).")
            .Accepts<JsonObject>("application/json")
            .WithRequestExample(OptimizationExamples.StartRequest)
            .WithExample(202, OptimizationExamples.Started)
            .WithStandardErrors(401)
            .WithProblemExamples(400);

        group.MapPost("/plan", OptimizationHandlers.Plan)
            .WithSummary("Plan an optimization: its trial count, or every error (nothing is stored)")
            .Accepts<JsonObject>("application/json")
            .WithRequestExample(OptimizationExamples.StartRequest)
            .WithExample(200, """{"trialsPlanned":2500}""")
            .WithStandardErrors(401)
            .WithProblemExamples(400);

        group.MapGet("/", OptimizationHandlers.List)
            .WithSummary("List your optimizations, newest first")
            .WithDescription($"status filters by state; page and pageSize (up to {Paging.MaxPageSize}).")
            .WithStandardErrors(401)
            .WithProblemExamples(400);

        group.MapGet("/{id:guid}", OptimizationHandlers.Status)
            .WithName("GetOptimization")
            .WithSummary("Get an optimization's status: progress, trials per second, the best trial so far, batches and the accepted job")
            .WithStandardErrors(401)
            .WithProblemExamples(404);

        group.MapGet("/{id:guid}/trials", OptimizationHandlers.Trials)
            .WithSummary("A page of an optimization's trials")
            .WithDescription("sort: [-]<metric>, [-]objective or [-]trial (a leading minus sorts descending; default: best objective first); " +
                             $"feasible=true|false filters; page and pageSize (up to {Paging.MaxPageSize}).")
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404);

        group.MapGet("/{id:guid}/surface", OptimizationHandlers.Surface)
            .WithSummary("A metric over two parameters, for a heatmap")
            .WithDescription("x and y: two parameters of the job; metric: any metric (default the objective's). Each cell holds the best value " +
                             "over its feasible trials (in the job's direction for the objective's metric, else the highest) and its trial counts.")
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404, 409);

        group.MapGet("/{id:guid}/trials/export", OptimizationHandlers.Export)
            .WithSummary("Export the job: every trial (one row each, its parameters and every metric as columns) and its robustness")
            .WithDescription("format=csv (default: the trials), xlsx (sheets Trials, Robustness and Logits: the robustness route's statistics " +
                             "with the default CSCV settings) or pdf (a one-page report: the best trial, the robustness statistics with the " +
                             "histogram of the CSCV logits, and the leading trials).")
            .Produces(200, contentType: "text/csv")
            .Produces(200, contentType: ExportRoutes.XlsxContentType)
            .Produces(200, contentType: "application/pdf")
            .AddEndpointFilter<Robustness.ComputeGateFilter>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404);

        // {trial} without a constraint: a trial that is not a whole number is a 400 naming it, not a 404.
        group.MapPost("/{id:guid}/trials/{trial}/backtest", OptimizationHandlers.OpenTrialAsBacktest)
            .WithSummary("Open a trial as an ordinary backtest: exactly its config (the base config with the trial's parameters)")
            .WithExample(202, BacktestExamples.Started)
            .WithStandardErrors(401)
            .WithProblemExamples(404, 409, 429);

        group.MapPost("/{id:guid}/cancel", OptimizationHandlers.Cancel)
            .WithSummary("Cancel a queued, running or paused optimization (its stored trials are kept)")
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);

        group.MapPost("/{id:guid}/pause", OptimizationHandlers.Pause)
            .WithSummary("Pause an optimization (the running batch finishes; no new batch starts)")
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);

        group.MapPost("/{id:guid}/resume", OptimizationHandlers.Resume)
            .WithSummary("Resume a paused optimization")
            .WithStandardErrors(401, 409)
            .WithProblemExamples(404);

        group.MapDelete("/{id:guid}", OptimizationHandlers.Delete)
            .WithSummary("Delete an optimization (cancelling it first when needed) and its trials")
            .WithStandardErrors(401)
            .WithProblemExamples(404);
    }
}
