using Microsoft.Net.Http.Headers;

namespace Backtesting.Api.Hosting;

/// <summary>
/// Headers on every response that tell the browser what the dashboard, Swagger UI and the API may do: scripts only
/// from this origin (no inline script, no eval), no framing by any page (clickjacking), no content-type sniffing, no
/// referrer sent on. Added when the response starts, so error answers written after an exception carry them too.
/// </summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    /// <summary>
    /// The dashboard's (and Swagger UI's) policy. Styles allow 'unsafe-inline' because Ant Design writes its styles
    /// into style elements at run time; scripts do not. connect-src 'self' covers fetch, SignalR and WebSockets to
    /// this origin. Charts draw on canvases; icons and Swagger UI's images may be data: URLs.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// The proxied Orleans dashboard (admins only, /admin/orleans) is Orleans' own page, whose scripts this project does
    /// not control: it keeps the framing ban only.
    /// </summary>
    public const string ProxiedDashboardPolicy = "frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            var headers = http.Response.Headers;
            headers[HeaderNames.ContentSecurityPolicy] = http.Request.Path.StartsWithSegments(Admin.OrleansDashboardSession.PathPrefix)
                ? ProxiedDashboardPolicy
                : ContentSecurityPolicy;
            headers[HeaderNames.XFrameOptions] = "DENY";
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
