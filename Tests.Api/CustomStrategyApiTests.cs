using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Storage;
using Backtesting.Tests.Cluster;
using Backtesting.Tests.Docker;
using static Backtesting.Tests.Custom.StrategySources;

namespace Backtesting.Tests.Api;

/// <summary>
/// The API on a cluster whose runner is Docker (real daemon, the worker image): uploads compile in a container and
/// custom strategies run in containers. A short run timeout, so that an endless loop ends within the test.
/// </summary>
public sealed class DockerApiFixture : ApiFixture
{
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(40);

    protected override Task<TestClusterHost> StartClusterAsync() =>
        // Without a daemon (and outside CI) every test here is skipped: the cluster then needs no runner of its own.
        DockerTestEnvironment.Unavailable is not null && !DockerTestEnvironment.InCi
            ? TestClusterHost.StartAsync(silos: 1)
            : TestClusterHost.StartAsync(silos: 1, o =>
            {
                o.Runner = "docker";
                o.Docker = DockerTestEnvironment.Options();
                o.StandardTimeout = RunTimeout;
            });

    // The API's readiness checks the daemon the silos use.
    protected override IEnumerable<(string Key, string Value)> ApiSettings() =>
        DockerTestEnvironment.Unavailable is not null && !DockerTestEnvironment.InCi
            ? []
            : [("Backtesting:Runner", "docker"), ("Backtesting:Docker:Endpoint", DockerTestEnvironment.Options().Endpoint)];
}

[CollectionDefinition(Name)]
public sealed class DockerApiCollection : ICollectionFixture<DockerApiFixture>
{
    public const string Name = "api-docker";
}

/// <summary>Custom strategies through the API, end to end: upload, compile in the sandbox, run, versions, isolation.</summary>
[Collection(DockerApiCollection.Name)]
public sealed class CustomStrategyApiTests(DockerApiFixture fixture)
{
    private static Dictionary<string, object?> Config(string strategy, int? version = null) => ApiFixture.Config(c =>
    {
        c["strategyClass"] = strategy;
        c["useCache"] = false;
        if (version is not null)
        {
            c["strategyVersion"] = version;
        }
    });

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Upload(HttpClient client, string source)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/strategies", new { source });
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task<JsonElement> Get(HttpClient client, string path) =>
        (await client.GetFromJsonAsync<JsonElement>(path)).Clone();

    [DockerFact]
    public async Task Readiness_includes_the_docker_daemon_the_silos_use()
    {
        using var anonymous = fixture.Client(null);
        var ready = await anonymous.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.Equal("healthy", ready.GetProperty("status").GetString());
        var docker = ready.GetProperty("checks").GetProperty("docker");
        Assert.Equal("healthy", docker.GetProperty("status").GetString());
        Assert.StartsWith("Docker answers at", docker.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task An_uploaded_sma_cross_gives_the_same_results_as_the_template()
    {
        var (client, _, _) = await fixture.NewUserAsync("sma");

        var (status, body) = await Upload(client, SmaCross);

        Assert.True(status == HttpStatusCode.Created, body.ToString());
        Assert.Equal("SmaCross", body.GetProperty("name").GetString());
        Assert.Equal(1, body.GetProperty("version").GetInt32());
        Assert.Equal(StrategyCompiler.HashSource(SmaCross), body.GetProperty("sourceHash").GetString());
        Assert.Contains(body.GetProperty("schema").GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "slowPeriod");

        var listed = await Get(client, "/api/v1/strategies");
        Assert.Contains(listed.EnumerateArray(), s => s.GetProperty("name").GetString() == "MovingAverageCross" && s.GetProperty("kind").GetString() == "template");
        Assert.Contains(listed.EnumerateArray(), s => s.GetProperty("name").GetString() == "SmaCross" && s.GetProperty("kind").GetString() == "custom"
            && s.GetProperty("version").GetInt32() == 1);

        var custom = await ApiFixture.StartAsync(client, Config("SmaCross"));
        var template = await ApiFixture.StartAsync(client, Config("MovingAverageCross"));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(client, custom, TimeSpan.FromMinutes(3)));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(client, template, TimeSpan.FromMinutes(3)));

        var customStatus = await Get(client, $"/api/v1/nautilus/backtest/status/{custom}");
        Assert.Equal("SmaCross", customStatus.GetProperty("customStrategy").GetProperty("name").GetString());
        Assert.Equal(1, customStatus.GetProperty("customStrategy").GetProperty("version").GetInt32());
        Assert.Equal("docker", customStatus.GetProperty("attempts")[0].GetProperty("runner").GetString());
        Assert.Equal(JsonValueKind.Null, (await Get(client, $"/api/v1/nautilus/backtest/status/{template}")).GetProperty("customStrategy").ValueKind);

        var customResults = await Get(client, $"/api/v1/nautilus/backtest/results/{custom}?tradesPageSize=1000");
        var templateResults = await Get(client, $"/api/v1/nautilus/backtest/results/{template}?tradesPageSize=1000");
        Assert.Equal("SmaCross", customResults.GetProperty("summary").GetProperty("strategy").GetString());
        Assert.Equal(1, customResults.GetProperty("strategyVersion").GetInt32());
        Assert.True(customResults.GetProperty("trades").GetProperty("totalCount").GetInt32() > 0);
        foreach (var part in new[] { "metrics", "trades", "equityCurve", "monthlyReturns" })
        {
            Assert.Equal(templateResults.GetProperty(part).GetRawText(), customResults.GetProperty(part).GetRawText());
        }

        Assert.NotEqual(templateResults.GetProperty("contentHash").GetString(), customResults.GetProperty("contentHash").GetString());
    }

    [DockerFact]
    public async Task A_backtest_records_the_version_it_ran_and_a_new_upload_bumps_the_version()
    {
        var (client, _, _) = await fixture.NewUserAsync("versions");
        Assert.Equal(HttpStatusCode.Created, (await Upload(client, SmaCross)).Status);
        var first = await ApiFixture.StartAsync(client, Config("SmaCross"));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(client, first, TimeSpan.FromMinutes(3)));

        var changed = SmaCross + "\n// version two: the same logic, another source\n";
        var (status, body) = await Upload(client, changed);
        Assert.True(status == HttpStatusCode.Created, body.ToString());
        Assert.Equal(2, body.GetProperty("version").GetInt32());
        Assert.True(body.GetProperty("created").GetBoolean());
        var (_, again) = await Upload(client, changed);
        Assert.Equal(2, again.GetProperty("version").GetInt32());
        Assert.False(again.GetProperty("created").GetBoolean());

        var second = await ApiFixture.StartAsync(client, Config("SmaCross"));
        var pinned = await ApiFixture.StartAsync(client, Config("SmaCross", version: 1));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(client, second, TimeSpan.FromMinutes(3)));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(client, pinned, TimeSpan.FromMinutes(3)));

        async Task<int> VersionOf(Guid id) =>
            (await Get(client, $"/api/v1/nautilus/backtest/status/{id}")).GetProperty("customStrategy").GetProperty("version").GetInt32();
        Assert.Equal(1, await VersionOf(first));
        Assert.Equal(2, await VersionOf(second));
        Assert.Equal(1, await VersionOf(pinned));
        Assert.Equal(1, (await Get(client, $"/api/v1/nautilus/backtest/results/{first}")).GetProperty("strategyVersion").GetInt32());
        Assert.Equal(2, (await Get(client, $"/api/v1/nautilus/backtest/results/{second}")).GetProperty("strategyVersion").GetInt32());

        var detail = await Get(client, "/api/v1/strategies/SmaCross");
        Assert.Equal(2, detail.GetProperty("latestVersion").GetInt32());
        Assert.Equal(changed, detail.GetProperty("source").GetString());
        Assert.Equal([1, 2], detail.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));

        using var missing = await client.PostAsJsonAsync("/api/v1/nautilus/backtest/start", Config("SmaCross", version: 9));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var problem = await missing.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("no version 9", problem.GetProperty("errors").GetProperty("strategyVersion")[0].GetString(), StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task A_compile_error_comes_back_at_its_line_and_column()
    {
        var (client, _, _) = await fixture.NewUserAsync("syntax");
        var source = Probe(inOnStart: "        int count = \"text\"; " + Marker);

        var (status, body) = await Upload(client, source);

        Assert.True(status == HttpStatusCode.UnprocessableEntity, body.ToString());
        var diagnostic = body.GetProperty("diagnostics").EnumerateArray().First(d => d.GetProperty("severity").GetString() == "error");
        Assert.Equal("CS0029", diagnostic.GetProperty("id").GetString());
        Assert.Equal(MarkedLine(source), diagnostic.GetProperty("line").GetInt32());
        Assert.Equal(MarkedColumn(source, "\"text\""), diagnostic.GetProperty("column").GetInt32());
        Assert.Contains($"line {MarkedLine(source)}", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task Reading_etc_passwd_is_rejected_at_its_line_and_nothing_is_stored()
    {
        var (client, _, _) = await fixture.NewUserAsync("passwd");
        var source = Probe(inOnStart: "        var secret = System.IO.File.ReadAllText(\"/etc/passwd\"); " + Marker);

        using var response = await client.PostAsync("/api/v1/strategies", new StringContent(source, Encoding.UTF8, "text/plain"));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, body.ToString());
        Assert.Contains(body.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("id").GetString() == SandboxRules.ForbiddenApi
            && d.GetProperty("line").GetInt32() == MarkedLine(source));
        using var stored = await client.GetAsync("/api/v1/strategies/Probe");
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
        Assert.DoesNotContain((await Get(client, "/api/v1/strategies")).EnumerateArray(), s => s.GetProperty("name").GetString() == "Probe");
    }

    [DockerFact]
    public async Task An_endless_loop_ends_at_the_timeout_and_harms_nothing_else()
    {
        var (looper, _, _) = await fixture.NewUserAsync("loop");
        var (bystander, _, _) = await fixture.NewUserAsync("bystander");
        var (status, body) = await Upload(looper, Probe(inOnBar: "        while (true) { _spins++; }"));
        Assert.True(status == HttpStatusCode.Created, body.ToString());

        var loop = await ApiFixture.StartAsync(looper, ApiFixture.Config(c =>
        {
            c["strategyClass"] = "Probe";
            c["strategyConfig"] = new Dictionary<string, object>();
        }));
        var other = await ApiFixture.StartAsync(bystander, Config("MovingAverageCross"));

        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(bystander, other, TimeSpan.FromMinutes(3)));
        var end = await ApiFixture.WaitForEndAsync(looper, loop, DockerApiFixture.RunTimeout + TimeSpan.FromMinutes(3));
        var final = await Get(looper, $"/api/v1/nautilus/backtest/status/{loop}");
        Assert.True(end == "timed_out" || (end == "failed" && final.GetProperty("error").GetProperty("errorType").GetString() == "timeout"),
            final.ToString());

        // Its container is gone, and the cluster still runs the looper's next backtest.
        await WaitForNoContainers(loop);
        var after = await ApiFixture.StartAsync(looper, Config("MovingAverageCross"));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(looper, after, TimeSpan.FromMinutes(3)));
    }

    [DockerFact]
    public async Task Another_user_can_neither_see_nor_run_someone_elses_strategy()
    {
        var (alice, _, _) = await fixture.NewUserAsync("owner");
        var (bob, _, _) = await fixture.NewUserAsync("other");
        var source = SmaCross.Replace("class SmaCross", "class PrivateCross", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, (await Upload(alice, source)).Status);

        Assert.DoesNotContain((await Get(bob, "/api/v1/strategies")).EnumerateArray(), s => s.GetProperty("name").GetString() == "PrivateCross");
        using var detail = await bob.GetAsync("/api/v1/strategies/PrivateCross");
        Assert.Equal(HttpStatusCode.NotFound, detail.StatusCode);

        using var start = await bob.PostAsJsonAsync("/api/v1/nautilus/backtest/start", Config("PrivateCross"));
        Assert.Equal(HttpStatusCode.BadRequest, start.StatusCode);
        var problem = await start.Content.ReadFromJsonAsync<JsonElement>();
        var message = problem.GetProperty("errors").GetProperty("strategyClass")[0].GetString()!;
        Assert.Contains("unknown strategy 'PrivateCross'", message, StringComparison.Ordinal);
        // The answer is the same as for a name nobody uses: it reveals nothing about alice's strategies.
        using var unknown = await bob.PostAsJsonAsync("/api/v1/nautilus/backtest/start", Config("NobodysCross"));
        var unknownMessage = (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("strategyClass")[0].GetString()!;
        Assert.Equal(unknownMessage.Replace("NobodysCross", "PrivateCross", StringComparison.Ordinal), message);

        // Alice herself runs it.
        var id = await ApiFixture.StartAsync(alice, Config("PrivateCross"));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id, TimeSpan.FromMinutes(3)));
    }

    private static async Task WaitForNoContainers(Guid backtest)
    {
        using var docker = DockerTestEnvironment.Client();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var left = await docker.Containers.ListContainersAsync(new global::Docker.DotNet.Models.ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{Grains.Runners.DockerRunner.BacktestLabel}={backtest}"] = true },
                },
            });
            if (left.Count == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{left.Count} container(s) of backtest {backtest} still there");
            await Task.Delay(250);
        }
    }
}

/// <summary>Custom strategies on a cluster whose runner may not run them (the in-process runner): clear refusals.</summary>
[Collection(ApiCollection.Name)]
public sealed class CustomStrategyRefusalTests(ApiFixture fixture)
{
    [Fact]
    public async Task Uploads_are_refused_with_the_reason_when_the_runner_is_not_docker()
    {
        var (client, _, _) = await fixture.NewUserAsync("refused");

        using var response = await client.PostAsJsonAsync("/api/v1/strategies", new { source = SmaCross });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("docker runner", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_uploads_name_the_field_and_the_rule()
    {
        var (client, _, _) = await fixture.NewUserAsync("bad");

        using var tooLarge = await client.PostAsJsonAsync("/api/v1/strategies", new { source = new string('x', StrategyCompiler.MaxSourceBytes + 1) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        var problem = await tooLarge.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("maxBytes", problem.GetProperty("rules")[0].GetProperty("rule").GetString());
        Assert.Equal("source", problem.GetProperty("rules")[0].GetProperty("field").GetString());

        using var missing = await client.PostAsJsonAsync("/api/v1/strategies", new { code = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.True((await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("source", out _));

        using var pinnedTemplate = await client.PostAsJsonAsync("/api/v1/nautilus/backtest/start",
            ApiFixture.Config(c => c["strategyVersion"] = 1));
        Assert.Equal(HttpStatusCode.BadRequest, pinnedTemplate.StatusCode);
        Assert.True((await pinnedTemplate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("strategyVersion", out _));
    }

    [Fact]
    public async Task A_stored_custom_strategy_on_a_runner_that_refuses_it_fails_the_backtest_with_the_reason()
    {
        var (client, user, _) = await fixture.NewUserAsync("stored");
        // Stored as an upload on a Docker cluster would store it (this cluster cannot compile).
        var compiled = StrategyCompiler.Compile(SmaCross);
        await using (var store = new PostgresStrategyStore(fixture.Cluster.ConnectionString))
        {
            await store.SaveVersionAsync(user, compiled.Strategy!.Name, StrategyCompiler.Normalize(SmaCross), compiled.SourceHash,
                JsonSerializer.Serialize(compiled.Strategy, Engine.Configuration.JsonDefaults.Options));
        }

        var id = await ApiFixture.StartAsync(client, ApiFixture.Config(c => c["strategyClass"] = "SmaCross"));

        Assert.Equal("failed", await ApiFixture.WaitForEndAsync(client, id));
        var status = await client.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/status/{id}");
        Assert.Contains("custom strategies", status.GetProperty("error").GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, status.GetProperty("customStrategy").GetProperty("version").GetInt32());
    }
}
