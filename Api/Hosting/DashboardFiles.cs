using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Hosting;

/// <summary>
/// Serves the dashboard's built files at <c>/</c> (static files, and index.html for any other page path so the
/// single-page app's routes load). Until the dashboard is built, <c>/</c> answers a small page pointing at Swagger.
/// </summary>
public static partial class DashboardFiles
{
    public static void UseDashboard(this WebApplication app)
    {
        var folder = Locate(app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.DashboardPath);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DashboardFiles));
        if (folder is null)
        {
            LogNoDashboard(log);
            app.MapGet("/", () => Results.Content(Placeholder, "text/html")).ExcludeFromDescription();
            return;
        }

        LogServing(log, folder);
        var files = new PhysicalFileProvider(folder);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        // Page paths (GET, no file extension, not an API path) that no route took get index.html, so the single-page
        // app's routes load. Not a fallback endpoint: one in the route table would match every method and media type
        // of an API path too, and the routing would answer a wrong method or a non-JSON body with 404, not 405 or 415.
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (context.GetEndpoint() is not null || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                || ApiPaths.Contains(request.Path) || Path.HasExtension(request.Path.Value))
            {
                await next(context);
                return;
            }

            context.Response.ContentType = "text/html";
            await context.Response.SendFileAsync(files.GetFileInfo("index.html"));
        });
    }

    /// <summary>The configured folder, else the first Web/dist above the working folder or the program's folder.</summary>
    internal static string? Locate(string configured)
    {
        if (configured.Length > 0)
        {
            return File.Exists(Path.Combine(configured, "index.html")) ? Path.GetFullPath(configured) : null;
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "Web", "dist");
                if (File.Exists(Path.Combine(candidate, "index.html")))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private const string Placeholder = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Backtesting</title>
        <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5;color:#222}code{background:#f3f3f3;padding:0 .3em}</style>
        </head><body>
        <h1>Backtesting API</h1>
        <p>The API is running. The dashboard has not been built yet (it is served from <code>Web/dist</code> once built).</p>
        <p>Try the routes in <a href="/swagger">Swagger</a> with the API key <code>./run.sh</code> printed,
        or check <a href="/health/ready">/health/ready</a>.</p>
        </body></html>
        """;
}

/// <summary>The path prefixes the API owns; any other path may be a dashboard page.</summary>
public static class ApiPaths
{
    public static readonly IReadOnlyList<string> Prefixes = ["/api", "/ws", "/hubs", "/swagger", "/health", "/admin"];

    public static bool Contains(PathString path) => Prefixes.Any(p => path.StartsWithSegments(p));
}
