using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Tests.Cluster;

namespace Backtesting.Tests.Api;

/// <summary>The API on a cluster whose silos are configured with Backtesting:MaxDurationYears = 8 (the API itself is not told).</summary>
public sealed class EightYearApiFixture : ApiFixture
{
    public const int Years = 8;

    protected override Task<TestClusterHost> StartClusterAsync() =>
        TestClusterHost.StartAsync(silos: 1, o => o.MaxDurationYears = Years.ToString(CultureInfo.InvariantCulture));
}

[CollectionDefinition(Name)]
public sealed class EightYearApiCollection : ICollectionFixture<EightYearApiFixture>
{
    public const string Name = "api-eight-years";
}

/// <summary>
/// The cluster's maximum duration through HTTP when it is not the default: the options route serves the silos' value, and
/// a backtest, an optimization (and its plan) and a walk-forward ending on the start plus eight years are accepted while
/// one day more is a 400 naming the field, the rule and the limit.
/// </summary>
[Collection(EightYearApiCollection.Name)]
public sealed class MaxDurationConfigurationTests(EightYearApiFixture fixture)
{
    private const int Years = EightYearApiFixture.Years;
    private static readonly DateOnly Start = new(2012, 1, 3);
    private static readonly DateOnly Last = Start.AddYears(Years);

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static Dictionary<string, object?> Backtest(DateOnly end) => ApiFixture.Config(c =>
    {
        c["startDate"] = Date(Start);
        c["endDate"] = Date(end);
    });

    /// <summary>
    /// One trial over the span; with <paramref name="walkForward"/> also two years in sample and four out (two windows, the
    /// second cut at the span's end).
    /// </summary>
    private static HttpContent Job(DateOnly end, bool walkForward = false)
    {
        var job = OptimizationRouteTests.Job(j =>
        {
            j["baseConfig"]!["startDate"] = Date(Start);
            j["baseConfig"]!["endDate"] = Date(end);
            j["parameters"] = JsonNode.Parse("""{"fastPeriod":{"values":[10]},"slowPeriod":{"values":[50]}}""");
            if (walkForward)
            {
                j["validation"] = new JsonObject { ["inSample"] = "2y", ["outOfSample"] = "4y" };
            }
        });
        return new StringContent(job.ToJsonString(), Encoding.UTF8, "application/json");
    }

    /// <summary>A 400 whose only error is the field's maxDuration, its message naming the limit and the last day admitted.</summary>
    private static async Task AssertRefused(HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        var rule = Assert.Single(body.GetProperty("rules").EnumerateArray().ToList());
        Assert.Equal((field, "maxDuration"), (rule.GetProperty("field").GetString(), rule.GetProperty("rule").GetString()));
        var message = Assert.Single(body.GetProperty("errors").GetProperty(field).EnumerateArray().ToList()).GetString()!;
        Assert.Contains($"more than {Years} years", message, StringComparison.Ordinal);
        Assert.Contains($"endDate at most {Date(Last)}", message, StringComparison.Ordinal);
    }

    private static async Task<Guid> AssertAccepted(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task The_options_route_serves_the_limit_the_silos_were_given()
    {
        using var client = fixture.Client(ApiFixture.AliceKey);
        var options = await client.GetFromJsonAsync<JsonElement>("/api/v1/configuration/options");
        Assert.Equal(Years, options.GetProperty("maxDurationYears").GetInt32());
    }

    [Fact]
    public async Task A_backtest_may_span_eight_years_to_the_day_and_not_one_more()
    {
        var (client, _, _) = await fixture.NewUserAsync("eight");
        using (client)
        {
            var id = await ApiFixture.StartAsync(client, Backtest(Last));
            Assert.Equal("completed", await ApiFixture.WaitForEndAsync(client, id));
            using var refused = await client.PostAsJsonAsync("/api/v1/nautilus/backtest/start", Backtest(Last.AddDays(1)));
            await AssertRefused(refused, "endDate");
        }
    }

    [Fact]
    public async Task An_optimization_and_its_plan_may_span_eight_years_to_the_day_and_not_one_more()
    {
        var (client, _, _) = await fixture.NewUserAsync("eight");
        using (client)
        {
            using var plan = await client.PostAsync("/api/v1/optimizations/plan", Job(Last));
            Assert.True(plan.IsSuccessStatusCode, await plan.Content.ReadAsStringAsync());
            using var refusedPlan = await client.PostAsync("/api/v1/optimizations/plan", Job(Last.AddDays(1)));
            await AssertRefused(refusedPlan, "baseConfig.endDate");

            using var started = await client.PostAsync("/api/v1/optimizations", Job(Last));
            var id = await AssertAccepted(started);
            using var refused = await client.PostAsync("/api/v1/optimizations", Job(Last.AddDays(1)));
            await AssertRefused(refused, "baseConfig.endDate");
            await WaitForEnd(client, $"/api/v1/optimizations/{id}");
        }
    }

    [Fact]
    public async Task A_walk_forward_may_span_eight_years_to_the_day_and_not_one_more()
    {
        var (client, _, _) = await fixture.NewUserAsync("eight");
        using (client)
        {
            using var started = await client.PostAsync("/api/v1/walkforward", Job(Last, walkForward: true));
            var id = await AssertAccepted(started);
            using var refused = await client.PostAsync("/api/v1/walkforward", Job(Last.AddDays(1), walkForward: true));
            await AssertRefused(refused, "baseConfig.endDate");
            await WaitForEnd(client, $"/api/v1/walkforward/{id}");
        }
    }

    /// <summary>An accepted job runs to its end like any other.</summary>
    private static async Task WaitForEnd(HttpClient client, string statusRoute)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        string? status;
        do
        {
            status = (await client.GetFromJsonAsync<JsonElement>(statusRoute)).GetProperty("status").GetString();
            if (status is "completed" or "cancelled" or "failed")
            {
                break;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal("completed", status);
    }
}
