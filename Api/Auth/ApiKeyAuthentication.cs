using System.Security.Claims;
using System.Text.Encodings.Web;
using Backtesting.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Backtesting.Api.Admin;
using Backtesting.Api.Hosting;

namespace Backtesting.Api.Auth;

/// <summary>
/// Bearer API keys: <c>Authorization: Bearer &lt;key&gt;</c>, or, on the SignalR and WebSocket routes only, the
/// <c>access_token</c> query parameter (browsers cannot set headers on a WebSocket; SignalR's JavaScript client
/// sends the key that way). On the Orleans dashboard's proxy only, an admin's signed, short-lived session cookie stands
/// for the key it was made with (browsers send no header when they navigate). Keys resolve to a user and role through PostgreSQL; a resolved key is remembered
/// briefly (<see cref="ResolvedKeys"/>) so a request does not cost a database round trip; a revocation removes it at once.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    ResolvedKeys resolved,
    OrleansDashboardSession dashboardSession) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string hash;
        if (KeyFrom(Request) is { } key)
        {
            hash = ApiKeyStore.Hash(key);
        }
        else if (dashboardSession.KeyHashFrom(Request) is { } fromCookie)
        {
            hash = fromCookie;
        }
        else
        {
            return AuthenticateResult.NoResult();
        }

        // Resolved through the same cache as a bearer key: a revoked key stops its cookie as quickly.
        if (!resolved.TryGet(hash, out var user))
        {
            user = await keys.FindUserByHashAsync(hash, Context.RequestAborted);
            resolved.Remember(hash, user);
        }

        if (user is null)
        {
            return AuthenticateResult.Fail("unknown or revoked API key");
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, user.UserId), new Claim(ClaimTypes.Name, user.UserId), new Claim(ClaimTypes.Role, user.Role)],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(statusCode: 401, title: "Unauthorized",
            detail: "send an API key as 'Authorization: Bearer <key>' (WebSocket and SignalR routes also take ?access_token=<key>)")
            .ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(statusCode: 403, title: "Forbidden", detail: "this route is for admins").ExecuteAsync(Context);
    }

    internal static string? KeyFrom(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var value = header["Bearer ".Length..].Trim();
            return value.Length > 0 ? value : null;
        }

        if ((request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/ws"))
            && request.Query.TryGetValue("access_token", out var token) && !string.IsNullOrEmpty(token))
        {
            return token.ToString();
        }

        return null;
    }
}

public static class Policies
{
    public const string Admin = "admin";
}

public static class UserExtensions
{
    /// <summary>The authenticated caller (every route but health and the dashboard requires one).</summary>
    public static ApiUser ApiUser(this ClaimsPrincipal principal) => new(
        principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("not authenticated"),
        principal.FindFirstValue(ClaimTypes.Role) ?? ApiRoles.User);
}
