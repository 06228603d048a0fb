using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Storage;

namespace Backtesting.Tests.Api;

/// <summary>
/// The walk-forward routes through HTTP against the real cluster and PostgreSQL: a job's windows agree with its child
/// optimizations and backtests read through their own routes, the stitched curve is compounded here from those
/// backtests' daily equity, every bad body is a 400 naming its field and rule, and another owner sees nothing.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class WalkForwardRouteTests(ApiFixture fixture)
{
    private const string Routes = "/api/v1/walkforward";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(240);

    /// <summary>The optimization tests' 3 x 3 grid over 2019-2020, walked forward 1y in sample then 6m out: two windows.</summary>
    private static JsonObject Job(Action<JsonObject>? change = null)
    {
        var job = OptimizationRouteTests.Job();
        job["validation"] = new JsonObject { ["inSample"] = "1y", ["outOfSample"] = "6m" };
        change?.Invoke(job);
        return job;
    }

    private static HttpContent Body(JsonObject job) => new StringContent(job.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonElement> WaitForEndAsync(HttpClient client, Guid id)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var status = await client.GetFromJsonAsync<JsonElement>($"{Routes}/{id}");
            if (status.GetProperty("status").GetString() is "completed" or "cancelled" or "failed")
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"walk-forward {id} still {status.GetProperty("status").GetString()}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_job_completes_and_its_windows_agree_with_its_children_and_its_stitched_curve_with_their_equity()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        using var started = await alice.PostAsync(Routes, Body(Job()));
        var startText = await started.Content.ReadAsStringAsync();
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, startText);
        var start = JsonDocument.Parse(startText).RootElement;
        var id = start.GetProperty("id").GetGuid();
        Assert.Equal("queued", start.GetProperty("status").GetString());
        Assert.Equal(2, start.GetProperty("windowsPlanned").GetInt32());
        Assert.Equal($"{Routes}/{id}", start.GetProperty("statusUrl").GetString());
        Assert.Equal($"{Routes}/{id}", started.Headers.Location!.OriginalString);

        var done = await WaitForEndAsync(alice, id);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        var validation = done.GetProperty("validation");
        Assert.Equal(("1y", "6m", "6m", false), (validation.GetProperty("inSample").GetString(), validation.GetProperty("outOfSample").GetString(),
            validation.GetProperty("step").GetString(), validation.GetProperty("anchored").GetBoolean()));
        var windows = done.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal([("2019-01-01", "2019-12-31", "2020-01-01", "2020-06-30"), ("2019-07-01", "2020-06-30", "2020-07-01", "2020-12-31")],
            windows.Select(w => (w.GetProperty("inSampleStart").GetString(), w.GetProperty("inSampleEnd").GetString(),
                w.GetProperty("outOfSampleStart").GetString(), w.GetProperty("outOfSampleEnd").GetString())));

        double account = 100_000;
        var curve = new List<(string Date, double Equity)>();
        foreach (var window in windows)
        {
            Assert.Equal("completed", window.GetProperty("state").GetString());
            // The chosen parameters are the window's optimization's best, read through the optimization routes.
            var optimization = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/optimizations/{window.GetProperty("optimizationId").GetGuid()}");
            Assert.Equal("completed", optimization.GetProperty("status").GetString());
            var best = optimization.GetProperty("best");
            Assert.Equal(best.GetProperty("trial").GetInt32(), window.GetProperty("bestTrial").GetInt32());
            Assert.True(JsonElement.DeepEquals(best.GetProperty("parameters"), window.GetProperty("parameters")));
            Assert.True(JsonElement.DeepEquals(best.GetProperty("metrics"), window.GetProperty("inSampleMetrics")));
            var baseConfig = optimization.GetProperty("config").GetProperty("baseConfig");
            Assert.Equal(window.GetProperty("inSampleStart").GetString(), baseConfig.GetProperty("startDate").GetString());
            Assert.Equal(window.GetProperty("inSampleEnd").GetString(), baseConfig.GetProperty("endDate").GetString());

            // The out-of-sample run is an ordinary backtest of those parameters over the window's out-of-sample dates.
            var backtest = window.GetProperty("backtestId").GetGuid();
            var results = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/results/{backtest}");
            Assert.True(JsonElement.DeepEquals(results.GetProperty("metrics"), window.GetProperty("outOfSampleMetrics")));
            await using var store = new PostgresBacktestStore(fixture.Cluster.ConnectionString);
            var stored = (await store.GetResultAsync(backtest))!;
            Assert.Equal(window.GetProperty("outOfSampleStart").GetString(), stored.Config.StartDate);
            Assert.Equal(window.GetProperty("outOfSampleEnd").GetString(), stored.Config.EndDate);
            foreach (var parameter in best.GetProperty("parameters").EnumerateObject())
            {
                Assert.Equal(parameter.Value.GetDouble(), stored.Config.StrategyConfig[parameter.Name].GetDouble());
            }

            var scale = account / stored.Summary.InitialBalance;
            curve.AddRange(stored.DailyEquity.Select(day => ($"{day.Date:yyyy-MM-dd}", day.Equity * scale)));
            account = curve[^1].Equity;
        }

        var summary = done.GetProperty("summary");
        var stitched = summary.GetProperty("stitchedEquity").EnumerateArray().ToList();
        Assert.Equal(curve.Select(c => c.Date), stitched.Select(s => s.GetProperty("date").GetString()));
        foreach (var (mine, theirs) in curve.Zip(stitched))
        {
            Assert.Equal(mine.Equity, theirs.GetProperty("equity").GetDouble(), mine.Equity * 1e-9);
        }

        Assert.Equal(account / 100_000 - 1, summary.GetProperty("metrics").GetProperty("totalReturn").GetDouble(), 1e-9);
        var drift = summary.GetProperty("drift").EnumerateArray().ToList();
        Assert.Equal(["fastPeriod", "slowPeriod"], drift.Select(d => d.GetProperty("parameter").GetString()).Order());
        foreach (var parameter in drift)
        {
            var values = windows.Select(w => w.GetProperty("parameters").GetProperty(parameter.GetProperty("parameter").GetString()!).GetDouble()).ToList();
            Assert.Equal(values, parameter.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
            Assert.Equal(values[0] == values[1] ? 0 : 1, parameter.GetProperty("changes").GetInt32());
        }

        Assert.True(summary.TryGetProperty("efficiency", out _));
        Assert.Equal(JsonValueKind.Number, summary.GetProperty("tStatistic").ValueKind);

        await AssertInSampleCurves(alice, id, windows, stitched);

        var list = await alice.GetFromJsonAsync<JsonElement>(Routes);
        Assert.Equal(1, list.GetProperty("totalCount").GetInt32());
        var item = list.GetProperty("items")[0];
        Assert.Equal((id, "completed", 2), (item.GetProperty("id").GetGuid(), item.GetProperty("status").GetString(), item.GetProperty("windowsPlanned").GetInt32()));
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>($"{Routes}?status=running")).GetProperty("totalCount").GetInt32());

        using var cancel = await alice.PostAsync($"{Routes}/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal("completed", (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("currentState").GetString());
    }

    /// <summary>
    /// The in-sample curves against independent computations: each window's chosen trial's returns read here from
    /// PostgreSQL and compounded here, ending at the stitched equity before the window's out of sample; their days those
    /// of the same configuration run alone as a backtest over the in-sample dates, whose own daily equity, compounded,
    /// agrees within float32 precision.
    /// </summary>
    private async Task AssertInSampleCurves(HttpClient client, Guid id, List<JsonElement> windows, List<JsonElement> stitched)
    {
        var answer = await client.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/insample");
        Assert.Equal(id, answer.GetProperty("id").GetGuid());
        Assert.Contains("rebased to end at the stitched out-of-sample equity", answer.GetProperty("scaling").GetString(), StringComparison.Ordinal);
        Assert.Empty(answer.GetProperty("notes").EnumerateArray());
        var curves = answer.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(windows.Count, curves.Count);
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        var optimizations = new PostgresOptimizationStore(dataSource);
        var data = new Backtesting.Engine.Data.LeanDataProvider(TestPaths.LeanData);
        foreach (var (window, curve) in windows.Zip(curves))
        {
            var optimizationId = window.GetProperty("optimizationId").GetGuid();
            var trial = window.GetProperty("bestTrial").GetInt32();
            Assert.Equal((window.GetProperty("index").GetInt32(), optimizationId, trial),
                (curve.GetProperty("index").GetInt32(), curve.GetProperty("optimizationId").GetGuid(), curve.GetProperty("trial").GetInt32()));
            var outOfSampleStart = window.GetProperty("outOfSampleStart").GetString()!;
            var anchor = 100_000.0;
            foreach (var point in stitched.Where(p => string.CompareOrdinal(p.GetProperty("date").GetString(), outOfSampleStart) < 0))
            {
                anchor = point.GetProperty("equity").GetDouble();
            }

            Assert.Equal(anchor, curve.GetProperty("anchor").GetDouble());
            var points = curve.GetProperty("equity").EnumerateArray().ToList();

            // The values: the stored float32 returns compounded here in double, scaled to end at the anchor.
            var row = (await optimizations.TrialAsync(optimizationId, trial))!;
            var returns = row.DailyReturns!;
            Assert.Equal(returns.Length, points.Count);
            var growth = new double[returns.Length];
            var g = 1.0;
            for (var i = 0; i < returns.Length; i++)
            {
                growth[i] = g *= 1 + (double)returns[i];
            }

            for (var i = 0; i < points.Count; i++)
            {
                Assert.Equal(anchor * growth[i] / growth[^1], points[i].GetProperty("equity").GetDouble(), anchor * 1e-12);
            }

            Assert.Equal(anchor, points[^1].GetProperty("equity").GetDouble(), anchor * 1e-12);

            // The days and the shape: the trial's configuration run alone as a backtest over the in-sample dates.
            var optimization = await client.GetFromJsonAsync<JsonElement>($"/api/v1/optimizations/{optimizationId}");
            var config = Backtesting.Engine.Configuration.ConfigValidator.Parse(optimization.GetProperty("config").GetProperty("baseConfig").GetRawText()).Config!;
            var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(row.ParametersJson)!;
            var strategyConfig = new Dictionary<string, JsonElement>(config.StrategyConfig);
            foreach (var (name, value) in parameters)
            {
                strategyConfig[name] = value;
            }

            config = config with { StrategyConfig = strategyConfig };
            Assert.Equal(window.GetProperty("inSampleStart").GetString(), config.StartDate);
            var validation = Backtesting.Engine.Configuration.ConfigValidator.Validate(config, data, Backtesting.Engine.Strategies.StrategyCatalog.Templates,
                Backtesting.Engine.Configuration.ValidationPolicy.Local, new DateOnly(2026, 11, 24));
            Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => e.Message)));
            var alone = new Backtesting.Engine.Core.BacktestRun(validation.Spec!, data, Backtesting.Engine.Strategies.StrategyCatalog.Templates).Execute();
            Assert.Equal(alone.DailyEquity.Select(d => $"{d.Date:yyyy-MM-dd}"), points.Select(p => p.GetProperty("date").GetString()));
            var initial = alone.Summary.InitialBalance;
            var final = alone.DailyEquity[^1].Equity;
            for (var i = 0; i < points.Count; i++)
            {
                // Compounded float32 returns drift from the run's own equity by about 6e-8 relative a day at most.
                var expected = anchor * (alone.DailyEquity[i].Equity / initial) / (final / initial);
                Assert.Equal(expected, points[i].GetProperty("equity").GetDouble(), expected * 1e-7 * (points.Count + 1));
            }
        }

        // The same answer again (kept), and the JSON in the same order.
        Assert.Equal(answer.GetRawText(), (await client.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/insample")).GetRawText());
    }

    public static TheoryData<string, string, string> BrokenJobs => new()
    {
        { "no validation", "validation", "required" },
        { "validation not an object", "validation", "json" },
        { "in-sample length unreadable", "validation.inSample", "period" },
        { "out-of-sample length missing", "validation.outOfSample", "required" },
        { "step in another unit", "validation.step", "stepUnit" },
        { "step shorter than out of sample", "validation.step", "stepTooShort" },
        { "in sample longer than the span", "validation", "noWindow" },
        { "too many windows", "validation", "tooManyWindows" },
        { "unknown validation field", "validation.bogus", "json" },
        { "in-sample length a number", "validation.inSample", "json" },
        { "unknown method", "method", "allowed" },
        { "base config dates reversed", "baseConfig.endDate", "afterStart" },
        { "unknown field", "bogus", "json" },
    };

    private static JsonObject Broken(string name) => Job(job =>
    {
        var validation = job["validation"]!.AsObject();
        switch (name)
        {
            case "no validation": job.Remove("validation"); break;
            case "validation not an object": job["validation"] = "1y"; break;
            case "in-sample length unreadable": validation["inSample"] = "1x"; break;
            case "out-of-sample length missing": validation.Remove("outOfSample"); break;
            case "step in another unit": validation["step"] = "26w"; break;
            case "step shorter than out of sample": validation["step"] = "3m"; break;
            case "in sample longer than the span": validation["inSample"] = "3y"; break;
            case "too many windows": validation["inSample"] = "1d"; validation["outOfSample"] = "2d"; break;
            case "unknown validation field": validation["bogus"] = true; break;
            case "in-sample length a number": validation["inSample"] = 1; break;
            case "unknown method": job["method"] = "annealing"; break;
            case "base config dates reversed": job["baseConfig"]!["endDate"] = "2018-01-01"; break;
            case "unknown field": job["bogus"] = true; break;
            default: throw new ArgumentException(name);
        }
    });

    [Theory]
    [MemberData(nameof(BrokenJobs))]
    public async Task Every_rule_of_a_job_reaches_the_client_as_a_400_naming_its_field_and_nothing_is_stored(string name, string field, string rule)
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        using var response = await alice.PostAsync(Routes, Body(Broken(name)));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var rules = JsonDocument.Parse(text).RootElement.GetProperty("rules").EnumerateArray()
            .Select(r => (r.GetProperty("field").GetString(), r.GetProperty("rule").GetString())).ToList();
        Assert.True(rules.Contains((field, rule)), $"{name}: expected {field} {rule}, got {string.Join("; ", rules)}");
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>(Routes)).GetProperty("totalCount").GetInt32());
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>("/api/v1/optimizations")).GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task Unknown_ids_and_another_owners_job_are_404s_bad_queries_are_400s_and_a_cancel_cancels_the_children()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        var (bob, _, _) = await fixture.NewUserAsync("bob");
        using var a = alice;
        using var b = bob;
        // 468 trials a window, so that the job is still running when it is cancelled below (the 9-trial job of the other
        // tests completed within this test's requests on a loaded machine).
        using var started = await alice.PostAsync(Routes, Body(Job(j => j["parameters"] = JsonNode.Parse(
            """{"fastPeriod":{"min":2,"max":40,"step":1},"slowPeriod":{"min":50,"max":160,"step":10}}"""))));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        foreach (var job in new[] { id, Guid.NewGuid() })
        {
            foreach (var (method, url) in new[] { (HttpMethod.Get, $"{Routes}/{job}"), (HttpMethod.Post, $"{Routes}/{job}/cancel"), (HttpMethod.Get, $"{Routes}/{job}/insample") })
            {
                using var response = await bob.SendAsync(new HttpRequestMessage(method, url));
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {url}: {(int)response.StatusCode}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            }
        }

        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>(Routes)).GetProperty("totalCount").GetInt32());
        var paths = (await alice.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json")).GetProperty("paths");
        foreach (var route in new[] { Routes, $"{Routes}/{{id}}", $"{Routes}/{{id}}/cancel", $"{Routes}/{{id}}/insample" })
        {
            Assert.True(paths.TryGetProperty(route, out var operations), route);
            Assert.All(operations.EnumerateObject(), o => Assert.True(o.Value.GetProperty("responses").TryGetProperty("401", out _), $"{route} documents 401"));
        }

        foreach (var (url, field) in new[] { ($"{Routes}?status=done", "status"), ($"{Routes}?page=0", "page"), ($"{Routes}?pageSize=100000", "pageSize") })
        {
            using var response = await alice.GetAsync(url);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {text}");
            Assert.Contains($"\"{field}\"", text, StringComparison.Ordinal);
        }

        using var cancel = await alice.PostAsync($"{Routes}/{id}/cancel", null);
        var cancelled = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(cancel.StatusCode == HttpStatusCode.OK, cancelled.ToString());
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        // A job that did not complete has no stitched curve to draw in-sample curves against.
        using var noCurves = await alice.GetAsync($"{Routes}/{id}/insample");
        Assert.Equal(HttpStatusCode.Conflict, noCurves.StatusCode);
        Assert.Equal("cancelled", (await noCurves.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("currentState").GetString());
        foreach (var window in cancelled.GetProperty("windows").EnumerateArray())
        {
            var optimization = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/optimizations/{window.GetProperty("optimizationId").GetGuid()}");
            // A window whose optimization had already completed keeps it; none is left running.
            Assert.Contains(optimization.GetProperty("status").GetString(), new[] { "cancelled", "completed" });
        }
    }
}
