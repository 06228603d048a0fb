using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Admin;

/// <param name="Url">Where the proxied dashboard is (open it in the same browser).</param>
public sealed record OrleansSessionResponse(string Url, DateTimeOffset ExpiresAt);

/// <summary>
/// An admin's browser session for the Orleans dashboard. A browser cannot send a bearer header when it navigates,
/// so an admin POSTs with the key once and gets a cookie: the key's hash, signed and encrypted by ASP.NET Core data
/// protection with an expiry, HttpOnly, SameSite=Strict and sent only under <see cref="PathPrefix"/>. It is resolved
/// like the key itself on every request, so revoking the key (or it losing the admin role) ends the session too.
/// </summary>
public sealed class OrleansDashboardSession(IDataProtectionProvider protection, IOptions<ApiOptions> options, TimeProvider clock)
{
    public const string PathPrefix = "/admin/orleans";
    public const string CookieName = "backtesting_orleans_dashboard";

    private readonly ITimeLimitedDataProtector _protector =
        protection.CreateProtector("Backtesting.Api.OrleansDashboardSession").ToTimeLimitedDataProtector();

    /// <summary>Sets the cookie on the response; returns when it expires.</summary>
    public DateTimeOffset Start(HttpContext context, string keyHash)
    {
        var expires = clock.GetUtcNow() + options.Value.AdminSessionLifetime;
        context.Response.Cookies.Append(CookieName, _protector.Protect(keyHash, expires), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = PathPrefix,
            Expires = expires,
        });
        return expires;
    }

    /// <summary>The key hash of a valid, unexpired session cookie on a dashboard request; null otherwise.</summary>
    public string? KeyHashFrom(HttpRequest request)
    {
        if (!request.Path.StartsWithSegments(PathPrefix) || !request.Cookies.TryGetValue(CookieName, out var cookie) || string.IsNullOrEmpty(cookie))
        {
            return null;
        }

        try
        {
            return _protector.Unprotect(cookie);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null; // forged, altered or expired
        }
    }
}

/// <summary>
/// Orleans' dashboard, which each silo serves on loopback without authentication, offered through the API to
/// admins only at <c>/admin/orleans/</c>: a read-only reverse proxy (GET and HEAD) to <c>Api:OrleansDashboardUrl</c>.
/// </summary>
public static partial class OrleansDashboardProxy
{
    public const string HttpClientName = "orleans-dashboard";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "TE", "Trailer",
    };

    public static void MapOrleansDashboardProxy(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/admin/orleans-session", (HttpContext context, OrleansDashboardSession session) =>
            {
                // The bearer key itself (never a cookie: those are accepted under /admin/orleans only).
                var key = ApiKeyAuthenticationHandler.KeyFrom(context.Request)!;
                var expires = session.Start(context, Storage.ApiKeyStore.Hash(key));
                return Results.Ok(new OrleansSessionResponse(OrleansDashboardSession.PathPrefix + "/", expires));
            })
            .RequireAuthorization(Policies.Admin).WithTags("Admin")
            .WithSummary("Open the Orleans dashboard in a browser; admins only")
            .WithDescription("Sets a short-lived, signed HttpOnly cookie (Api:AdminSessionLifetime, 15 minutes by default) that lets this " +
                             "browser open /admin/orleans/, the silos' Orleans dashboard proxied by the API. Scripts can instead send " +
                             "their admin key as a bearer header to /admin/orleans/ directly.")
            .Produces<OrleansSessionResponse>()
            .WithExample(200, """{"url":"/admin/orleans/","expiresAt":"2025-01-02T10:15:00+00:00"}""")
            .WithStandardErrors(401, 403);

        app.MapMethods(OrleansDashboardSession.PathPrefix + "/{**path}", ["GET", "HEAD"], Forward)
            .RequireAuthorization(Policies.Admin).ExcludeFromDescription();

        // Read-only: said explicitly, or the dashboard's catch-all page route (when the dashboard is built) would
        // answer other methods with 404 instead.
        app.MapMethods(OrleansDashboardSession.PathPrefix + "/{**path}", ["POST", "PUT", "PATCH", "DELETE"], (HttpContext context) =>
            {
                context.Response.Headers.Allow = "GET, HEAD";
                return Results.Problem(statusCode: 405, title: "Method not allowed", detail: "the Orleans dashboard is proxied read-only (GET, HEAD)");
            })
            .RequireAuthorization(Policies.Admin).ExcludeFromDescription();
    }

    private static async Task Forward(HttpContext context, string? path, IHttpClientFactory clients, IOptions<ApiOptions> options,
        ILoggerFactory logs)
    {
        if (string.IsNullOrEmpty(path) && context.Request.Path.Value?.EndsWith('/') != true)
        {
            // The dashboard loads its scripts and data by relative paths: its root needs the trailing slash.
            context.Response.Redirect(OrleansDashboardSession.PathPrefix + "/");
            return;
        }

        var dashboard = options.Value.OrleansDashboardUrl.TrimEnd('/');
        var upstream = new Uri(dashboard + "/" + (path ?? "") + context.Request.QueryString);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), upstream);
        foreach (var (name, values) in context.Request.Headers)
        {
            // The caller's credentials stay here: the dashboard has no use for them.
            if (!HopByHop.Contains(name) && name is not ("Host" or "Authorization" or "Cookie"))
            {
                request.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            LogUnreachable(logs.CreateLogger(typeof(OrleansDashboardProxy)), e, dashboard);
            await Results.Problem(statusCode: 502, title: "Bad gateway",
                detail: "the Orleans dashboard (Api:OrleansDashboardUrl) is not reachable; is a silo running on this machine?").ExecuteAsync(context);
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            // A redirect within the dashboard stays within the proxy.
            if (response.Headers.Location is { } location && new Uri(dashboard).AbsolutePath is { Length: > 1 } prefix
                && location.OriginalString.StartsWith(prefix, StringComparison.Ordinal))
            {
                context.Response.Headers.Location = OrleansDashboardSession.PathPrefix + location.OriginalString[prefix.Length..];
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
