using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests.Contracts;
using Backtesting.Api.Hosting;
using Backtesting.Api.Realtime;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Backtests;

/// <summary>The handlers of <see cref="BacktestRoutes"/>: each return type names every answer the handler gives.</summary>
public static class BacktestHandlers
{
    public static async Task<Results<Accepted<StartResponse>, InvalidProblem, TooManyRequestsProblem>> Start(HttpContext context,
        IClusterClient client, ApiKeyStore keys, IOptions<ApiOptions> options)
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
            if (versionNode.GetValueKind() != JsonValueKind.Number || !versionNode.AsValue().TryGetValue<int>(out var pinned)
                || ConfigValidator.StrategyVersion(pinned) is not null)
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

        var (id, status, refused) = await WithinStartLimitAsync(context, keys, options.Value,
            newId => client.GetGrain<IBacktestGrain>(newId).Submit(new BacktestSubmission(config, user.UserId, priority, useCache, strategyVersion)));
        return refused is not null ? refused : Started(id, status!);
    }

    /// <summary>202: the new backtest, its status and where to follow it.</summary>
    internal static Accepted<StartResponse> Started(Guid id, BacktestStatus status)
    {
        var statusUrl = BacktestLinks.Status(id);
        return TypedResults.Accepted(statusUrl, new StartResponse(id, StatusWords.Of(status.State), statusUrl, BacktestLinks.Results(id),
            WebSocketRoutes.ProgressUrl(id)));
    }

    /// <summary>
    /// Creates something within the user's start limit (backtests and optimizations count alike): reserves a start,
    /// submits on a fresh id, and records what it created; or refuses with 429 and Retry-After. When the submission
    /// throws (an invalid request) nothing was created and the reservation is released.
    /// </summary>
    internal static async Task<(Guid Id, T? Submitted, TooManyRequestsProblem? Refused)> WithinStartLimitAsync<T>(HttpContext context,
        ApiKeyStore keys, ApiOptions limits, Func<Guid, Task<T>> submit) where T : class
    {
        var user = context.User.ApiUser();
        var reservation = await keys.TryReserveStartAsync(user.UserId, limits.StartsPerWindow, limits.StartWindow, context.RequestAborted);
        if (!reservation.Allowed)
        {
            return (Guid.Empty, null, TooManyStarts(context, limits, reservation.RetryAfter));
        }

        var id = Guid.NewGuid();
        T submitted;
        try
        {
            submitted = await submit(id);
        }
        catch
        {
            // Nothing was created: the start does not count against the limit.
            await keys.ReleaseStartAsync(reservation.ReservationId!.Value, CancellationToken.None);
            throw;
        }

        await keys.AttachStartAsync(reservation.ReservationId!.Value, id, CancellationToken.None);
        return (id, submitted, null);
    }

    /// <summary>429: the user's start limit is reached (backtests and optimizations count alike); sets Retry-After.</summary>
    internal static TooManyRequestsProblem TooManyStarts(HttpContext context, ApiOptions limits, TimeSpan retryAfter)
    {
        var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return new TooManyRequestsProblem(Results.Problem(statusCode: 429, title: "Too many requests",
            detail: $"at most {limits.StartsPerWindow} backtest starts per {limits.StartWindow.TotalMinutes:G} minutes; retry in {seconds} s"));
    }

    public static async Task<Results<Ok<StatusResponse>, NotFoundProblem>> Status(Guid id, HttpContext context, IClusterClient client,
        BacktestAccess access)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return Problems.NotFound(id);
        }

        return TypedResults.Ok(StatusResponse.From(await client.GetGrain<IBacktestGrain>(id).GetStatus()));
    }

    public static Task<Results<Ok<StatusResponse>, NotFoundProblem>> Cancel(Guid id, HttpContext context, IClusterClient client,
        BacktestAccess access) =>
        Transition(id, context, access, () => client.GetGrain<IBacktestGrain>(id).Cancel());

    public static Task<Results<Ok<StatusResponse>, NotFoundProblem>> Pause(Guid id, HttpContext context, IClusterClient client,
        BacktestAccess access) =>
        Transition(id, context, access, () => client.GetGrain<IBacktestGrain>(id).Pause());

    public static Task<Results<Ok<StatusResponse>, NotFoundProblem>> Resume(Guid id, HttpContext context, IClusterClient client,
        BacktestAccess access) =>
        Transition(id, context, access, () => client.GetGrain<IBacktestGrain>(id).Resume());

    /// <summary>A lifecycle change; one the backtest's state does not allow is a 409 (<see cref="GrainErrorFilter"/>).</summary>
    private static async Task<Results<Ok<StatusResponse>, NotFoundProblem>> Transition(Guid id, HttpContext context, BacktestAccess access,
        Func<Task<BacktestStatus>> action)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return Problems.NotFound(id);
        }

        return TypedResults.Ok(StatusResponse.From(await action()));
    }

    public static async Task<Results<ResultsAnswer, InvalidProblem, NotFoundProblem, ConflictProblem>> GetResults(Guid id,
        [AsParameters] ResultsQuery query, HttpContext context, BacktestAccess access, ResultsCache results)
    {
        if (query.Errors() is { Count: > 0 } errors)
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
            return Problems.NoResultsYet(id, record.Status);
        }

        return new ResultsAnswer(ResultsView.Body(id, record.Status, stored, query.Page, query.PageSize, query.EquityPoints));
    }

    public static async Task<Results<Ok<ListResponse>, InvalidProblem>> List([AsParameters] ListQuery query, HttpContext context,
        IBacktestStore store)
    {
        var user = context.User.ApiUser();
        if (query.Errors() is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }

        var listed = await store.ListAsync(user.IsAdmin ? null : user.UserId, query.Status, query.Strategy, query.From, query.To, query.Order,
            query.Page ?? 1, query.PageSize ?? ListQuery.DefaultPageSize, context.RequestAborted);
        return TypedResults.Ok(new ListResponse(
            listed.Items.Select(r => new ListItem(r.Id, r.Status, r.Owner, r.StrategyName, r.StartDate, r.EndDate, r.CreatedAt, r.CompletedAt,
                r.Progress, r.Priority, r.ErrorMessage)).ToList(),
            listed.Page, listed.PageSize, listed.TotalCount));
    }

    public static async Task<Results<NoContent, NotFoundProblem>> Delete(Guid id, HttpContext context, IClusterClient client,
        BacktestAccess access, ResultsCache results)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return Problems.NotFound(id);
        }

        await client.GetGrain<IBacktestGrain>(id).Delete();
        results.Forget(id);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ComparisonResult>, InvalidProblem, NotFoundProblem, ConflictProblem>> Compare(
        [FromBody] CompareRequest request, HttpContext context, IClusterClient client, BacktestAccess access)
    {
        if (request.Ids is null || request.Ids.Count < CompareRequest.MinIds || request.Ids.Count > CompareRequest.MaxIds)
        {
            return Problems.Invalid("ids", "count", $"compare takes {CompareRequest.MinIds} to {CompareRequest.MaxIds} backtest ids");
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
                return new ConflictProblem(Problems.Conflict(id, state, $"backtest {id} is {StatusWords.Of(state)}; only completed backtests are compared"));
            }
        }

        var comparison = await client.GetGrain<IComparisonGrain>("compare").Compare(request.Ids, request.RiskFreeRate);
        return TypedResults.Ok(comparison);
    }
}
