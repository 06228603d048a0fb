using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Hosting;

namespace Backtesting.Api.Admin;

/// <summary>
/// Keys (admins issue, list and revoke them) and the cluster's state. This file only maps the routes (handlers:
/// <see cref="AdminHandlers"/>, contracts: <c>Contracts/AdminContracts.cs</c>).
/// </summary>
public static class AdminRoutes
{
    public static void MapAdminRoutes(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/keys", AdminHandlers.CreateKey)
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Issue a new API key with its own role for a user (created when new); the user's other keys keep their roles; admins only")
            .WithRequestExample("""{"userId":"alice","role":"user","label":"alice's laptop"}""")
            .WithExample(201, """{"id":7,"userId":"alice","role":"user","label":"alice's laptop","key":"bt_Q2hhbmdlIG1lIGludG8gYSByZWFsIGtleSBwbGVhc2U"}""")
            .WithStandardErrors(401, 403)
            .WithProblemExamples(400);

        app.MapGet("/api/v1/keys", AdminHandlers.ListKeys)
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Every API key, revoked ones too, oldest first: id, user, role, label, created, revoked; never the key or its hash; admins only")
            .WithExample(200, """[{"id":1,"userId":"admin","role":"admin","label":"bootstrap","createdAt":"2025-01-06T09:00:00+00:00","revoked":false},{"id":7,"userId":"alice","role":"user","label":"alice's laptop","createdAt":"2025-01-07T10:30:00+00:00","revoked":true,"revokedAt":"2025-02-01T08:00:00+00:00"}]""")
            .WithStandardErrors(401, 403);

        app.MapDelete("/api/v1/keys/{id}", AdminHandlers.RevokeKey)
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Revoke an API key: it stops authenticating at once; revoking a revoked key changes nothing; admins only")
            .WithDescription("The last live admin key cannot be revoked (409), so the API always keeps an admin. A revoked key stays " +
                             "revoked: storing it again (Api:BootstrapAdminKey, create-key --key) does not bring it back.")
            .WithStandardErrors(401, 403)
            .WithProblemExamples(400)
            .WithExample(404, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not found","status":404,"detail":"key 42 not found"}""")
            .WithExample(409, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Conflict","status":409,"detail":"key 1 is the last live admin key: issue another admin key first, so the API keeps an admin"}""");

        app.MapGet("/api/v1/cluster", AdminHandlers.Cluster)
            .RequireAuthorization().WithTags("Admin")
            .WithSummary("The cluster: silos with CPU, memory and activations, running and queued backtests, limits")
            .WithDescription("orleansDashboard is where the silo serves Orleans' own dashboard, on loopback only; admins open it through " +
                             "the API at /admin/orleans/ (see POST /api/v1/admin/orleans-session).")
            .WithExample(200, """{"cluster":{"silos":[{"address":"S127.0.0.1:11111:1","status":"Active","cpuUsage":12.5,"memoryUsage":183500800,"activations":42,"runningBacktests":1}],"running":1,"queued":0,"limits":{"maxConcurrent":4,"maxConcurrentPerOwner":2}},"orleansDashboard":"http://127.0.0.1:8081/dashboard"}""")
            .WithStandardErrors(401);
    }
}
