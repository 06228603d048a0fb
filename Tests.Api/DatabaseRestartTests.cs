using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Api.Hosting;
using Backtesting.Engine.Data;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Backtesting.Tests.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;

namespace Backtesting.Tests.Api;

/// <summary>
/// The API while its PostgreSQL restarts (<c>pg_ctl restart -m fast</c>, then <c>-m immediate</c>, on a server of this
/// test's own): every connection the pools hold dies with the server, and the first command on each fails. While the
/// database is down a route answers 503 with Retry-After, never 500; once <c>pg_ctl</c> says it is back, every read
/// route answers at once (the broken pooled connections are dropped and the read tried again) and a start is accepted.
/// </summary>
[Collection("own cluster")]
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private const string Key = "restart-key-0123456789abcdef";
    private const string Routes = "/api/v1/nautilus/backtest";

    private readonly string _clusterId = "pgrestart-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _work = Path.Combine(Path.GetTempPath(), "backtesting-pgrestart-" + Guid.NewGuid().ToString("N"));
    private OwnPostgres? _postgres;
    private string _connectionString = "";
    private IHost? _silo;
    private WebApplication? _api;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        _postgres = await OwnPostgres.StartAsync();
        _connectionString = await _postgres.CreateDatabaseAsync("pgrestart");
        await SchemaMigrator.ApplyAsync(_connectionString, CancellationToken.None);
        await using (var dataSource = NpgsqlDataSource.Create(_connectionString))
        {
            await new ApiKeyStore(dataSource).AddKeyAsync("alice", ApiRoles.User, Key, null);
        }

        _silo = await StartSiloAsync();
        var port = SiloProcesses.FreePort();
        _api = ApiApp.Build(
        [
            $"--ConnectionStrings:Backtesting={_connectionString}", $"--Silo:ClusterId={_clusterId}", $"--Api:Urls=http://127.0.0.1:{port}",
            $"--Backtesting:DataDirectory={TestPaths.LeanData}", "--Logging:LogLevel:Default=Critical", "--Logging:Console:FormatterName=simple",
            // Starts are limited per user; this test starts a few per restart.
            "--Api:StartsPerWindow=1000",
        ]);
        await _api.StartAsync();
        _base = new Uri($"http://127.0.0.1:{port}");
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
            _silo.Dispose();
        }

        NpgsqlConnection.ClearAllPools();
        _postgres?.Dispose();
        if (Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("immediate")]
    public async Task No_route_answers_500_across_a_restart_and_reads_answer_as_soon_as_it_is_back(string mode)
    {
        using var http = new HttpClient { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var id = await StartUntilAccepted(http);
        await WaitUntilEnded(http, id);

        // Several pooled connections, as a busy API holds: concurrent reads each take one.
        foreach (var (_, response) in await Task.WhenAll(Enumerable.Range(0, 8).SelectMany(_ => Read(http, id))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        // Requests go on while the server restarts: each is 200 (before or after), or 503 with Retry-After while it is down.
        using var stop = new CancellationTokenSource();
        var during = Task.Run(async () =>
        {
            var seen = new List<(string, HttpStatusCode, string?)>();
            while (!stop.IsCancellationRequested)
            {
                foreach (var read in Read(http, id))
                {
                    var (route, response) = await read;
                    seen.Add((route, response.StatusCode, response.Headers.RetryAfter?.ToString()));
                    response.Dispose();
                }

                await Task.Delay(20);
            }

            return seen;
        });
        await _postgres!.RestartAsync(mode);
        await stop.CancelAsync();
        foreach (var (route, status, retryAfter) in await during)
        {
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{route} answered {(int)status} during the {mode} restart");
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                Assert.False(string.IsNullOrEmpty(retryAfter), $"{route} answered 503 without Retry-After");
            }
        }

        // The server is back: the API's pools still hold connections to the old server. Each read answers at once.
        var after = await Task.WhenAll(Enumerable.Range(0, 8).SelectMany(_ => Read(http, id)));
        foreach (var (route, response) in after)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK,
                $"{route} answered {(int)response.StatusCode} after the {mode} restart: {await response.Content.ReadAsStringAsync()}");
            response.Dispose();
        }

        // A start is accepted; a 503 (the silo's own pool meeting a dead connection) is allowed only with Retry-After.
        var started = await StartUntilAccepted(http);
        await WaitUntilEnded(http, started);
    }

    /// <summary>The read routes a dashboard polls: the status, the listing, the results and the queue.</summary>
    private static IEnumerable<Task<(string Route, HttpResponseMessage Response)>> Read(HttpClient http, Guid id) =>
        new[] { $"{Routes}/status/{id}", $"{Routes}/list?pageSize=5", $"{Routes}/results/{id}", $"{Routes}/queue" }
            .Select(async route => (route, await http.GetAsync(route)));

    /// <summary>Posts a start until it is accepted: every refusal on the way must be 503 with Retry-After.</summary>
    private static async Task<Guid> StartUntilAccepted(HttpClient http)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            using var response = await http.PostAsJsonAsync($"{Routes}/start", ApiFixture.Config());
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
            }

            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"start answered {(int)response.StatusCode}: {body}");
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.True(DateTime.UtcNow < deadline, "start never accepted after the restart");
            await Task.Delay(200);
        }
    }

    private static async Task WaitUntilEnded(HttpClient http, Guid id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            using var response = await http.GetAsync($"{Routes}/status/{id}");
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"status answered {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString();
                if (status == "completed")
                {
                    return;
                }

                Assert.True(status is not ("failed" or "cancelled"), $"the backtest ended {status}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"backtest {id} never completed");
            await Task.Delay(100);
        }
    }

    private async Task<IHost> StartSiloAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = ["--Logging:LogLevel:Default=Critical"] });
        builder.UseOrleans(silo => QuickSilo.Configure(silo, _clusterId, _connectionString, _work));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
