using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Storage;
using static Backtesting.Tests.Custom.StrategySources;

namespace Backtesting.Tests.Api;

/// <summary>DELETE /api/v1/strategies/{name}: removed when unused, retired when a backtest ran it, never someone else's.</summary>
[Collection(ApiCollection.Name)]
public sealed class StrategyDeleteTests(ApiFixture fixture)
{
    // This cluster's runner cannot compile, so strategies are stored as an upload on a Docker cluster would store them.
    private async Task StoreAsync(string owner, string source)
    {
        var compiled = StrategyCompiler.Compile(source);
        Assert.True(compiled.Ok, string.Join("\n", compiled.Diagnostics));
        await using var store = new PostgresStrategyStore(fixture.Cluster.ConnectionString);
        await store.SaveVersionAsync(owner, compiled.Strategy!.Name, StrategyCompiler.Normalize(source), compiled.SourceHash,
            JsonSerializer.Serialize(compiled.Strategy, Engine.Configuration.JsonDefaults.Options));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> DeleteAsync(HttpClient client, string name)
    {
        using var response = await client.DeleteAsync($"/api/v1/strategies/{name}");
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static async Task<bool> ListedAsync(HttpClient client, string name) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/strategies")).EnumerateArray().Any(s => s.GetProperty("name").GetString() == name);

    [Fact]
    public async Task An_unused_strategy_is_removed_and_a_template_or_someone_elses_cannot_be_deleted()
    {
        var (owner, ownerId, _) = await fixture.NewUserAsync("delete-unused");
        var (other, _, _) = await fixture.NewUserAsync("delete-other");
        await StoreAsync(ownerId, SmaCross);
        Assert.True(await ListedAsync(owner, "SmaCross"));

        var (template, templateBody) = await DeleteAsync(owner, "MovingAverageCross");
        Assert.Equal(HttpStatusCode.Conflict, template);
        Assert.Contains("template", templateBody.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var (notTheirs, _) = await DeleteAsync(other, "SmaCross");
        Assert.Equal(HttpStatusCode.NotFound, notTheirs);
        Assert.True(await ListedAsync(owner, "SmaCross"));

        var (deleted, body) = await DeleteAsync(owner, "SmaCross");
        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.Equal("removed", body.GetProperty("outcome").GetString());
        Assert.False(await ListedAsync(owner, "SmaCross"));
        using var get = await owner.GetAsync("/api/v1/strategies/SmaCross");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await DeleteAsync(owner, "SmaCross")).Status);
    }

    [Fact]
    public async Task A_strategy_a_backtest_ran_is_retired_the_backtest_keeps_its_version_and_new_starts_are_refused()
    {
        var (client, user, _) = await fixture.NewUserAsync("delete-used");
        await StoreAsync(user, SmaCross);
        // The in-process runner refuses custom strategies, so the run fails, but the backtest records the version it was given.
        var id = await ApiFixture.StartAsync(client, ApiFixture.Config(c => c["strategyClass"] = "SmaCross"));
        Assert.Equal("failed", await ApiFixture.WaitForEndAsync(client, id));

        var (deleted, body) = await DeleteAsync(client, "SmaCross");

        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.Equal("retired", body.GetProperty("outcome").GetString());
        Assert.False(await ListedAsync(client, "SmaCross"));
        var status = await client.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/status/{id}");
        Assert.Equal(1, status.GetProperty("customStrategy").GetProperty("version").GetInt32());

        using var start = await client.PostAsJsonAsync("/api/v1/nautilus/backtest/start", ApiFixture.Config(c => c["strategyClass"] = "SmaCross"));
        Assert.Equal(HttpStatusCode.BadRequest, start.StatusCode);
        Assert.True((await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("strategyClass", out _));
    }
}
