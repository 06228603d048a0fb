using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Tests.Api;

/// <summary>Keys, roles, the start limit, and the routes around the backtests (catalog, health, OpenAPI, dashboard).</summary>
[Collection(ApiCollection.Name)]
public sealed class AccessAndLimitTests(ApiFixture fixture)
{
    [Fact]
    public async Task Requests_without_a_valid_key_are_401_and_admin_routes_are_403_for_users()
    {
        using var anonymous = fixture.Client(null);
        using var wrong = fixture.Client("not-a-key-at-all-0000");
        using var alice = fixture.Client(ApiFixture.AliceKey);
        foreach (var client in new[] { anonymous, wrong })
        {
            using var response = await client.GetAsync("/api/v1/nautilus/backtest/list");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        }

        using var forbidden = await alice.PostAsJsonAsync("/api/v1/keys", new { userId = "mallory", role = "admin" });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_413_and_starts_nothing()
    {
        var (client, _, _) = await fixture.NewUserAsync("big");
        // A valid config padded past Api:MaxRequestBodyBytes (1 MB) with an extra property.
        var config = ApiFixture.Config(c => c["padding"] = new string('x', 1024 * 1024 + 1));
        using var response = await client.PostAsJsonAsync("/api/v1/nautilus/backtest/start", config);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Contains("Api:MaxRequestBodyBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/nautilus/backtest/list")).GetProperty("totalCount").GetInt64());
    }

    [Fact]
    public async Task Cors_answers_the_dashboards_origin_only()
    {
        using var anonymous = fixture.Client(null);
        async Task<string?> AllowedOrigin(string origin)
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/nautilus/backtest/start");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            using var response = await anonymous.SendAsync(preflight);
            return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null;
        }

        Assert.Equal("http://localhost:5173", await AllowedOrigin("http://localhost:5173")); // Api:CorsOrigins' default
        Assert.Null(await AllowedOrigin("http://elsewhere.example"));
    }

    [Fact]
    public async Task An_admin_creates_keys_that_work_and_are_stored_hashed()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        using var created = await admin.PostAsJsonAsync("/api/v1/keys", new { userId = "dave", role = "user", label = "test" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;

        using var dave = fixture.Client(key);
        var list = await dave.GetFromJsonAsync<JsonElement>("/api/v1/nautilus/backtest/list");
        Assert.Equal(0, list.GetProperty("totalCount").GetInt64());

        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT key_hash FROM api_keys WHERE user_id = 'dave'");
        var stored = (string)(await command.ExecuteScalarAsync())!;
        Assert.Equal(ApiKeyStore.Hash(key), stored);
        Assert.NotEqual(key, stored);

        using var badRole = await admin.PostAsJsonAsync("/api/v1/keys", new { userId = "erin", role = "root" });
        Assert.Equal(HttpStatusCode.BadRequest, badRole.StatusCode);
    }

    [Fact]
    public async Task The_eleventh_start_in_five_minutes_is_429_with_retry_after()
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        const string Key = "carol-key-0123456789abcdef";
        await new ApiKeyStore(dataSource).AddKeyAsync("carol", ApiRoles.User, Key, null);
        using var carol = fixture.Client(Key);

        // A refused (invalid) start does not count.
        using (var invalid = await carol.PostAsJsonAsync("/api/v1/nautilus/backtest/start", ApiFixture.Config(c => c["initialBalance"] = 1)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        for (var i = 0; i < 10; i++)
        {
            await ApiFixture.StartAsync(carol, ApiFixture.Config());
        }

        using var eleventh = await carol.PostAsJsonAsync("/api/v1/nautilus/backtest/start", ApiFixture.Config());
        Assert.Equal((HttpStatusCode)429, eleventh.StatusCode);
        var retryAfter = int.Parse(eleventh.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 300);
        Assert.Equal("application/problem+json", eleventh.Content.Headers.ContentType!.MediaType);

        // Other users keep their own allowance.
        var (other, _, _) = await fixture.NewUserAsync();
        using var client = other;
        await ApiFixture.StartAsync(other, ApiFixture.Config());
    }

    [Fact]
    public async Task Catalog_routes_list_strategies_with_schemas_and_instruments_with_ranges()
    {
        using var alice = fixture.Client(ApiFixture.AliceKey);
        var strategies = await alice.GetFromJsonAsync<JsonElement>("/api/v1/strategies");
        var cross = strategies.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "MovingAverageCross");
        Assert.Contains(cross.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "fastPeriod");

        var instruments = await alice.GetFromJsonAsync<JsonElement>("/api/v1/instruments");
        var spy = instruments.GetProperty("instruments").EnumerateArray().Single(i => i.GetProperty("id").GetString() == "SPY.ARCA");
        Assert.Contains(spy.GetProperty("ranges").EnumerateArray(), r => r.GetProperty("resolution").GetString() == "daily");
        Assert.Contains(spy.GetProperty("ranges").EnumerateArray(), r => r.GetProperty("resolution").GetString() == "minute");
        Assert.Contains("ARCA", instruments.GetProperty("venues").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("EUR", instruments.GetProperty("baseCurrencies").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task Health_openapi_and_the_front_page_answer()
    {
        using var anonymous = fixture.Client(null);
        using var live = await anonymous.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await anonymous.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.Equal("healthy", ready.GetProperty("status").GetString());
        Assert.Equal("healthy", ready.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("healthy", ready.GetProperty("checks").GetProperty("cluster").GetProperty("status").GetString());
        // This API's silos do not run Docker, so the daemon is not asked (OwnClusterTests and the Docker API tests ask it).
        Assert.StartsWith("not used", ready.GetProperty("checks").GetProperty("docker").GetProperty("description").GetString(), StringComparison.Ordinal);

        var swagger = await anonymous.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = swagger.GetProperty("paths");
        foreach (var route in new[] { "start", "status/{id}", "cancel/{id}", "pause/{id}", "resume/{id}", "results/{id}", "list", "{id}", "compare", "queue", "queue/{id}", "export/{id}" })
        {
            Assert.True(paths.TryGetProperty($"/api/v1/nautilus/backtest/{route}", out var operations), route);
            foreach (var operation in operations.EnumerateObject())
            {
                var responses = operation.Value.GetProperty("responses");
                Assert.True(responses.TryGetProperty("401", out _), $"{route} documents 401");
                Assert.Contains(responses.EnumerateObject(), r => r.Value.TryGetProperty("content", out var content)
                    && content.EnumerateObject().Any(c => c.Value.TryGetProperty("example", out _)));
            }
        }

        Assert.True(paths.TryGetProperty("/api/v1/strategies", out _));
        Assert.True(paths.TryGetProperty("/api/v1/instruments", out _));
        using var page = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("/swagger", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
