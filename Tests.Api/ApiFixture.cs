using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Engine.Data;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Backtesting.Tests.Cluster;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Backtesting.Tests.Api;

/// <summary>
/// The real system for the API tests: an in-process Orleans cluster (one silo, in-process runner) on a fresh
/// PostgreSQL database, and the API on a real Kestrel port as that cluster's client. Four users: alice and bob
/// (role user), root (admin) and admin (the bootstrap admin key).
/// </summary>
public class ApiFixture : IAsyncLifetime
{
    public const string AliceKey = "alice-key-0123456789abcdef";
    public const string BobKey = "bob-key-0123456789abcdef";
    public const string AdminKey = "root-key-0123456789abcdef";
    /// <summary>The admin key the API stores at start-up (Api:BootstrapAdminKey) for the user "admin".</summary>
    public const string BootstrapKey = "bootstrap-key-0123456789abcdef";

    private WebApplicationFactory<Program>? _factory;

    public TestClusterHost Cluster { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public IServiceProvider Services => _factory!.Services;

    /// <summary>A stand-in for Web/dist: an index.html (as Vite builds it, one module script) and that script.</summary>
    public string DashboardFolder { get; } = Path.Combine(Path.GetTempPath(), "backtesting-dashboard-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(DashboardFolder, "assets"));
        await File.WriteAllTextAsync(Path.Combine(DashboardFolder, "index.html"),
            "<!doctype html><html><head><title>Backtesting</title><script type=\"module\" crossorigin src=\"/assets/index.js\"></script></head>" +
            "<body><div id=\"root\"></div><noscript>The API is documented at <a href=\"/swagger\">/swagger</a>.</noscript></body></html>");
        await File.WriteAllTextAsync(Path.Combine(DashboardFolder, "assets", "index.js"), "document.getElementById('root').textContent = 'dashboard';");
        Cluster = await StartClusterAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:Backtesting", Cluster.ConnectionString);
            web.UseSetting("Api:ExternalClusterClient", "true");
            web.UseSetting("Api:Urls", "http://127.0.0.1:0");
            web.UseSetting("Backtesting:DataDirectory", TestPaths.LeanData);
            // A built dashboard, as production serves one: its page fallback is part of the route table under test.
            web.UseSetting("Api:DashboardPath", DashboardFolder);
            web.UseSetting("Logging:LogLevel:Default", "Warning");
            web.UseSetting("Api:BootstrapAdminKey", BootstrapKey);
            web.UseSetting("Logging:Console:FormatterName", "simple");
            foreach (var (key, value) in ApiSettings())
            {
                web.UseSetting(key, value);
            }

            web.ConfigureTestServices(services =>
            {
                services.AddSingleton<IClusterClient>(Cluster.Client);
                services.AddSingleton<IGrainFactory>(Cluster.Client);
            });
        });
        _factory.UseKestrel(0);
        _factory.StartServer();
        var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));

        await using var dataSource = NpgsqlDataSource.Create(Cluster.ConnectionString);
        var keys = new ApiKeyStore(dataSource);
        await keys.AddKeyAsync("alice", ApiRoles.User, AliceKey, null);
        await keys.AddKeyAsync("bob", ApiRoles.User, BobKey, null);
        await keys.AddKeyAsync("root", ApiRoles.Admin, AdminKey, null);
    }

    /// <summary>Settings of the API beyond the common ones (the silos' runner, when the API checks it too).</summary>
    protected virtual IEnumerable<(string Key, string Value)> ApiSettings() => [];

    /// <summary>The cluster the API is the client of.</summary>
    protected virtual Task<TestClusterHost> StartClusterAsync() =>
        // Minute-resolution runs are paced (the real run, its lines handed on every 15 ms) so that subscribers can
        // join while they run; every other run goes at full speed.
        TestClusterHost.StartAsync(silos: 1, services: services => services.AddSingleton<IBacktestRunner>(sp =>
            new PacedRunner(new InProcessRunner(sp.GetRequiredService<IMarketDataProvider>()),
                request => request.ConfigJson.Contains("\"resolution\":\"minute\"", StringComparison.Ordinal), TimeSpan.FromMilliseconds(15))));

    /// <summary>
    /// A new user with a client of its own: each test starts backtests as a fresh user, so the per-user start limit
    /// of one test never reaches another.
    /// </summary>
    public async Task<(HttpClient Client, string UserId, string Key)> NewUserAsync(string name = "user")
    {
        var userId = $"{name}-{Guid.NewGuid():N}"[..24];
        var key = "key-" + Guid.NewGuid().ToString("N");
        await using var dataSource = NpgsqlDataSource.Create(Cluster.ConnectionString);
        await new ApiKeyStore(dataSource).AddKeyAsync(userId, ApiRoles.User, key, null);
        return (Client(key), userId, key);
    }

    public HttpClient Client(string? key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>A valid config; <paramref name="change"/> edits its JSON (e.g. to break one rule).</summary>
    public static Dictionary<string, object?> Config(Action<Dictionary<string, object?>>? change = null)
    {
        var config = new Dictionary<string, object?>
        {
            ["strategyClass"] = "MovingAverageCross",
            ["strategyConfig"] = new Dictionary<string, object> { ["fastPeriod"] = 10, ["slowPeriod"] = 30 },
            ["startDate"] = "2019-01-01",
            ["endDate"] = "2020-12-31",
            ["instruments"] = new[] { "SPY" },
            ["initialBalance"] = 100000,
            ["baseCurrency"] = "USD",
        };
        change?.Invoke(config);
        return config;
    }

    /// <summary>Starts a backtest and returns its id (the start must be accepted).</summary>
    public static async Task<Guid> StartAsync(HttpClient client, Dictionary<string, object?> config)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/nautilus/backtest/start", config);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"start answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>Polls the status route until the backtest reaches a final state; returns that status word.</summary>
    public static async Task<string> WaitForEndAsync(HttpClient client, Guid id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        string status;
        do
        {
            using var document = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/nautilus/backtest/status/{id}"));
            status = document.RootElement.GetProperty("status").GetString()!;
            if (status is "completed" or "failed" or "cancelled" or "timed_out")
            {
                return status;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"backtest {id} still {status}");
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        await Cluster.DisposeAsync();
        Directory.Delete(DashboardFolder, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}
