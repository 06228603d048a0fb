using System.Text.Json;
using Backtesting.Api.Admin;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Catalog;
using Backtesting.Api.Exports;
using Backtesting.Api.OpenApi;
using Backtesting.Api.Optimizations;
using Backtesting.Api.WalkForward;
using Backtesting.Api.Realtime;
using Backtesting.Api.Strategies;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;
using Backtesting.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Backtesting.Api.Hosting;

/// <summary>Builds the API: services, middleware and routes, in one place.</summary>
public static class ApiApp
{
    /// <param name="configureServices">Extra registrations (a benchmark hands in its silo's cluster client).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        var configuration = builder.Configuration;
        var options = configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        builder.Services.Configure<ApiOptions>(configuration.GetSection(ApiOptions.Section));
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);

        var connectionString = Settings.ConnectionString(configuration);
        var services = builder.Services;
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddSingleton<IBacktestStore>(sp => new PostgresBacktestStore(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<IStrategyStore>(sp => new PostgresStrategyStore(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<BacktestAccess>();
        services.AddSingleton<Robustness.ComputeGate>();
        services.AddSingleton<ResultsCache>();
        services.AddSingleton<IMarketDataProvider>(_ => new LeanDataProvider(Settings.DataDirectory(configuration)));
        services.AddSingleton<InstrumentDirectory>();
        services.AddSingleton(StrategyCatalog.Templates);
        services.AddSingleton<BacktestEventRelay>();
        services.AddSingleton(sp => new PostgresOptimizationStore(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton(sp => new PostgresWalkForwardStore(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<OptimizationAccess>();
        services.AddSingleton<OptimizationPlanner>();
        services.AddSingleton<Backtesting.Api.WalkForward.WalkForwardAccess>();
        services.AddSingleton<Backtesting.Api.WalkForward.WalkForwardInSampleCurves>();
        services.AddSingleton<OptimizationEventRelay>();
        services.AddSingleton<OptimizationSubscriptions>();
        services.AddSingleton<HubSubscriptions>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<OrleansDashboardSession>();
        // One key ring for every API instance on the database (sql/033): a session cookie signed by one is valid on all.
        services.AddDataProtection().SetApplicationName("Backtesting.Api");
        services.AddOptions<KeyManagementOptions>().Configure<NpgsqlDataSource>((o, dataSource) => o.XmlRepository = new PostgresXmlRepository(dataSource));
        services.AddHttpClient(OrleansDashboardProxy.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton<ResolvedKeys>();
        // Before the cluster client: the schema (and the bootstrap key) exist before anything is asked of them.
        services.AddHostedService<DatabaseSetup>();
        services.AddHostedService<KeyRevocationListener>();
        if (!options.ExternalClusterClient)
        {
            builder.UseBacktestingClusterClient(connectionString);
        }

        services.ConfigureHttpJsonOptions(json => ApplyJsonConvention(json.SerializerOptions));
        services.AddSignalR().AddJsonProtocol(json => ApplyJsonConvention(json.PayloadSerializerOptions));
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            if (context.Exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                context.ProblemDetails.Detail = $"the request body is over {options.MaxRequestBodyBytes:N0} bytes (Api:MaxRequestBodyBytes)";
            }

            RoutingProblems.Describe(context);
        });
        // Binding failures throw (in every environment) so that BindingFailureHandler names the parameter and the rule.
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BindingFailureHandler>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, policy => policy.RequireAuthenticatedUser().RequireRole(ApiRoles.Admin));
        services.AddCors(cors => cors.AddDefaultPolicy(policy =>
            policy.WithOrigins(options.CorsOrigins).AllowAnyHeader().AllowAnyMethod().AllowCredentials()));
        services.AddBacktestingHealthChecks();
        services.AddBacktestingOpenApi();
        configureServices?.Invoke(services);

        var app = builder.Build();
        // A bad request found while reading it (a body over the size limit, a body cut short) keeps its own status,
        // not 500: Kestrel reports those as BadHttpRequestException wherever the body is read.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseMiddleware<SecurityHeaders>();
        app.UseMiddleware<RequestLogging>();
        // Before anything that reads PostgreSQL (the key lookup of authentication included).
        app.UseMiddleware<DatabaseUnavailable>();
        app.UseDashboard();
        app.UseWebSockets();
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<StrictInput>();
        app.UseSwagger();
        app.UseSwaggerUI(ui => ui.DocumentTitle = "Backtesting API");

        app.MapBacktestingHealth();
        app.MapBacktestRoutes();
        app.MapOptimizationRoutes();
        app.MapWalkForwardRoutes();
        app.MapQueueRoutes();
        app.MapCatalogRoutes();
        app.MapStrategyRoutes();
        Robustness.RobustnessRoutes.MapRobustnessRoutes(app);
        app.MapAdminRoutes();
        app.MapOrleansDashboardProxy();
        app.MapBacktestWebSockets();
        app.MapHub<BacktestHub>("/hubs/backtests");
        Configuration.ConfigurationOptionsRoutes.MapConfigurationOptionsApi(app);
        return app;
    }

    /// <summary>The project's one JSON convention (JsonDefaults), applied to options ASP.NET Core owns.</summary>
    private static void ApplyJsonConvention(JsonSerializerOptions target)
    {
        var source = JsonDefaults.Options;
        target.PropertyNamingPolicy = source.PropertyNamingPolicy;
        target.DefaultIgnoreCondition = source.DefaultIgnoreCondition;
        target.NumberHandling = source.NumberHandling;
        target.PropertyNameCaseInsensitive = true;
        target.AllowDuplicateProperties = source.AllowDuplicateProperties;
        target.Converters.Add(JsonDefaults.EnumConverter());
    }
}

/// <summary>Applies the schema and stores the bootstrap admin key (Api:BootstrapAdminKey) before the API serves.</summary>
internal sealed partial class DatabaseSetup(IConfiguration configuration, ApiKeyStore keys, IOptions<ApiOptions> options, ILogger<DatabaseSetup> log)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var applied = await SchemaMigrator.ApplyAsync(Settings.ConnectionString(configuration), cancellationToken);
        if (applied.Count > 0)
        {
            LogApplied(log, applied);
        }

        if (options.Value.BootstrapAdminKey is { Length: > 0 } key)
        {
            if (await keys.AddKeyAsync(options.Value.BootstrapAdminUser, ApiRoles.Admin, key, "bootstrap", cancellationToken) is null)
            {
                LogBootstrapKeyRevoked(log);
            }
            else
            {
                LogAdminKeyStored(log, options.Value.BootstrapAdminUser);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>One structured log line per request: method, path, status and duration.</summary>
internal sealed partial class RequestLogging(RequestDelegate next, ILogger<RequestLogging> log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // Reading the clock costs no more than checking whether the line is logged.
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            LogRequest(log, context.Request.Method, context.Request.Path.Value, context.Response.StatusCode, elapsed.TotalMilliseconds,
                context.User.Identity?.Name ?? "anonymous");
        }
    }
}
