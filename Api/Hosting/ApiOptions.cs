using Backtesting.Engine;

namespace Backtesting.Api.Hosting;

/// <summary>The API's settings (section "Api"; environment variables Api__Urls, Api__DashboardPath, ...).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Where Kestrel listens; the seed's clients expect http://localhost:8000.</summary>
    public string Urls { get; set; } = "http://localhost:8000";

    /// <summary>The dashboard's built files (index.html and assets); empty = Web/dist found above the working folder.</summary>
    public string DashboardPath { get; set; } = "";

    /// <summary>Origins allowed by CORS: the dashboard's development server. The built dashboard is served from the API's own origin.</summary>
    public string[] CorsOrigins { get; set; } = ["http://localhost:5173"];

    /// <summary>Largest request body accepted, in bytes (a backtest config is a few KB).</summary>
    public long MaxRequestBodyBytes { get; set; } = ByteSize.MiB;

    /// <summary>Backtest starts a user may make per <see cref="StartWindow"/>.</summary>
    public int StartsPerWindow { get; set; } = 10;

    public TimeSpan StartWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An admin key stored (hashed) at start-up when set: how ./run.sh gives a newcomer a working key.</summary>
    public string BootstrapAdminKey { get; set; } = "";

    /// <summary>The user id the bootstrap key belongs to.</summary>
    public string BootstrapAdminUser { get; set; } = "admin";

    /// <summary>How long a resolved key is remembered before PostgreSQL is asked again (revocations take this long).</summary>
    public TimeSpan KeyCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The Orleans dashboard of a silo (each silo serves it on loopback); the API proxies it to admins at /admin/orleans/.</summary>
    public string OrleansDashboardUrl { get; set; } = "http://127.0.0.1:8081/dashboard";

    /// <summary>How long an admin's dashboard cookie (POST /api/v1/admin/orleans-session) stays valid.</summary>
    public TimeSpan AdminSessionLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Heavy statistics (Monte Carlo, an optimization's robustness and its xlsx/pdf exports) computed at once in
    /// this process; 0 = one per processor (<c>Api/Robustness/ComputeGate.cs</c>).</summary>
    public int RobustnessComputations { get; set; }

    /// <summary>How long such a request waits for a free computation before a 503 with Retry-After.</summary>
    public TimeSpan RobustnessWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// True when the host brings its own cluster client (tests run an in-process cluster); otherwise the API
    /// connects to the silos through the membership table in PostgreSQL.
    /// </summary>
    public bool ExternalClusterClient { get; set; }
}
