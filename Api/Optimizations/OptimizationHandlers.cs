using System.Text.Json;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Backtests.Contracts;
using Backtesting.Api.Exports;
using Backtesting.Api.Hosting;
using Backtesting.Api.Optimizations.Contracts;
using Backtesting.Api.Robustness;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Optimizations;

/// <summary>The handlers of <see cref="OptimizationRoutes"/>: each return type names every answer the handler gives.</summary>
public static class OptimizationHandlers
{
    /// <summary>Trials read per round trip when every trial is needed (an export).</summary>
    private const int ReadBatch = 1000;

    public static async Task<Results<Accepted<OptimizationStartResponse>, InvalidProblem, TooManyRequestsProblem>> Start(HttpContext context,
        IClusterClient client, ApiKeyStore keys, IOptions<ApiOptions> options)
    {
        var (config, parseErrors) = OptimizationValidator.Parse(await ReadBodyAsync(context));
        if (config is null)
        {
            return Problems.Invalid(parseErrors);
        }

        // The grain validates (OptimizationValidationException: 400 with every error, the start released) and stores.
        var user = context.User.ApiUser();
        var (id, status, refused) = await BacktestHandlers.WithinStartLimitAsync(context, keys, options.Value,
            newId => client.GetGrain<IOptimizationGrain>(newId).Submit(new OptimizationSubmission(config, user.UserId)));
        if (refused is not null)
        {
            return refused;
        }

        var statusUrl = OptimizationRoutes.StatusUrl(id);
        return TypedResults.Accepted(statusUrl, new OptimizationStartResponse(id, status!.StateWord, status.Progress.TrialsPlanned, statusUrl));
    }

    public static async Task<Results<Ok<PlanResponse>, InvalidProblem>> Plan(HttpContext context, IClusterClient client)
    {
        var (config, parseErrors) = OptimizationValidator.Parse(await ReadBodyAsync(context));
        if (config is null)
        {
            return Problems.Invalid(parseErrors);
        }

        var planned = await client.GetGrain<IOptimizationPlannerGrain>(0).Plan(new OptimizationSubmission(config, context.User.ApiUser().UserId));
        return TypedResults.Ok(new PlanResponse(planned));
    }

    public static async Task<Results<Ok<OptimizationListResponse>, InvalidProblem>> List([AsParameters] OptimizationListQuery query,
        HttpContext context, PostgresOptimizationStore store)
    {
        if (query.Errors() is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }

        // The caller's own jobs, admins included (a dashboard lists what its user launched).
        var (records, total) = await store.ListAsync(context.User.ApiUser().UserId, query.Status, query.PageNumber, query.Size, context.RequestAborted);
        var tallies = await store.TalliesAsync(records.Select(r => r.Id).ToList(), context.RequestAborted);
        var items = records.Select(r =>
        {
            var job = JobSummary.Of(r.ConfigurationJson);
            var tally = tallies.GetValueOrDefault(r.Id);
            return new OptimizationListItem(r.Id, r.Name, r.Status, job.Strategy, job.Method, r.TrialsPlanned, tally?.Trials ?? 0,
                job.Maximize ? tally?.MaxObjective : tally?.MinObjective, r.CreatedAt, r.CompletedAt);
        }).ToList();
        return TypedResults.Ok(new OptimizationListResponse(items, total, query.PageNumber, query.Size));
    }

    public static async Task<Results<Ok<OptimizationStatusResponse>, NotFoundProblem>> Status(Guid id, HttpContext context, IClusterClient client,
        OptimizationAccess access)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return OptimizationProblems.NotFound(id);
        }

        return TypedResults.Ok(OptimizationStatusResponse.From(await client.GetGrain<IOptimizationGrain>(id).GetStatus()));
    }

    public static Task<Results<Ok<OptimizationStatusResponse>, NotFoundProblem>> Cancel(Guid id, HttpContext context, IClusterClient client,
        OptimizationAccess access) => Transition(id, context, access, () => client.GetGrain<IOptimizationGrain>(id).Cancel());

    public static Task<Results<Ok<OptimizationStatusResponse>, NotFoundProblem>> Pause(Guid id, HttpContext context, IClusterClient client,
        OptimizationAccess access) => Transition(id, context, access, () => client.GetGrain<IOptimizationGrain>(id).Pause());

    public static Task<Results<Ok<OptimizationStatusResponse>, NotFoundProblem>> Resume(Guid id, HttpContext context, IClusterClient client,
        OptimizationAccess access) => Transition(id, context, access, () => client.GetGrain<IOptimizationGrain>(id).Resume());

    /// <summary>A lifecycle move; one the job's state does not allow is a 409 (<see cref="OptimizationErrorFilter"/>).</summary>
    private static async Task<Results<Ok<OptimizationStatusResponse>, NotFoundProblem>> Transition(Guid id, HttpContext context,
        OptimizationAccess access, Func<Task<OptimizationStatus>> move)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return OptimizationProblems.NotFound(id);
        }

        return TypedResults.Ok(OptimizationStatusResponse.From(await move()));
    }

    public static async Task<Results<NoContent, NotFoundProblem>> Delete(Guid id, HttpContext context, IClusterClient client,
        OptimizationAccess access, OptimizationPlanner planner)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return OptimizationProblems.NotFound(id);
        }

        await client.GetGrain<IOptimizationGrain>(id).Delete();
        planner.Forget(id);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<TrialListResponse>, InvalidProblem, NotFoundProblem>> Trials(Guid id, [AsParameters] TrialsQuery query,
        HttpContext context, OptimizationAccess access, PostgresOptimizationStore store)
    {
        if (query.Errors() is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }

        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return OptimizationProblems.NotFound(id);
        }

        var page = await store.TrialsAsync(id, query.ToStoreQuery(JobSummary.Of(record.ConfigurationJson).Maximize), context.RequestAborted);
        return TypedResults.Ok(new TrialListResponse(page.Items.Select(TrialView).ToList(), page.TotalCount, query.PageNumber, query.Size));
    }

    public static async Task<Results<Ok<SurfaceResponse>, InvalidProblem, NotFoundProblem, ConflictProblem>> Surface(Guid id,
        [AsParameters] SurfaceQuery query, HttpContext context, OptimizationAccess access, OptimizationPlanner planner, PostgresOptimizationStore store)
    {
        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return OptimizationProblems.NotFound(id);
        }

        if (await planner.PlanOfAsync(record, context.RequestAborted) is not { } plan)
        {
            return OptimizationProblems.Unplannable(id);
        }

        var dimensions = plan.Space.Dimensions;
        if (query.Errors(dimensions.Select(d => d.Name).ToList()) is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }

        // The best of the objective's metric is the job's direction; any other metric's best is its highest value.
        var metric = query.Metric ?? plan.Rules.Objective.Metric;
        var maximize = metric != plan.Rules.Objective.Metric || plan.Rules.Objective.Maximize;
        var cells = await store.SurfaceAsync(id, query.X!, query.Y!, metric, maximize, context.RequestAborted);
        var views = cells.Select(c => new SurfaceCellView(Json(c.X), Json(c.Y), c.Best, c.Trials, c.FeasibleTrials)).ToList();
        return TypedResults.Ok(new SurfaceResponse(query.X!, query.Y!, metric,
            SurfaceAxis.Values(dimensions.First(d => d.Name == query.X), views.Select(c => c.X)),
            SurfaceAxis.Values(dimensions.First(d => d.Name == query.Y), views.Select(c => c.Y)),
            views));
    }

    public static async Task<Results<FileContentHttpResult, InvalidProblem, NotFoundProblem>> Export(Guid id, [AsParameters] TrialExportQuery query,
        HttpContext context, OptimizationAccess access, OptimizationPlanner planner, PostgresOptimizationStore store)
    {
        if (query.Error() is { } error)
        {
            return Problems.Invalid([error]);
        }

        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return OptimizationProblems.NotFound(id);
        }

        var trials = new List<TrialRow>();
        for (var page = 1; ; page++)
        {
            var read = await store.TrialsAsync(id, new TrialQuery(Descending: false, Page: page, PageSize: ReadBatch, ByTrialNumber: true),
                context.RequestAborted);
            trials.AddRange(read.Items);
            if (read.Items.Count < ReadBatch)
            {
                break;
            }
        }

        // The columns are the space's parameters in its order; a job that no longer plans keeps the names its trials hold.
        var parameters = (await planner.PlanOfAsync(record, context.RequestAborted))?.Space.Dimensions.Select(d => d.Name).ToList()
            ?? trials.SelectMany(t => JsonDocument.Parse(t.ParametersJson).RootElement.EnumerateObject().Select(p => p.Name)).Distinct().ToList();
        var name = $"optimization-{id:N}-trials";
        if (query.Kind == "csv")
        {
            return TypedResults.File(TrialExport.Csv(parameters, trials), "text/csv", $"{name}.csv");
        }

        // The workbook and the report carry the job's robustness statistics, computed as the robustness route does.
        var robustness = await OptimizationRobustness.ComputeAsync(store, record, new CscvOptions(), context.RequestAborted);
        if (query.Kind == "xlsx")
        {
            return TypedResults.File(TrialExport.Workbook(parameters, trials, robustness), ExportRoutes.XlsxContentType, $"{name}.xlsx");
        }

        var maximize = robustness.Direction != "minimize";
        var leading = trials.Where(t => t.Feasible && t.Objective is not null)
            .OrderBy(t => maximize ? -t.Objective!.Value : t.Objective!.Value).ThenBy(t => t.TrialNumber)
            .Take(OptimizationReport.LeadingTrials).ToList();
        return TypedResults.File(OptimizationReport.Render(record, robustness, leading), "application/pdf", $"optimization-{id:N}-report.pdf");
    }

    public static async Task<Results<Accepted<StartResponse>, NotFoundProblem, ConflictProblem, TooManyRequestsProblem>> OpenTrialAsBacktest(
        Guid id, int trial, HttpContext context, IClusterClient client, OptimizationAccess access, OptimizationPlanner planner,
        PostgresOptimizationStore store, ApiKeyStore keys, IOptions<ApiOptions> options)
    {
        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return OptimizationProblems.NotFound(id);
        }

        if (await store.TrialAsync(id, trial, context.RequestAborted) is not { } row)
        {
            return OptimizationProblems.TrialNotFound(id, trial);
        }

        if (!row.Feasible)
        {
            return OptimizationProblems.Infeasible(id, trial, row.InfeasibleReason);
        }

        if (await planner.PlanOfAsync(record, context.RequestAborted) is not { } plan)
        {
            return OptimizationProblems.Unplannable(id);
        }

        // Exactly the config the trial ran: the base config with the trial's parameters over its strategyConfig, and the
        // custom strategy version the job pinned. A backtest of the same content hash stored before is reused (the result cache).
        var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(row.ParametersJson, JsonDefaults.Options)!;
        var config = plan.TrialConfig(parameters);
        var priority = EnumWords.TryParse<BacktestPriority>(plan.Config.Priority, out var word) ? word : BacktestPriority.Normal;
        var user = context.User.ApiUser();
        var (backtestId, status, refused) = await BacktestHandlers.WithinStartLimitAsync(context, keys, options.Value,
            newId => client.GetGrain<IBacktestGrain>(newId).Submit(new BacktestSubmission(config, user.UserId, priority, UseCache: true, plan.Config.StrategyVersion)));
        return refused is not null ? refused : BacktestHandlers.Started(backtestId, status!);
    }

    internal static OptimizationTrialItem TrialView(TrialRow row) => OptimizationEvents.Item(row.TrialNumber, row.ParametersJson, row.MetricsJson,
        row.TotalTrades, row.Feasible, row.InfeasibleReason, row.Objective, row.ContentHash);

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }
}

/// <summary>What the list and the status need of a stored job's configuration, read without validating it again.</summary>
internal sealed record JobSummary(string Strategy, string Method, string Metric, bool Maximize)
{
    public static JobSummary Of(string configurationJson)
    {
        var (config, _) = OptimizationValidator.Parse(configurationJson);
        return config is null
            ? new JobSummary("", "", "", true)
            : new JobSummary(config.BaseConfig.StrategyClass, config.Method, config.Objective.Metric, config.Objective.Direction != "minimize");
    }
}

/// <summary>A surface's axis: the dimension's values in the space's order, or (a continuous range) the values trials had, ascending.</summary>
internal static class SurfaceAxis
{
    /// <summary>A discrete dimension larger than this is shown by the values its trials had.</summary>
    private const long MaxListed = 1000;

    public static IReadOnlyList<JsonElement> Values(Dimension dimension, IEnumerable<JsonElement> seen)
    {
        if (dimension.Count is { } count && count <= MaxListed)
        {
            return Enumerable.Range(0, (int)count).Select(i => dimension.ValueAt(i)).ToList();
        }

        // The store orders cells by value: the first appearance of each keeps that order.
        var keys = new HashSet<string>(StringComparer.Ordinal);
        return seen.Where(v => keys.Add(v.GetRawText())).OrderBy(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN)
            .ThenBy(v => v.GetRawText(), StringComparer.Ordinal).ToList();
    }
}
