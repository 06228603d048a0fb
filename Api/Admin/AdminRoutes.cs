using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Hosting;
using Backtesting.Engine.Configuration;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Admin;

public sealed record CreateKeyRequest(string UserId, string Role = ApiRoles.User, string? Label = null);

/// <param name="Key">Shown once: only its hash is stored.</param>
public sealed record CreateKeyResponse(string UserId, string Role, string Key);

public sealed record ClusterResponse(ClusterStatus Cluster, string OrleansDashboard);

/// <summary>Keys (admins create them) and the cluster's state.</summary>
public static class AdminRoutes
{
    public static void MapAdminRoutes(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/keys", async ([FromBody] CreateKeyRequest request, ApiKeyStore keys) =>
            {
                if (!ApiRoles.IsKnown(request.Role))
                {
                    return Problems.Invalid("role", "allowed", $"'{request.Role}' is not allowed: use user or admin");
                }

                if (ConfigValidator.UserId(request.UserId) is { } badUser)
                {
                    return Problems.Invalid([badUser]);
                }

                if (ConfigValidator.Label(request.Label) is { } badLabel)
                {
                    return Problems.Invalid([badLabel]);
                }

                var key = ApiKeyStore.GenerateKey();
                await keys.AddKeyAsync(request.UserId, request.Role, key, request.Label);
                return Results.Created($"/api/v1/keys", new CreateKeyResponse(request.UserId, request.Role, key));
            })
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Create an API key for a user (created with the role when new); admins only")
            .Produces<CreateKeyResponse>(201)
            .WithRequestExample("""{"userId":"alice","role":"user","label":"alice's laptop"}""")
            .WithExample(201, """{"userId":"alice","role":"user","key":"bt_Q2hhbmdlIG1lIGludG8gYSByZWFsIGtleSBwbGVhc2U"}""")
            .WithStandardErrors(400, 401, 403);

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
