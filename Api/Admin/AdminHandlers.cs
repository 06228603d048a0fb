using System.Globalization;
using Backtesting.Api.Admin.Contracts;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Hosting;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Admin;

/// <summary>The handlers of <see cref="AdminRoutes"/>.</summary>
public static class AdminHandlers
{
    public static async Task<Results<Created<CreateKeyResponse>, InvalidProblem>> CreateKey([FromBody] CreateKeyRequest request, ApiKeyStore keys)
    {
        var errors = new List<ValidationError>();
        if (!ApiRoles.IsKnown(request.Role))
        {
            errors.Add(new ValidationError("role", "allowed", $"'{request.Role}' is not allowed: use {ApiRoles.User} or {ApiRoles.Admin}"));
        }

        foreach (var error in new[] { ConfigValidator.UserId(request.UserId), ConfigValidator.Label(request.Label) })
        {
            if (error is not null)
            {
                errors.Add(error);
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        // A new random key never matches a stored one, so it is always stored (never a revoked key's row).
        var key = ApiKeyStore.GenerateKey();
        var stored = await keys.AddKeyAsync(request.UserId, request.Role, key, request.Label)
                     ?? throw new InvalidOperationException("a newly generated key matched a revoked one");
        return TypedResults.Created($"/api/v1/keys/{stored.Id}", new CreateKeyResponse(stored.Id, stored.UserId, stored.Role, stored.Label, key));
    }

    public static async Task<Ok<List<KeyResponse>>> ListKeys(ApiKeyStore keys, CancellationToken cancellationToken) =>
        TypedResults.Ok((await keys.ListKeysAsync(cancellationToken)).Select(KeyResponse.Of).ToList());

    public static async Task<Results<NoContent, InvalidProblem, NotFoundProblem, ConflictProblem>> RevokeKey(string id, ApiKeyStore keys,
        ResolvedKeys resolved, CancellationToken cancellationToken)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var keyId) || keyId < 1)
        {
            return Problems.Invalid("id", "format", $"'{id}' is not a key id: use the id from GET /api/v1/keys (a positive whole number)");
        }

        var revocation = await keys.RevokeKeyAsync(keyId, cancellationToken);
        if (revocation.KeyHash is { } hash)
        {
            // This instance at once, without waiting for its own notification; the others through KeyRevocationListener.
            resolved.Forget(hash);
        }

        return revocation.Outcome switch
        {
            RevocationOutcome.NotFound => new NotFoundProblem(Results.Problem(statusCode: 404, title: "Not found", detail: $"key {keyId} not found")),
            RevocationOutcome.LastAdminKey => new ConflictProblem(Results.Problem(statusCode: 409, title: "Conflict",
                detail: $"key {keyId} is the last live admin key: issue another admin key first, so the API keeps an admin")),
            _ => TypedResults.NoContent(),
        };
    }

    public static async Task<Ok<ClusterResponse>> Cluster(IClusterClient client, IOptions<ApiOptions> options) =>
        TypedResults.Ok(new ClusterResponse(await client.GetGrain<IClusterStatusGrain>(0).GetStatus(), options.Value.OrleansDashboardUrl));
}
