using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Backtesting.Api.Hosting;
using Backtesting.Engine.Data;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Backtesting.Tests.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Backtesting.Tests.Api;

/// <summary>
/// The API as production runs it, with its own cluster client (membership in PostgreSQL) of a silo that serves
/// Orleans' dashboard on loopback. The API stays up while the cluster goes away: its only silo stops and a new one starts on the same database.
/// The API's own cluster client (membership in PostgreSQL, as in production) reconnects, the relay subscribes to the
/// streams again, and subscribers that joined before the outage get the later live events and the completion.
/// </summary>
[Collection("own cluster")]
public sealed class OwnClusterTests : IAsyncLifetime
{
    private const string Key = "reconnect-key-0123456789abcdef";
    private const string AdminKey = "reconnect-root-0123456789abcdef";
    private const string Routes = "/api/v1/nautilus/backtest";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private readonly string _clusterId = "reconnect-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _work = Path.Combine(Path.GetTempPath(), "backtesting-reconnect-" + Guid.NewGuid().ToString("N"));
    private string _connectionString = "";
    private readonly int _dashboardPort = SiloProcesses.FreePort();
    private WebApplication? _silo;
    private WebApplication? _api;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await PostgresTestServer.CreateDatabaseAsync("reconnect");
        await SchemaMigrator.ApplyAsync(_connectionString, CancellationToken.None);
        await using (var dataSource = NpgsqlDataSource.Create(_connectionString))
        {
            var keys = new ApiKeyStore(dataSource);
            await keys.AddKeyAsync("alice", ApiRoles.User, Key, null);
            await keys.AddKeyAsync("root", ApiRoles.Admin, AdminKey, null);
        }

        _silo = await StartSiloAsync();
        (_api, _base) = await StartApiAsync();
    }

    /// <summary>An API instance on this test's database and cluster, on a port of its own.</summary>
    private async Task<(WebApplication Api, Uri Base)> StartApiAsync(params string[] more)
    {
        var port = SiloProcesses.FreePort();
        var api = ApiApp.Build(
        [
            $"--ConnectionStrings:Backtesting={_connectionString}", $"--Silo:ClusterId={_clusterId}", $"--Api:Urls=http://127.0.0.1:{port}",
            $"--Backtesting:DataDirectory={TestPaths.LeanData}", $"--Api:OrleansDashboardUrl=http://127.0.0.1:{_dashboardPort}/dashboard",
            "--Logging:LogLevel:Default=Warning", "--Logging:Console:FormatterName=simple", .. more,
        ]);
        await api.StartAsync();
        return (api, new Uri($"http://127.0.0.1:{port}"));
    }

    public async Task DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.StopAsync();
            await _api.DisposeAsync();
        }

        if (_silo is not null)
        {
            await _silo.StopAsync();
            await _silo.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await PostgresTestServer.DropDatabaseAsync(_connectionString);
        if (Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task Subscribers_get_the_later_events_and_the_completion_after_the_silo_is_replaced()
    {
        using var http = new HttpClient { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var id = await Retry(() => ApiFixture.StartAsync(http, BacktestRouteTests.MinuteConfig()));

        // Paused while it runs, so the rest of the run happens on the new silo.
        var deadline = DateTime.UtcNow + Deadline;
        while (JsonDocument.Parse(await http.GetStringAsync($"{Routes}/status/{id}")).RootElement.GetProperty("status").GetString() != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "the backtest never ran");
            await Task.Delay(20);
        }

        using (var pause = await http.PostAsync($"{Routes}/pause/{id}", null))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        }

        var messages = Channel.CreateUnbounded<JsonElement>();
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_base, "/hubs/backtests"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(Key))
            .Build();
        hub.On<JsonElement>("message", m => messages.Writer.TryWrite(m));
        await hub.StartAsync();
        await hub.InvokeAsync("Subscribe", id.ToString());
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_base.Port}/ws/backtest/{id}/progress?access_token={Key}"), CancellationToken.None);
        using var timeout = new CancellationTokenSource(Deadline);
        var socketSnapshot = await Receive(socket, timeout.Token);
        var hubSnapshot = await messages.Reader.ReadAsync(timeout.Token);
        Assert.Equal("backtest_progress", hubSnapshot.GetProperty("type").GetString());
        Assert.Equal("backtest_progress", socketSnapshot!.Value.GetProperty("type").GetString());
        var barsBefore = ProcessedBars(hubSnapshot);

        // The cluster goes away and comes back as another silo on the same database; the API stays up.
        await _silo!.StopAsync();
        await _silo.DisposeAsync();
        _silo = null;
        // Away long enough for the subscribers' quiet checks to find no cluster; meanwhile the API answers 503, never 500.
        var outage = DateTime.UtcNow + 3 * Backtesting.Api.Realtime.SubscriptionPump.QuietCheck;
        while (DateTime.UtcNow < outage)
        {
            using var status = await http.GetAsync($"{Routes}/status/{id}");
            Assert.True(status.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"status answered {(int)status.StatusCode} while the cluster was away");
            await Task.Delay(200);
        }

        _silo = await StartSiloAsync();

        await Retry(async () =>
        {
            using var resume = await http.PostAsync($"{Routes}/resume/{id}", null);
            if (resume.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal("2", resume.Headers.GetValues("Retry-After").Single());
                throw new HttpRequestException("the API has not reached the new silo yet");
            }

            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);

            return true;
        });

        var fromHub = new List<JsonElement>();
        while (true)
        {
            var message = await messages.Reader.ReadAsync(timeout.Token);
            fromHub.Add(message);
            if (message.GetProperty("type").GetString() == "backtest_complete")
            {
                break;
            }
        }

        var fromSocket = new List<JsonElement>();
        while (await Receive(socket, timeout.Token) is { } message)
        {
            fromSocket.Add(message);
        }

        foreach (var (name, received) in new[] { ("SignalR", fromHub), ("WebSocket", fromSocket) })
        {
            Assert.True(received.Count > 0, $"{name}: nothing after the silo was replaced");
            Assert.Equal("backtest_complete", received[^1].GetProperty("type").GetString());
            Assert.Equal("completed", received[^1].GetProperty("data").GetProperty("status").GetString());
            // Live progress from the run on the new silo: only the re-made stream subscription carries it (the
            // grain is asked only for the final state when the stream stays quiet).
            Assert.Contains(received, m => m.GetProperty("type").GetString() == "backtest_progress" && ProcessedBars(m) > barsBefore);
        }
    }

    [Fact]
    public async Task The_Orleans_dashboard_is_proxied_to_admins_by_bearer_key_or_by_their_signed_session_cookie_only()
    {
        using var anonymous = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _base };
        using var user = Client(Key);
        using var admin = Client(AdminKey);

        // Nobody else: no key is 401; a user's key is 403, for the page and for the session.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/orleans/")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/admin/orleans/")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/admin/orleans/ClusterStats")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsync("/api/v1/admin/orleans-session", null)).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await admin.PostAsync("/admin/orleans/ClusterStats", null)).StatusCode);

        // An admin's key as a bearer header: the real dashboard, its page and its data.
        using (var redirect = await admin.GetAsync("/admin/orleans"))
        {
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.Equal("/admin/orleans/", redirect.Headers.Location!.OriginalString);
        }

        var page = await Retry(async () =>
        {
            using var response = await admin.GetAsync("/admin/orleans/");
            if (response.StatusCode == HttpStatusCode.BadGateway)
            {
                throw new HttpRequestException("the silo's dashboard is not up yet");
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        });
        Assert.Contains("<title>Orleans Dashboard</title>", page, StringComparison.Ordinal);
        using (var stats = await admin.GetAsync("/admin/orleans/ClusterStats"))
        {
            Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
            Assert.Equal("application/json", stats.Content.Headers.ContentType!.MediaType);
        }

        // A browser: the admin opens a session once, then navigates with nothing but the cookie.
        using var session = await admin.PostAsync("/api/v1/admin/orleans-session", null);
        Assert.Equal(HttpStatusCode.OK, session.StatusCode);
        Assert.Equal("/admin/orleans/", JsonDocument.Parse(await session.Content.ReadAsStringAsync()).RootElement.GetProperty("url").GetString());
        var setCookie = Assert.Single(session.Headers.GetValues("Set-Cookie"));
        Assert.Contains("path=/admin/orleans", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        var cookie = setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)];

        using (var browsing = new HttpRequestMessage(HttpMethod.Get, "/admin/orleans/"))
        {
            browsing.Headers.Add("Cookie", cookie);
            using var response = await anonymous.SendAsync(browsing);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Orleans Dashboard", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Another API instance on the same database takes the same cookie: the key ring is shared in PostgreSQL.
        var (second, secondBase) = await StartApiAsync();
        try
        {
            using var other = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = secondBase };
            using var browsing = new HttpRequestMessage(HttpMethod.Get, "/admin/orleans/");
            browsing.Headers.Add("Cookie", cookie);
            using var response = await other.SendAsync(browsing);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            await second.StopAsync();
            await second.DisposeAsync();
        }

        Assert.True(await ScalarAsync<long>("SELECT count(*) FROM data_protection_keys") >= 1);

        // The cookie opens the dashboard and nothing else, and an altered one opens nothing.
        using (var elsewhere = new HttpRequestMessage(HttpMethod.Get, "/api/v1/cluster"))
        {
            elsewhere.Headers.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(elsewhere)).StatusCode);
        }

        using (var forged = new HttpRequestMessage(HttpMethod.Get, "/admin/orleans/"))
        {
            forged.Headers.Add("Cookie", cookie[..^4] + (cookie.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA"));
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(forged)).StatusCode);
        }
    }

    [Fact]
    public async Task Readiness_fails_naming_docker_when_the_runner_is_docker_and_its_daemon_does_not_answer()
    {
        var (api, address) = await StartApiAsync("--Backtesting:Runner=docker", "--Backtesting:Docker:Endpoint=unix:///nonexistent/docker.sock");
        try
        {
            using var client = new HttpClient { BaseAddress = address };
            using var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var checks = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks");
            Assert.Equal("unhealthy", checks.GetProperty("docker").GetProperty("status").GetString());
            Assert.Contains("unix:///nonexistent/docker.sock", checks.GetProperty("docker").GetProperty("description").GetString(), StringComparison.Ordinal);
            Assert.Equal("healthy", checks.GetProperty("postgres").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await api.StopAsync();
            await api.DisposeAsync();
        }
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(_connectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _base };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private async Task<WebApplication> StartSiloAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--Logging:LogLevel:Default=Error"] });
        builder.UseOrleans(silo =>
        {
            // Paced like the API fixture's runs, so the run lasts long enough to be paused and resumed.
            QuickSilo.Configure(silo, _clusterId, _connectionString, _work, runner => new PacedRunner(runner, _ => true, TimeSpan.FromMilliseconds(15)));
            silo.AddDashboard();
        });
        // Orleans' dashboard on loopback, as the Silo serves it.
        builder.WebHost.UseUrls($"http://127.0.0.1:{_dashboardPort}");
        var host = builder.Build();
        host.MapOrleansDashboard("/dashboard");
        await host.StartAsync();
        return host;
    }

    private static long ProcessedBars(JsonElement message) =>
        message.GetProperty("data").GetProperty("progress").GetProperty("processedBars").GetInt64();

    /// <summary>Retries while the API's client finds its way to the new silo (calls fail until it has).</summary>
    private static async Task<T> Retry<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    private static Task<JsonElement?> Receive(ClientWebSocket socket, CancellationToken cancellationToken) =>
        RealtimeTests.ReceiveOrClose(socket, cancellationToken);
}
