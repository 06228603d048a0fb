using System.Text.Json;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Hosting;
using Backtesting.Api.Optimizations.Contracts;
using Backtesting.Api.WalkForward.Contracts;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Robustness;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.WalkForward;

/// <summary>The handlers of <see cref="WalkForwardRoutes"/>: each return type names every answer the handler gives.</summary>
public static class WalkForwardHandlers
{
    public static NotFoundProblem NotFound(Guid id) =>
        new(Results.Problem(statusCode: 404, title: "Not found", detail: $"walk-forward {id} not found"));

    public static async Task<Results<Accepted<WalkForwardStartResponse>, InvalidProblem, TooManyRequestsProblem>> Start(HttpContext context,
        IClusterClient client, ApiKeyStore keys, IOptions<ApiOptions> options)
    {
        using var reader = new StreamReader(context.Request.Body);
        var (job, parseErrors) = WalkForwardJobRules.Parse(await reader.ReadToEndAsync(context.RequestAborted));
        if (job is null)
        {
            return Problems.Invalid(parseErrors);
        }

        // The grain validates (OptimizationValidationException: 400 with every error, the start released) and stores.
        var user = context.User.ApiUser();
        var (id, status, refused) = await BacktestHandlers.WithinStartLimitAsync(context, keys, options.Value,
            newId => client.GetGrain<IWalkForwardGrain>(newId).Submit(new WalkForwardSubmission(job, user.UserId)));
        if (refused is not null)
        {
            return refused;
        }

        var statusUrl = WalkForwardRoutes.StatusUrl(id);
        return TypedResults.Accepted(statusUrl, new WalkForwardStartResponse(id, status!.StateWord, status.Windows.Count, statusUrl));
    }

    public static async Task<Results<Ok<WalkForwardListResponse>, InvalidProblem>> List([AsParameters] OptimizationListQuery query,
        HttpContext context, PostgresWalkForwardStore store)
    {
        if (query.Errors() is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }

        var (records, total) = await store.ListAsync(context.User.ApiUser().UserId, query.Status, query.PageNumber, query.Size, context.RequestAborted);
        var items = records.Select(r => new WalkForwardListItem(r.Id, r.Name, r.Status, r.WindowsPlanned, r.CreatedAt, r.CompletedAt)).ToList();
        return TypedResults.Ok(new WalkForwardListResponse(items, total, query.PageNumber, query.Size));
    }

    public static async Task<Results<Ok<WalkForwardStatusResponse>, NotFoundProblem>> Status(Guid id, HttpContext context, IClusterClient client,
        WalkForwardAccess access)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return NotFound(id);
        }

        var status = await client.GetGrain<IWalkForwardGrain>(id).GetStatus();
        // The stitched result is written before the job completes: re-read the row once the status says so.
        var record = status.State == OptimizationState.Completed ? await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) : null;
        var summary = record?.ResultJson is { } json
            ? JsonSerializer.Deserialize<WalkForwardResultDocument>(json, JsonDefaults.Options)!.Summary
            : null;
        return TypedResults.Ok(WalkForwardStatusResponse.From(status, summary));
    }

    /// <summary>Every window's in-sample curve beside the stitched one; 409 until the job completed (the stitched curve anchors them).</summary>
    public static async Task<Results<Ok<WalkForwardInSampleResponse>, NotFoundProblem, ConflictProblem>> InSample(Guid id, HttpContext context,
        WalkForwardAccess access, WalkForwardInSampleCurves curves)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is not { } record)
        {
            return NotFound(id);
        }

        if (record.ResultJson is null)
        {
            return new ConflictProblem(Results.Problem(statusCode: 409, title: "Conflict",
                detail: $"walk-forward {id} is {record.Status}: its in-sample curves are drawn against the stitched curve of a completed job",
                extensions: new Dictionary<string, object?> { ["walkForwardId"] = id, ["currentState"] = record.Status }));
        }

        return TypedResults.Ok(await curves.OfAsync(record, context.RequestAborted));
    }

    public static async Task<Results<Ok<WalkForwardStatusResponse>, NotFoundProblem>> Cancel(Guid id, HttpContext context, IClusterClient client,
        WalkForwardAccess access)
    {
        if (await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted) is null)
        {
            return NotFound(id);
        }

        return TypedResults.Ok(WalkForwardStatusResponse.From(await client.GetGrain<IWalkForwardGrain>(id).Cancel(), null));
    }
}
