using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Storage;
using Backtesting.Tests.Custom;

namespace Backtesting.Tests.Api;

/// <summary>
/// POST /api/v1/optimizations (and /plan) over a custom strategy the caller stored: its stored schema names the
/// parameters and bounds the space is checked against, with the same 400s naming the field as a template's; another
/// user's strategy is unknown. This cluster's in-process runner never runs uploaded code, so an accepted job ends failed
/// saying why (the Docker runner runs it: <see cref="CustomStrategyApiTests"/>).
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class CustomOptimizationRouteTests(ApiFixture fixture)
{
    private const string Routes = "/api/v1/optimizations";

    /// <summary>Stores the example SmaCross as the user's own strategy, as a compiled upload does.</summary>
    internal static async Task Store(string connectionString, string owner)
    {
        var compiled = StrategyCompiler.Compile(StrategySources.SmaCross);
        Assert.True(compiled.Ok);
        await using var db = Npgsql.NpgsqlDataSource.Create(connectionString);
        await new PostgresStrategyStore(db).SaveVersionAsync(owner, "SmaCross", StrategyCompiler.Normalize(StrategySources.SmaCross),
            compiled.SourceHash, JsonSerializer.Serialize(compiled.Strategy, JsonDefaults.Options));
    }

    internal static JsonObject Job(JsonObject parameters) => OptimizationRouteTests.Job(job =>
    {
        job["baseConfig"]!["strategyClass"] = "SmaCross";
        job["parameters"] = parameters;
    });

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Post(HttpClient client, string route, JsonObject job)
    {
        using var response = await client.PostAsync(route, new StringContent(job.ToJsonString(), Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static List<(string?, string?)> Rules(JsonElement problem) =>
        problem.GetProperty("rules").EnumerateArray().Select(r => (r.GetProperty("field").GetString(), r.GetProperty("rule").GetString())).ToList();

    [Fact]
    public async Task A_custom_strategy_job_is_planned_and_accepted_from_its_stored_schema_and_broken_spaces_are_400s_naming_the_field()
    {
        var (alice, aliceId, _) = await fixture.NewUserAsync("alice");
        var (bob, _, _) = await fixture.NewUserAsync("bob");
        using var a = alice;
        using var b = bob;
        await Store(fixture.Cluster.ConnectionString, aliceId);

        var valid = new JsonObject
        {
            ["fastPeriod"] = new JsonObject { ["min"] = 5, ["max"] = 15, ["step"] = 5 },
            ["slowPeriod"] = new JsonObject { ["values"] = new JsonArray(30, 50) },
        };
        var (planStatus, plan) = await Post(alice, $"{Routes}/plan", Job(valid.DeepClone().AsObject()));
        Assert.True(planStatus == HttpStatusCode.OK, plan.ToString());
        Assert.Equal(6, plan.GetProperty("trialsPlanned").GetInt64());

        var broken = new (string Name, JsonObject Parameters, string Field, string Rule)[]
        {
            ("unknown parameter", new JsonObject { ["fastPeriod"] = 10, ["slowPeriod"] = 30, ["lookback"] = new JsonObject { ["values"] = new JsonArray(1, 2) } },
                "parameters.lookback", "unknown"),
            ("bound past the schema", new JsonObject { ["fastPeriod"] = new JsonObject { ["min"] = 1, ["max"] = 900 }, ["slowPeriod"] = 30 },
                "parameters.fastPeriod.max", "schemaRange"),
            ("bound below the schema", new JsonObject { ["fastPeriod"] = 10, ["slowPeriod"] = new JsonObject { ["min"] = 1, ["max"] = 40 } },
                "parameters.slowPeriod.min", "schemaRange"),
            ("word not allowed", new JsonObject { ["fastPeriod"] = 10, ["slowPeriod"] = 30, ["maType"] = new JsonObject { ["values"] = new JsonArray("SMA", "WMA") } },
                "parameters.maType.values[1]", "allowed"),
        };
        foreach (var (name, parameters, field, rule) in broken)
        {
            foreach (var route in new[] { $"{Routes}/plan", Routes })
            {
                var (status, problem) = await Post(alice, route, Job(parameters.DeepClone().AsObject()));
                Assert.True(status == HttpStatusCode.BadRequest, $"{route} {name}: {(int)status} {problem}");
                Assert.True(Rules(problem).Contains((field, rule)), $"{route} {name}: expected {field} {rule}, got {problem}");
            }
        }

        // Bob does not see alice's strategy: the same 400 as a name nobody uses. A pinned version that does not exist is named.
        var (bobStatus, bobProblem) = await Post(bob, Routes, Job(valid.DeepClone().AsObject()));
        Assert.Equal(HttpStatusCode.BadRequest, bobStatus);
        Assert.Contains(("baseConfig.strategyClass", "unknown"), Rules(bobProblem));
        var pinned = Job(valid.DeepClone().AsObject());
        pinned["strategyVersion"] = 4;
        var (pinnedStatus, pinnedProblem) = await Post(alice, Routes, pinned);
        Assert.Equal(HttpStatusCode.BadRequest, pinnedStatus);
        Assert.Contains(("strategyVersion", "unknown"), Rules(pinnedProblem));
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>(Routes)).GetProperty("totalCount").GetInt32());

        var (started, accepted) = await Post(alice, Routes, Job(valid.DeepClone().AsObject()));
        Assert.True(started == HttpStatusCode.Accepted, accepted.ToString());
        Assert.Equal(6, accepted.GetProperty("trialsPlanned").GetInt32());
        var id = accepted.GetProperty("id").GetGuid();
        var end = await OptimizationRouteTests.WaitForEndAsync(alice, id);
        // The in-process runner refuses uploaded code: the job fails with the reason, and nothing ran.
        Assert.Equal("failed", end.GetProperty("status").GetString());
        Assert.Contains("never runs custom strategies", end.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/trials")).GetProperty("totalCount").GetInt32());
    }
}
