using System.Globalization;
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

public sealed record CreateKeyRequest(string UserId, string Role = ApiRoles.User, string? Label = null);

/// <param name="Key">Shown once: only its hash is stored.</param>
public sealed record CreateKeyResponse(long Id, string UserId, string Role, string? Label, string Key);

/// <summary>A key in the admins' listing: never the key or its hash.</summary>
public sealed record KeyResponse(long Id, string UserId, string Role, string? Label, DateTimeOffset CreatedAt, bool Revoked, DateTimeOffset? RevokedAt)
{
    public static KeyResponse Of(ApiKeyInfo key) => new(key.Id, key.UserId, key.Role, key.Label, key.CreatedAt, key.RevokedAt is not null, key.RevokedAt);
}

public sealed record ClusterResponse(ClusterStatus Cluster, string OrleansDashboard);

/// <summary>Keys (admins issue, list and revoke them) and the cluster's state.</summary>
public static class AdminRoutes
{
    public static void MapAdminRoutes(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/keys", async Task<Results<Created<CreateKeyResponse>, InvalidProblem>> ([FromBody] CreateKeyRequest request, ApiKeyStore keys) =>
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
            })
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Issue a new API key with its own role for a user (created when new); the user's other keys keep their roles; admins only")
            .WithRequestExample("""{"userId":"alice","role":"user","label":"alice's laptop"}""")
            .WithExample(201, """{"id":7,"userId":"alice","role":"user","label":"alice's laptop","key":"bt_Q2hhbmdlIG1lIGludG8gYSByZWFsIGtleSBwbGVhc2U"}""")
            .WithStandardErrors(401, 403)
            .WithProblemExamples(400);

        app.MapGet("/api/v1/keys", async (ApiKeyStore keys, CancellationToken cancellationToken) =>
                Results.Ok((await keys.ListKeysAsync(cancellationToken)).Select(KeyResponse.Of).ToList()))
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Every API key, revoked ones too, oldest first: id, user, role, label, created, revoked; never the key or its hash; admins only")
            .Produces<List<KeyResponse>>()
            .WithExample(200, """[{"id":1,"userId":"admin","role":"admin","label":"bootstrap","createdAt":"2025-01-06T09:00:00+00:00","revoked":false},{"id":7,"userId":"alice","role":"user","label":"alice's laptop","createdAt":"2025-01-07T10:30:00+00:00","revoked":true,"revokedAt":"2025-02-01T08:00:00+00:00"}]""")
            .WithStandardErrors(401, 403);

        app.MapDelete("/api/v1/keys/{id}", async Task<Results<NoContent, InvalidProblem, NotFoundProblem, ConflictProblem>> (string id, ApiKeyStore keys, ResolvedKeys resolved, CancellationToken cancellationToken) =>
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
            })
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Revoke an API key: it stops authenticating at once; revoking a revoked key changes nothing; admins only")
            .WithDescription("The last live admin key cannot be revoked (409), so the API always keeps an admin. A revoked key stays " +
                             "revoked: storing it again (Api:BootstrapAdminKey, create-key --key) does not bring it back.")
            .WithStandardErrors(401, 403)
            .WithProblemExamples(400)
            .WithExample(404, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not found","status":404,"detail":"key 42 not found"}""")
            .WithExample(409, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Conflict","status":409,"detail":"key 1 is the last live admin key: issue another admin key first, so the API keeps an admin"}""");

        app.MapGet("/api/v1/cluster", async (IClusterClient client, IOptions<ApiOptions> options) =>
                Results.Ok(new ClusterResponse(await client.GetGrain<IClusterStatusGrain>(0).GetStatus(), options.Value.OrleansDashboardUrl)))
            .RequireAuthorization().WithTags("Admin")
            .WithSummary("The cluster: silos with CPU, memory and activations, running and queued backtests, limits")
            .WithDescription("orleansDashboard is where the silo serves Orleans' own dashboard, on loopback only; admins open it through " +
                             "the API at /admin/orleans/ (see POST /api/v1/admin/orleans-session).")
            .Produces<ClusterResponse>()
            .WithExample(200, """{"cluster":{"silos":[{"address":"S127.0.0.1:11111:1","status":"Active","cpuUsage":12.5,"memoryUsage":183500800,"activations":42,"runningBacktests":1}],"running":1,"queued":0,"limits":{"maxConcurrent":4,"maxConcurrentPerOwner":2}},"orleansDashboard":"http://127.0.0.1:8081/dashboard"}""")
            .WithStandardErrors(401);
    }
}
