using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Api.Auth;
using Backtesting.Api.Exports;
using Backtesting.Api.Hosting;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Backtests;

public sealed record StartResponse(Guid Id, string Status, string StatusUrl, string ResultsUrl, string ProgressUrl);

/// <summary>A backtest's status: the grain's snapshot, with the seed's lower-case status words.</summary>
public sealed record StatusResponse(
    Guid Id,
    string Status,
    string Owner,
    BacktestPriority Priority,
    string Strategy,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? CompletedAt,
    BacktestProgressData? Progress,
    BacktestErrorData? Error,
    CompletionSummary? Summary,
    bool FromCache,
    IReadOnlyList<RunAttempt> Attempts,
    IReadOnlyList<StateChange> History,
    string ResultsUrl,
    CustomStrategyRef? CustomStrategy)
{
    public static StatusResponse From(BacktestStatus s) => new(s.Id, StatusWords.Of(s.State), s.Owner, s.Priority, s.Strategy,
        s.CreatedAt, s.UpdatedAt, s.CompletedAt, s.Progress, s.Error, s.Summary, s.FromCache, s.Attempts, s.History,
        Realtime.Snapshot.ResultsUrl(s.Id), s.CustomStrategy);
}

public sealed record ListItem(
    Guid Id,
    string Status,
    string Owner,
    string Strategy,
    DateTime? StartDate,
    DateTime? EndDate,
    DateTime CreatedAt,
    DateTime? CompletedAt,
    double? Progress,
    int Priority,
    string? Error);

public sealed record ListResponse(IReadOnlyList<ListItem> Items, int Page, int PageSize, long TotalCount);

public sealed record CompareRequest(IReadOnlyList<Guid> Ids, double RiskFreeRate = 0);

/// <summary>The seed's backtest routes under <c>/api/v1/nautilus/backtest</c>, plus pause, resume and export.</summary>
public static class BacktestRoutes
{
    public const string Prefix = "/api/v1/nautilus/backtest";
    private const string ExampleId = "3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11";

    public static void MapBacktestRoutes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).WithTags("Backtests").RequireAuthorization().AddEndpointFilter<GrainErrorFilter>();

        group.MapPost("/start", Start)
            .WithSummary("Start a backtest")
            .WithDescription("Body: the BacktestConfig (docs/configuration.md) plus optional `priority` (low | normal | high | urgent) and `useCache` " +
                             "(default true: an identical config, data and engine completes at once from stored results). strategyClass names a template or one of " +
                             "your custom strategies (its latest version, or the one optional `strategyVersion` pins). Validated with the same " +
                             "rules as the worker; every error is returned keyed by its field and nothing is created. At most 10 starts per 5 minutes per user.")
            .Accepts<JsonObject>("application/json")
            .Produces<StartResponse>(202)
            .WithRequestExample("""{"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"startDate":"2019-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,"baseCurrency":"USD","priority":"normal"}""")
            .WithExample(202, $$"""{"id":"{{ExampleId}}","status":"queued","statusUrl":"/api/v1/nautilus/backtest/status/{{ExampleId}}","resultsUrl":"/api/v1/nautilus/backtest/results/{{ExampleId}}","progressUrl":"/ws/backtest/{{ExampleId}}/progress"}""")
            .WithStandardErrors(400, 401, 429);

        group.MapGet("/status/{id:guid}", Status)
            .WithSummary("Get a backtest's status and progress")
            .Produces<StatusResponse>()
            .WithExample(200, """{"id":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","status":"running","owner":"alice","priority":"normal","strategy":"MovingAverageCross","createdAt":"2025-01-02T10:00:00Z","updatedAt":"2025-01-02T10:00:01Z","completedAt":null,"progress":{"progress":{"percentage":42.5,"currentDate":"2019-11-04","processedBars":213,"totalBars":503,"estimatedTimeRemaining":0.4,"processingRate":520.0},"statistics":{"tradesExecuted":3,"currentBalance":104200.0,"unrealizedPnl":1250.0,"drawdown":0.031},"performance":{"memoryUsage":42.0,"cpuUsage":97.0,"diskIO":0.2}},"error":null,"summary":null,"fromCache":false,"attempts":[],"history":[],"resultsUrl":"/api/v1/nautilus/backtest/results/3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","customStrategy":null}""")
            .WithStandardErrors(401, 404);

        group.MapPost("/cancel/{id:guid}", (Guid id, HttpContext context, IClusterClient client, BacktestAccess access) =>
                Transition(id, context, access, () => client.GetGrain<IBacktestGrain>(id).Cancel()))
            .WithSummary("Cancel a queued, running or paused backtest (partial results are kept)")
            .Produces<StatusResponse>()
            .WithExample(200, $$"""{"id":"{{ExampleId}}","status":"cancelled"}""")
            .WithStandardErrors(401, 404, 409);

        group.MapPost("/pause/{id:guid}", (Guid id, HttpContext context, IClusterClient client, BacktestAccess access) =>
                Transition(id, context, access, () => client.GetGrain<IBacktestGrain>(id).Pause()))
            .WithSummary("Pause a running backtest (it keeps its slot)")
            .Produces<StatusResponse>()
            .WithExample(200, $$"""{"id":"{{ExampleId}}","status":"paused"}""")
            .WithStandardErrors(401, 404, 409);

        group.MapPost("/resume/{id:guid}", (Guid id, HttpContext context, IClusterClient client, BacktestAccess access) =>
                Transition(id, context, access, () => client.GetGrain<IBacktestGrain>(id).Resume()))
            .WithSummary("Resume a paused backtest")
            .Produces<StatusResponse>()
            .WithExample(200, $$"""{"id":"{{ExampleId}}","status":"running"}""")
            .WithStandardErrors(401, 404, 409);

        group.MapGet("/results/{id:guid}", GetResults)
            .WithName("GetResults")
            .WithSummary("Get a backtest's results")
            .WithDescription("Metrics, summary, trades (paged: tradesPage, tradesPageSize up to 1000), the equity curve and drawdown " +
                             "(equityPoints=N downsamples them to N points, keeping peaks and troughs), the benchmark, and monthly returns. " +
                             "409 while the backtest has no results yet.")
            .Produces<ResultsResponse>()
            .WithExample(200, $$"""{"id":"{{ExampleId}}","status":"completed","partial":false,"summary":{"strategy":"MovingAverageCross","instruments":["SPY.ARCA"],"startDate":"2019-01-02","endDate":"2020-12-31","baseCurrency":"USD","initialBalance":100000,"finalBalance":118734.2,"totalReturn":0.1873,"maxDrawdown":0.121,"totalTrades":7,"openPositions":1,"processedBars":505,"haltedAt":null},"metrics":{"totalReturn":0.1873,"sharpeRatio":0.81,"sortinoRatio":1.12,"maxDrawdown":0.121,"winRate":0.571},"equityCurve":[{"time":"2019-01-02T21:00:00Z","equity":100000,"cash":100000,"drawdown":0}],"drawdown":[{"time":"2019-01-02T21:00:00Z","drawdown":0}],"benchmark":{"instrument":"SPY.ARCA","totalReturn":0.452,"equityCurve":[{"date":"2019-01-02","equity":100000}]},"monthlyReturns":[{"year":2019,"month":1,"return":0.021}],"trades":{"items":[],"page":1,"pageSize":100,"totalCount":7},"perInstrument":[],"openPositions":[],"notes":[],"engineVersion":"0.1.0","contentHash":"…","equityPointsStored":505}""")
            .WithStandardErrors(400, 401, 404, 409);

        group.MapGet("/list", List)
            .WithSummary("List backtests")
            .WithDescription("Pagination (page, pageSize up to 1000), filters (status, strategy, from/to on the creation time) and sort " +
                             "(createdNewest | createdOldest | priorityHighest | strategyName | status). Users see their own backtests; admins see all.")
            .Produces<ListResponse>()
            .WithExample(200, $$"""{"items":[{"id":"{{ExampleId}}","status":"completed","owner":"alice","strategy":"MovingAverageCross","startDate":"2019-01-01T00:00:00Z","endDate":"2020-12-31T00:00:00Z","createdAt":"2025-01-02T10:00:00Z","completedAt":"2025-01-02T10:00:02Z","progress":100,"priority":1,"error":null}],"page":1,"pageSize":50,"totalCount":1}""")
            .WithStandardErrors(400, 401);

        group.MapDelete("/{id:guid}", Delete)
            .WithSummary("Delete a backtest (cancelling it first when it runs) and all its stored rows")
            .Produces(204)
            .WithStandardErrors(401, 404);

        group.MapPost("/compare", Compare)
            .WithSummary("Compare backtests")
            .WithDescription("Body: { ids: [at least two completed backtests], riskFreeRate }. Aligned curves, metric table with the best run per metric, " +
                             "correlations and a Sharpe difference test (Engine/Metrics/Comparison).")
            .Produces<ComparisonResult>()
            .WithRequestExample($$"""{"ids":["{{ExampleId}}","8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a"],"riskFreeRate":0.0}""")
            .WithExample(200, """{"runs":[{"id":"…","label":"MovingAverageCross SPY.ARCA 2019-01-02..2020-12-31","periodsPerYear":252,"dates":505,"datesLeftOut":0}],"metrics":[],"curves":{"dates":[],"series":[]},"correlation":{"values":[],"periods":0}}""")
            .WithStandardErrors(400, 401, 404, 409);

        group.MapGet("/export/{id:guid}", Export)
            .WithSummary("Export a backtest's results")
            .WithDescription("format=csv (part=trades | equity), xlsx (summary, metrics, trades, equity and monthly returns sheets), " +
                             "pdf (key metrics, equity and drawdown charts, monthly returns heatmap, trade summary) or json (the whole results document).")
            .Produces(200, contentType: "text/csv")
            .Produces(200, contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .Produces(200, contentType: "application/pdf")
            .Produces(200, contentType: "application/json")
            .WithStandardErrors(400, 401, 404, 409);
    }

    private static async Task<IResult> Start(HttpContext context, IClusterClient client, ApiKeyStore keys, IOptions<ApiOptions> options)
    {
        var user = context.User.ApiUser();
        string body;
        using (var reader = new StreamReader(context.Request.Body))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        JsonObject json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("the body must be a JSON object");
        }
        catch (JsonException e)
        {
            return Problems.Invalid("$", "json", "the body must be a JSON object (the BacktestConfig): " + e.Message);
        }

        var priority = BacktestPriority.Normal;
        if (json.Remove("priority", out var priorityNode) && priorityNode is not null)
        {
            var text = priorityNode.GetValueKind() == JsonValueKind.String ? priorityNode.GetValue<string>() : priorityNode.ToJsonString();
            if (!EnumWords.TryParse(text, out priority))
            {
                return Problems.Invalid("priority", "allowed", EnumWords.NotAllowed<BacktestPriority>(text));
            }
        }

        var useCache = true;
        if (json.Remove("useCache", out var cacheNode) && cacheNode is not null)
        {
            if (cacheNode.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                return Problems.Invalid("useCache", "type", "useCache must be true or false");
            }

            useCache = cacheNode.GetValue<bool>();
        }

        int? strategyVersion = null;
        if (json.Remove("strategyVersion", out var versionNode) && versionNode is not null)
        {
            if (versionNode.GetValueKind() != JsonValueKind.Number || !versionNode.AsValue().TryGetValue<int>(out var pinned) || pinned < 1)
            {
                return Problems.Invalid("strategyVersion", "type", "strategyVersion must be a whole number of at least 1 (a version of your custom strategy)");
            }

            strategyVersion = pinned;
        }

        var (config, parseErrors) = ConfigValidator.Parse(json.ToJsonString());
        if (config is null)
        {
            return Problems.Invalid(parseErrors);
        }

        var limits = options.Value;
        var reservation = await keys.TryReserveStartAsync(user.UserId, limits.StartsPerWindow, limits.StartWindow, context.RequestAborted);
        if (!reservation.Allowed)
        {
            var seconds = (int)Math.Ceiling(reservation.RetryAfter.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Problem(statusCode: 429, title: "Too many requests",
                detail: $"at most {limits.StartsPerWindow} backtest starts per {limits.StartWindow.TotalMinutes:G} minutes; retry in {seconds} s");
        }

        var id = Guid.NewGuid();
        BacktestStatus status;
        try
        {
            status = await client.GetGrain<IBacktestGrain>(id).Submit(new BacktestSubmission(config, user.UserId, priority, useCache, strategyVersion));
        }
        catch
        {
            // Nothing was created: the start does not count against the limit.
            await keys.ReleaseStartAsync(reservation.ReservationId!.Value, CancellationToken.None);
            throw;
        }

        await keys.AttachStartAsync(reservation.ReservationId!.Value, id, CancellationToken.None);
        var statusUrl = $"{Prefix}/status/{id}";
        return Results.Accepted(statusUrl, new StartResponse(id, StatusWords.Of(status.State), statusUrl, Realtime.Snapshot.ResultsUrl(id), $"/ws/backtest/{id}/progress"));
    }

    private static async Task<IResult> Status(Guid id, HttpContext context, IClusterClient client, BacktestAccess access)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return Problems.NotFound(id);
        }

        return Results.Ok(StatusResponse.From(await client.GetGrain<IBacktestGrain>(id).GetStatus()));
    }

    private static async Task<IResult> Transition(Guid id, HttpContext context, BacktestAccess access, Func<Task<BacktestStatus>> action)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return Problems.NotFound(id);
        }

        return Results.Ok(StatusResponse.From(await action()));
    }

    private static async Task<IResult> GetResults(Guid id, HttpContext context, BacktestAccess access, ResultsCache results,
        int? tradesPage, int? tradesPageSize, int? equityPoints)
    {
        var page = tradesPage ?? 1;
        var pageSize = tradesPageSize ?? 100;
        var errors = new List<Engine.Strategies.ValidationError>();
        if (page < 1)
        {
            errors.Add(new("tradesPage", "min", "tradesPage must be at least 1"));
        }

        if (pageSize is < 1 or > ResultsView.MaxTradesPageSize)
        {
            errors.Add(new("tradesPageSize", "range", $"tradesPageSize must be between 1 and {ResultsView.MaxTradesPageSize}"));
        }

        if (equityPoints is < 2 or > 1_000_000)
        {
            errors.Add(new("equityPoints", "range", "equityPoints must be between 2 and 1000000"));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return Problems.NotFound(id);
        }

        var stored = await results.GetStoredAsync(id, context.RequestAborted);
        if (stored is null)
        {
            return Results.Problem(statusCode: 409, title: "Conflict", detail: $"backtest {id} has no results yet (it is {record.Status})",
                extensions: new Dictionary<string, object?> { ["backtestId"] = id, ["currentState"] = record.Status });
        }

        return Results.Ok(ResultsView.Body(id, record.Status, stored, page, pageSize, equityPoints));
    }

    private static async Task<IResult> List(HttpContext context, IBacktestStore store, int? page, int? pageSize, string? status,
        string? strategy, DateTime? from, DateTime? to, string? sort)
    {
        var user = context.User.ApiUser();
        var errors = new List<Engine.Strategies.ValidationError>();
        if (page is < 1)
        {
            errors.Add(new("page", "min", "page must be at least 1"));
        }

        if (pageSize is < 1 or > 1000)
        {
            errors.Add(new("pageSize", "range", "pageSize must be between 1 and 1000"));
        }

        var order = BacktestSort.CreatedNewest;
        if (sort is not null && !EnumWords.TryParse(sort, out order))
        {
            errors.Add(new("sort", "allowed", EnumWords.NotAllowed<BacktestSort>(sort)));
        }

        if (status is not null && !StatusNames.Contains(status))
        {
            errors.Add(new("status", "allowed", $"'{status}' is not allowed: use one of {string.Join(", ", StatusNames)}"));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var listed = await store.ListAsync(user.IsAdmin ? null : user.UserId, status, strategy, from, to, order, page ?? 1, pageSize ?? 50,
            context.RequestAborted);
        return Results.Ok(new ListResponse(
            listed.Items.Select(r => new ListItem(r.Id, r.Status, r.Owner, r.StrategyName, r.StartDate, r.EndDate, r.CreatedAt, r.CompletedAt,
                r.Progress, r.Priority, r.ErrorMessage)).ToList(),
            listed.Page, listed.PageSize, listed.TotalCount));
    }

    private static readonly string[] StatusNames = Enum.GetValues<BacktestState>().Select(StatusWords.Of).ToArray();

    private static async Task<IResult> Delete(Guid id, HttpContext context, IClusterClient client, BacktestAccess access, ResultsCache results)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return Problems.NotFound(id);
        }

        await client.GetGrain<IBacktestGrain>(id).Delete();
        results.Forget(id);
        return Results.NoContent();
    }

    private static async Task<IResult> Compare([FromBody] CompareRequest request, HttpContext context, IClusterClient client, BacktestAccess access)
    {
        if (request.Ids is null || request.Ids.Count < 2 || request.Ids.Count > 20)
        {
            return Problems.Invalid("ids", "count", "compare takes 2 to 20 backtest ids");
        }

        if (request.Ids.Distinct().Count() != request.Ids.Count)
        {
            return Problems.Invalid("ids", "duplicate", "each backtest may be listed once");
        }

        if (ConfigValidator.RiskFreeRate(request.RiskFreeRate, "riskFreeRate") is { } rate)
        {
            return Problems.Invalid([rate]);
        }

        var user = context.User.ApiUser();
        foreach (var id in request.Ids)
        {
            var record = await access.FindAsync(id, user, context.RequestAborted);
            if (record is null)
            {
                return Problems.NotFound(id);
            }

            // The grain's state is the authority (the stored row follows it a moment later).
            var state = (await client.GetGrain<IBacktestGrain>(id).GetStatus()).State;
            if (state != BacktestState.Completed)
            {
                return Problems.Conflict(id, state, $"backtest {id} is {StatusWords.Of(state)}; only completed backtests are compared");
            }
        }

        var comparison = await client.GetGrain<IComparisonGrain>("compare").Compare(request.Ids, request.RiskFreeRate);
        return Results.Ok(comparison);
    }

    private static async Task<IResult> Export(Guid id, HttpContext context, BacktestAccess access, ResultsCache results, string? format, string? part)
    {
        var kind = (format ?? "json").ToLowerInvariant();
        if (kind is not ("csv" or "xlsx" or "pdf" or "json"))
        {
            return Problems.Invalid("format", "allowed", $"'{format}' is not allowed: use one of csv, xlsx, pdf, json");
        }

        var csvPart = (part ?? "trades").ToLowerInvariant();
        if (kind == "csv" && csvPart is not ("trades" or "equity"))
        {
            return Problems.Invalid("part", "allowed", $"'{part}' is not allowed: use trades or equity");
        }

        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return Problems.NotFound(id);
        }

        var result = await results.GetAsync(id, context.RequestAborted);
        if (result is null)
        {
            return Results.Problem(statusCode: 409, title: "Conflict", detail: $"backtest {id} has no results yet (it is {record.Status})",
                extensions: new Dictionary<string, object?> { ["backtestId"] = id, ["currentState"] = record.Status });
        }

        var name = $"backtest-{id:N}";
        return kind switch
        {
            "csv" => Results.File(csvPart == "equity" ? CsvExport.Equity(result) : CsvExport.Trades(result), "text/csv", $"{name}-{csvPart}.csv"),
            "xlsx" => Results.File(ExcelExport.Workbook(result), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", $"{name}.xlsx"),
            "pdf" => Results.File(PdfReport.Render(id, result), "application/pdf", $"{name}.pdf"),
            _ => Results.File(JsonSerializer.SerializeToUtf8Bytes(result, JsonDefaults.Indented), "application/json", $"{name}.json"),
        };
    }
}
