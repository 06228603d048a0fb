using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using CsvHelper;
using Microsoft.AspNetCore.SignalR.Client;

namespace Backtesting.Tests.Api;

/// <summary>
/// Every optimization route's success and error paths, through HTTP, against the real cluster and PostgreSQL: the
/// numbers are checked against the trials themselves (best, sort order, surface cells) and against a backtest of the
/// same config, re-derived here independently of the API's code.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class OptimizationRouteTests(ApiFixture fixture)
{
    private const string Routes = "/api/v1/optimizations";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    /// <summary>A 3 x 3 grid over MovingAverageCross on SPY (two years of daily bars): nine trials, all feasible.</summary>
    internal static JsonObject Job(Action<JsonObject>? change = null)
    {
        var job = new JsonObject
        {
            ["name"] = "grid on SPY",
            ["baseConfig"] = JsonSerializer.SerializeToNode(ApiFixture.Config(c => c["strategyConfig"] = new Dictionary<string, object> { ["maType"] = "SMA" })),
            ["parameters"] = new JsonObject
            {
                ["fastPeriod"] = new JsonObject { ["min"] = 5, ["max"] = 15, ["step"] = 5 },
                ["slowPeriod"] = new JsonObject { ["values"] = new JsonArray(50, 30, 40) },
            },
            ["method"] = "grid",
            ["objective"] = new JsonObject { ["metric"] = "sharpeRatio", ["direction"] = "maximize" },
            ["constraints"] = new JsonArray(),
            ["seed"] = 7,
            ["priority"] = "normal",
        };
        change?.Invoke(job);
        return job;
    }

    private static HttpContent Body(JsonObject job) => new StringContent(job.ToJsonString(), Encoding.UTF8, "application/json");

    internal static async Task<Guid> StartAsync(HttpClient client, JsonObject job)
    {
        using var response = await client.PostAsync(Routes, Body(job));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"start answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    internal static async Task<JsonElement> WaitForEndAsync(HttpClient client, Guid id)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var status = await client.GetFromJsonAsync<JsonElement>($"{Routes}/{id}");
            if (status.GetProperty("status").GetString() is "completed" or "cancelled" or "failed")
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"optimization {id} still {status.GetProperty("status").GetString()}");
            await Task.Delay(200);
        }
    }

    private static async Task<List<JsonElement>> AllTrialsAsync(HttpClient client, Guid id, string query = "sort=trial")
    {
        var trials = new List<JsonElement>();
        for (var page = 1; ; page++)
        {
            var read = await client.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/trials?{query}&page={page}&pageSize=4");
            var items = read.GetProperty("items").EnumerateArray().ToList();
            trials.AddRange(items);
            if (items.Count < 4)
            {
                Assert.Equal(trials.Count, read.GetProperty("totalCount").GetInt32());
                return trials;
            }
        }
    }

    private static double? Metric(JsonElement trial, string name) =>
        trial.GetProperty("metrics") is { ValueKind: JsonValueKind.Object } metrics && metrics.GetProperty(name) is { ValueKind: JsonValueKind.Number } value
            ? value.GetDouble()
            : null;

    [Fact]
    public async Task A_grid_completes_and_its_status_trials_sorting_paging_surface_and_listing_agree_with_the_trials()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        using var plan = await alice.PostAsync($"{Routes}/plan", Body(Job()));
        Assert.Equal(HttpStatusCode.OK, plan.StatusCode);
        Assert.Equal(9, (await plan.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("trialsPlanned").GetInt64());

        using var start = await alice.PostAsync(Routes, Body(Job()));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var started = await start.Content.ReadFromJsonAsync<JsonElement>();
        var id = started.GetProperty("id").GetGuid();
        Assert.Equal(9, started.GetProperty("trialsPlanned").GetInt64());
        Assert.Equal($"{Routes}/{id}", started.GetProperty("statusUrl").GetString());
        Assert.Equal($"{Routes}/{id}", start.Headers.Location!.OriginalString);

        var status = await WaitForEndAsync(alice, id);
        Assert.Equal("completed", status.GetProperty("status").GetString());
        Assert.Equal("MovingAverageCross", status.GetProperty("strategy").GetString());
        Assert.Equal("grid", status.GetProperty("method").GetString());
        Assert.Equal("sharpeRatio", status.GetProperty("objective").GetProperty("metric").GetString());
        var progress = status.GetProperty("progress");
        Assert.Equal(9, progress.GetProperty("trialsCompleted").GetInt32());
        Assert.Equal(9, progress.GetProperty("trialsPlanned").GetInt32());
        Assert.True(progress.TryGetProperty("estimatedTimeRemaining", out _));
        Assert.Equal("grid", status.GetProperty("config").GetProperty("method").GetString());

        // Every trial once, in trial order; the grid's points in nested-loop order (fastPeriod slowest, the list as given).
        var trials = await AllTrialsAsync(alice, id);
        Assert.Equal(Enumerable.Range(0, 9), trials.Select(t => t.GetProperty("trial").GetInt32()));
        var expectedPoints = new[] { 5, 10, 15 }.SelectMany(f => new[] { 50, 30, 40 }.Select(s => (f, s))).ToList();
        Assert.Equal(expectedPoints, trials.Select(t => (t.GetProperty("parameters").GetProperty("fastPeriod").GetInt32(),
            t.GetProperty("parameters").GetProperty("slowPeriod").GetInt32())));
        Assert.All(trials, t => Assert.True(t.GetProperty("feasible").GetBoolean()));
        Assert.All(trials, t => Assert.Equal(Metric(t, "sharpeRatio"), t.GetProperty("objective").GetDouble()));

        // The best: the highest objective, ties to the lowest trial number, recomputed here from the rows.
        var best = trials.OrderByDescending(t => t.GetProperty("objective").GetDouble()).ThenBy(t => t.GetProperty("trial").GetInt32()).First();
        Assert.Equal(best.GetProperty("trial").GetInt32(), status.GetProperty("best").GetProperty("trial").GetInt32());
        Assert.Equal(best.GetProperty("objective").GetDouble(), status.GetProperty("best").GetProperty("objective").GetDouble());

        // Sorting: every order the route offers is the order of the values, ties by trial number, and a page-walk sees each trial once.
        foreach (var (sort, key, descending) in new (string, Func<JsonElement, double?>, bool)[]
                 {
                     ("-sharpeRatio", t => Metric(t, "sharpeRatio"), true), ("sharpeRatio", t => Metric(t, "sharpeRatio"), false),
                     ("-totalReturn", t => Metric(t, "totalReturn"), true), ("maxDrawdown", t => Metric(t, "maxDrawdown"), false),
                     ("-objective", t => t.GetProperty("objective").GetDouble(), true), ("objective", t => t.GetProperty("objective").GetDouble(), false),
                     ("-trial", t => t.GetProperty("trial").GetInt32(), true),
                 })
        {
            var sorted = await AllTrialsAsync(alice, id, $"sort={sort}");
            var expected = (descending ? trials.OrderByDescending(key) : trials.OrderBy(key))
                .ThenBy(t => sort == "-trial" ? 0 : t.GetProperty("trial").GetInt32()).Select(t => t.GetProperty("trial").GetInt32());
            Assert.Equal(expected, sorted.Select(t => t.GetProperty("trial").GetInt32()));
        }

        // Without a sort: best objective first.
        var defaultOrder = await AllTrialsAsync(alice, id, "feasible=true");
        Assert.Equal(best.GetProperty("trial").GetInt32(), defaultOrder[0].GetProperty("trial").GetInt32());
        Assert.Empty((await alice.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/trials?feasible=false")).GetProperty("items").EnumerateArray());

        // The surface: the axes in the space's order, each cell the best over its trials.
        foreach (var metric in new[] { "sharpeRatio", "totalReturn" })
        {
            var surface = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/surface?x=fastPeriod&y=slowPeriod&metric={metric}");
            Assert.Equal([5, 10, 15], surface.GetProperty("xValues").EnumerateArray().Select(v => v.GetInt32()));
            Assert.Equal([50, 30, 40], surface.GetProperty("yValues").EnumerateArray().Select(v => v.GetInt32()));
            var cells = surface.GetProperty("cells").EnumerateArray().ToList();
            Assert.Equal(9, cells.Count);
            foreach (var cell in cells)
            {
                var inCell = trials.Where(t => t.GetProperty("parameters").GetProperty("fastPeriod").GetInt32() == cell.GetProperty("x").GetInt32()
                    && t.GetProperty("parameters").GetProperty("slowPeriod").GetInt32() == cell.GetProperty("y").GetInt32()).ToList();
                Assert.Equal(inCell.Count, cell.GetProperty("trials").GetInt32());
                Assert.Equal(inCell.Max(t => Metric(t, metric)), cell.GetProperty("best").GetDouble());
            }
        }

        // The default metric is the objective's.
        Assert.Equal("sharpeRatio", (await alice.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/surface?x=slowPeriod&y=fastPeriod")).GetProperty("metric").GetString());

        var list = await alice.GetFromJsonAsync<JsonElement>($"{Routes}?status=completed");
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(id, item.GetProperty("id").GetGuid());
        Assert.Equal(9, item.GetProperty("trialsCompleted").GetInt32());
        Assert.Equal(9, item.GetProperty("trialsPlanned").GetInt32());
        Assert.Equal(best.GetProperty("objective").GetDouble(), item.GetProperty("bestObjective").GetDouble());
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>($"{Routes}?status=running")).GetProperty("totalCount").GetInt32());

        // Exports parse back: one row per trial, parameters and every metric as columns, the values of the rows.
        var csvBytes = await alice.GetByteArrayAsync($"{Routes}/{id}/trials/export?format=csv");
        using (var reader = new CsvReader(new StreamReader(new MemoryStream(csvBytes)), CultureInfo.InvariantCulture))
        {
            var rows = reader.GetRecords<dynamic>().Cast<IDictionary<string, object>>().ToList();
            Assert.Equal(9, rows.Count);
            foreach (var (row, trial) in rows.Zip(trials))
            {
                Assert.Equal(trial.GetProperty("trial").GetInt32().ToString(CultureInfo.InvariantCulture), row["trial"]);
                Assert.Equal(trial.GetProperty("parameters").GetProperty("fastPeriod").GetInt32(), int.Parse((string)row["fastPeriod"], CultureInfo.InvariantCulture));
                Assert.Equal(Metric(trial, "sharpeRatio"), double.Parse((string)row["sharpeRatio"], CultureInfo.InvariantCulture));
                Assert.Equal(trial.GetProperty("tradeCount").GetInt32().ToString(CultureInfo.InvariantCulture), row["tradeCount"]);
            }

            Assert.Contains("maxDrawdown", rows[0].Keys);
            Assert.Contains("slowPeriod", rows[0].Keys);
        }

        using var xlsx = await alice.GetAsync($"{Routes}/{id}/trials/export?format=xlsx");
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx.Content.Headers.ContentType!.MediaType);
        var book = XlsxBook.Open(await xlsx.Content.ReadAsByteArrayAsync());
        Assert.Equal(["Trials", "Robustness", "Logits"], book.SheetNames);
        Assert.Equal(10, book.RowsUsed("Trials")); // the header and nine trials
        Assert.Equal(Enumerable.Range(0, 9).Select(n => (double)n), book.Column("Trials", "A").Skip(1).Select(c => c.Number));

        // Delete: 204, then the job is gone for every route.
        using var delete = await alice.DeleteAsync($"{Routes}/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await alice.GetAsync($"{Routes}/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    /// <summary>Each rule of the job (docs/optimization.md's table) with a body that breaks it, and the field the 400 must name.</summary>
    public static TheoryData<string, string, string> BrokenJobs() => new()
    {
        { "unknown parameter", "parameters.bogus", "unknown" },
        { "fixed value of the wrong type", "parameters.fastPeriod", "type" },
        { "fixed value outside the schema", "parameters.fastPeriod", "range" },
        { "word not allowed", "parameters.maType", "allowed" },
        { "range over a boolean", "parameters.allowShort", "type" },
        { "range without min", "parameters.fastPeriod.min", "required" },
        { "fractional min of an integer", "parameters.fastPeriod.min", "integer" },
        { "min outside the schema", "parameters.fastPeriod.min", "schemaRange" },
        { "max outside the schema", "parameters.slowPeriod.max", "schemaRange" },
        { "min above max", "parameters.fastPeriod.max", "minMax" },
        { "zero step", "parameters.fastPeriod.step", "step" },
        { "grid over a number range without step", "parameters.oversold.step", "required" },
        { "log range at zero", "parameters.oversold.min", "logMin" },
        { "log range with a step", "parameters.fastPeriod.step", "logStep" },
        { "log range in a grid", "parameters.fastPeriod.log", "method" },
        { "unknown range key", "parameters.fastPeriod.by", "unknown" },
        { "unknown list key", "parameters.fastPeriod.step", "unknown" },
        { "empty list", "parameters.fastPeriod.values", "nonEmpty" },
        { "listed twice", "parameters.fastPeriod.values[1]", "duplicate" },
        { "listed value of the wrong type", "parameters.fastPeriod.values[1]", "type" },
        { "range too fine", "parameters.oversold.step", "tooFine" },
        { "grid too large", "parameters", "gridTooLarge" },
        { "unknown method", "method", "allowed" },
        { "unknown direction", "objective.direction", "allowed" },
        { "unknown priority", "priority", "allowed" },
        { "unknown objective metric", "objective.metric", "unknown" },
        { "unknown constraint metric", "constraints[0].metric", "unknown" },
        { "unknown constraint op", "constraints[0].op", "allowed" },
        { "too many constraints", "constraints", "maxCount" },
        { "random without maxTrials", "maxTrials", "required" },
        { "maxTrials zero", "maxTrials", "range" },
        { "name too long", "name", "maxLength" },
        { "name null", "name", "required" },
        { "name with a control character", "name", "controlCharacter" },
        { "range bound too large for a number", "parameters.fastPeriod.max", "type" },
        { "base config dates reversed", "baseConfig.endDate", "afterStart" },
        { "unknown field", "bogus", "json" },
    };

    private static JsonObject Broken(string name) => Job(job =>
    {
        var parameters = job["parameters"]!.AsObject();
        void Rsi() => job["baseConfig"]!["strategyClass"] = "RsiMeanReversion";
        switch (name)
        {
            case "unknown parameter": parameters["bogus"] = 1; break;
            case "fixed value of the wrong type": parameters["fastPeriod"] = "ten"; break;
            case "fixed value outside the schema": parameters["fastPeriod"] = 0; break;
            case "word not allowed": parameters["maType"] = "WMA"; break;
            case "range over a boolean": parameters["allowShort"] = new JsonObject { ["min"] = 0, ["max"] = 1 }; break;
            case "range without min": parameters["fastPeriod"] = new JsonObject { ["max"] = 10 }; break;
            case "fractional min of an integer": parameters["fastPeriod"] = new JsonObject { ["min"] = 1.5, ["max"] = 10 }; break;
            case "min outside the schema": parameters["fastPeriod"] = new JsonObject { ["min"] = 0, ["max"] = 10 }; break;
            case "max outside the schema": parameters["slowPeriod"] = new JsonObject { ["min"] = 20, ["max"] = 5000 }; break;
            case "min above max": parameters["fastPeriod"] = new JsonObject { ["min"] = 20, ["max"] = 10 }; break;
            case "zero step": parameters["fastPeriod"] = new JsonObject { ["min"] = 1, ["max"] = 10, ["step"] = 0 }; break;
            case "grid over a number range without step":
                Rsi();
                job["parameters"] = new JsonObject { ["oversold"] = new JsonObject { ["min"] = 10, ["max"] = 40 } };
                break;
            case "log range at zero":
                Rsi();
                job["method"] = "random";
                job["maxTrials"] = 5;
                job["parameters"] = new JsonObject { ["oversold"] = new JsonObject { ["min"] = 0, ["max"] = 40, ["log"] = true } };
                break;
            case "log range with a step":
                job["method"] = "random";
                job["maxTrials"] = 5;
                parameters["fastPeriod"] = new JsonObject { ["min"] = 1, ["max"] = 10, ["step"] = 1, ["log"] = true };
                break;
            case "log range in a grid": parameters["fastPeriod"] = new JsonObject { ["min"] = 1, ["max"] = 10, ["log"] = true }; break;
            case "unknown range key": parameters["fastPeriod"] = new JsonObject { ["min"] = 1, ["max"] = 10, ["by"] = 2 }; break;
            case "unknown list key": parameters["fastPeriod"] = new JsonObject { ["values"] = new JsonArray(5), ["step"] = 1 }; break;
            case "empty list": parameters["fastPeriod"] = new JsonObject { ["values"] = new JsonArray() }; break;
            case "listed twice": parameters["fastPeriod"] = new JsonObject { ["values"] = new JsonArray(5, 5) }; break;
            case "listed value of the wrong type": parameters["fastPeriod"] = new JsonObject { ["values"] = new JsonArray(5, "x") }; break;
            case "range too fine":
                Rsi();
                job["parameters"] = new JsonObject { ["oversold"] = new JsonObject { ["min"] = 0, ["max"] = 100, ["step"] = 0.00001 } };
                break;
            case "grid too large":
                parameters["fastPeriod"] = new JsonObject { ["min"] = 1, ["max"] = 500 };
                parameters["slowPeriod"] = new JsonObject { ["min"] = 2, ["max"] = 1000 };
                break;
            case "unknown method": job["method"] = "annealing"; break;
            case "unknown direction": job["objective"]!["direction"] = "up"; break;
            case "unknown priority": job["priority"] = "asap"; break;
            case "unknown objective metric": job["objective"]!["metric"] = "alpha2"; break;
            case "unknown constraint metric": job["constraints"] = new JsonArray(new JsonObject { ["metric"] = "nope", ["op"] = ">=", ["value"] = 1 }); break;
            case "unknown constraint op": job["constraints"] = new JsonArray(new JsonObject { ["metric"] = "totalTrades", ["op"] = "==", ["value"] = 1 }); break;
            case "too many constraints":
                job["constraints"] = new JsonArray(Enumerable.Range(0, 21)
                    .Select(_ => (JsonNode?)new JsonObject { ["metric"] = "totalTrades", ["op"] = ">=", ["value"] = 0 }).ToArray());
                break;
            case "random without maxTrials": job["method"] = "random"; break;
            case "maxTrials zero": job["maxTrials"] = 0; break;
            case "name too long": job["name"] = new string('n', 201); break;
            case "name null": job["name"] = null; break;
            case "name with a control character": job["name"] = "grid\u001b[31m"; break;
            case "range bound too large for a number": parameters["fastPeriod"] = JsonNode.Parse("""{"min":1,"max":1e999}"""); break;
            case "base config dates reversed": job["baseConfig"]!["endDate"] = "2018-01-01"; break;
            case "unknown field": job["bogus"] = true; break;
            default: throw new ArgumentException(name);
        }
    });

    [Theory]
    [MemberData(nameof(BrokenJobs))]
    public async Task Every_rule_of_a_job_reaches_the_client_as_a_400_naming_its_field_on_plan_and_start_and_nothing_is_stored(string name, string field,
        string rule)
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        foreach (var route in new[] { $"{Routes}/plan", Routes })
        {
            using var response = await alice.PostAsync(route, Body(Broken(name)));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route} {name}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            var rules = JsonDocument.Parse(text).RootElement.GetProperty("rules").EnumerateArray()
                .Select(r => (r.GetProperty("field").GetString(), r.GetProperty("rule").GetString())).ToList();
            Assert.True(rules.Contains((field, rule)), $"{route} {name}: expected {field} {rule}, got {string.Join("; ", rules)}");
        }

        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>(Routes)).GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task Bad_queries_are_400s_naming_the_parameter()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await StartAsync(alice, Job());
        foreach (var (url, field) in new[]
                 {
                     ($"{Routes}/{id}/trials?sort=bogus", "sort"), ($"{Routes}/{id}/trials?sort=--sharpeRatio", "sort"),
                     ($"{Routes}/{id}/trials?sort=", "sort"), ($"{Routes}/{id}/trials?page=0", "page"), ($"{Routes}/{id}/trials?pageSize=100000", "pageSize"),
                     ($"{Routes}/{id}/trials?feasible=maybe", "feasible"), ($"{Routes}?status=done", "status"), ($"{Routes}?page=-1", "page"),
                     ($"{Routes}/{id}/surface?x=fastPeriod", "y"), ($"{Routes}/{id}/surface?x=bogus&y=slowPeriod", "x"),
                     ($"{Routes}/{id}/surface?x=fastPeriod&y=fastPeriod", "y"), ($"{Routes}/{id}/surface?x=fastPeriod&y=slowPeriod&metric=nope", "metric"),
                     ($"{Routes}/{id}/trials/export?format=docx", "format"),
                 })
        {
            using var response = await alice.GetAsync(url);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {text}");
            Assert.Contains($"\"{field}\"", text, StringComparison.Ordinal);
        }

        using var notANumber = await alice.PostAsync($"{Routes}/{id}/trials/first/backtest", null);
        Assert.Equal(HttpStatusCode.BadRequest, notANumber.StatusCode);
        Assert.Contains("\"trial\"", await notANumber.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await WaitForEndAsync(alice, id);
    }

    [Fact]
    public async Task Unknown_ids_and_another_owners_job_are_404_on_every_route_and_illegal_moves_are_409s()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        var (bob, _, _) = await fixture.NewUserAsync("bob");
        using var a = alice;
        using var b = bob;
        var id = await StartAsync(alice, Job());
        foreach (var job in new[] { id, Guid.NewGuid() })
        {
            foreach (var (method, url) in new[]
                     {
                         (HttpMethod.Get, $"{Routes}/{job}"), (HttpMethod.Get, $"{Routes}/{job}/trials"),
                         (HttpMethod.Get, $"{Routes}/{job}/surface?x=fastPeriod&y=slowPeriod"), (HttpMethod.Get, $"{Routes}/{job}/trials/export"),
                         (HttpMethod.Post, $"{Routes}/{job}/cancel"), (HttpMethod.Post, $"{Routes}/{job}/pause"), (HttpMethod.Post, $"{Routes}/{job}/resume"),
                         (HttpMethod.Post, $"{Routes}/{job}/trials/0/backtest"), (HttpMethod.Delete, $"{Routes}/{job}"),
                     })
            {
                using var response = await bob.SendAsync(new HttpRequestMessage(method, url));
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {url}: {(int)response.StatusCode}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            }
        }

        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>(Routes)).GetProperty("totalCount").GetInt32());
        Assert.Equal("completed", (await WaitForEndAsync(alice, id)).GetProperty("status").GetString());

        // Alice's job was untouched by all that, and as a terminal job it refuses every move, naming its state.
        foreach (var move in new[] { "cancel", "pause", "resume" })
        {
            using var response = await alice.PostAsync($"{Routes}/{id}/{move}", null);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("completed", problem.GetProperty("currentState").GetString());
        }

        using var unknownTrial = await alice.PostAsync($"{Routes}/{id}/trials/99/backtest", null);
        Assert.Equal(HttpStatusCode.NotFound, unknownTrial.StatusCode);
    }

    [Fact]
    public async Task A_running_job_pauses_resumes_and_cancels_keeping_its_trials()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        // A grid large enough to be caught running.
        var id = await StartAsync(alice, Job(job => job["parameters"] = new JsonObject
        {
            ["fastPeriod"] = new JsonObject { ["min"] = 2, ["max"] = 40, ["step"] = 1 },
            ["slowPeriod"] = new JsonObject { ["min"] = 50, ["max"] = 200, ["step"] = 10 },
        }));
        using var pause = await alice.PostAsync($"{Routes}/{id}/pause", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.Equal("paused", (await pause.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        using var pauseAgain = await alice.PostAsync($"{Routes}/{id}/pause", null);
        Assert.Equal(HttpStatusCode.Conflict, pauseAgain.StatusCode);
        Assert.Equal("paused", (await pauseAgain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("currentState").GetString());

        using var resume = await alice.PostAsync($"{Routes}/{id}/resume", null);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Contains((await resume.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString(), new[] { "queued", "running" });

        using var cancel = await alice.PostAsync($"{Routes}/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var status = await WaitForEndAsync(alice, id);
        Assert.Equal("cancelled", status.GetProperty("status").GetString());
        var stored = (await alice.GetFromJsonAsync<JsonElement>($"{Routes}/{id}/trials?pageSize=1")).GetProperty("totalCount").GetInt32();
        Assert.Equal(status.GetProperty("progress").GetProperty("trialsCompleted").GetInt32(), stored);
        Assert.True(stored < 39 * 16);
    }

    [Fact]
    public async Task A_trial_opened_as_a_backtest_runs_exactly_its_config_and_gets_the_trials_metrics_and_an_infeasible_trial_is_a_409()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        // fastPeriod 40 with slowPeriod 30 breaks the strategy's own rule: that trial is infeasible and never ran.
        var id = await StartAsync(alice, Job(job => job["parameters"] = new JsonObject
        {
            ["fastPeriod"] = new JsonObject { ["values"] = new JsonArray(10, 40) },
            ["slowPeriod"] = 30,
        }));
        await WaitForEndAsync(alice, id);
        var trials = await AllTrialsAsync(alice, id);
        Assert.Equal(2, trials.Count);
        var feasible = trials[0];
        var infeasible = trials[1];
        Assert.True(feasible.GetProperty("feasible").GetBoolean());
        Assert.False(infeasible.GetProperty("feasible").GetBoolean());
        Assert.StartsWith("strategy rule:", infeasible.GetProperty("infeasibleReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, infeasible.GetProperty("metrics").ValueKind);

        using var refused = await alice.PostAsync($"{Routes}/{id}/trials/1/backtest", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);

        using var open = await alice.PostAsync($"{Routes}/{id}/trials/0/backtest", null);
        Assert.Equal(HttpStatusCode.Accepted, open.StatusCode);
        var backtestId = (await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, backtestId));
        var results = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/results/{backtestId}");
        var trialMetrics = feasible.GetProperty("metrics");
        var backtestMetrics = results.GetProperty("metrics");
        Assert.Equal(trialMetrics.EnumerateObject().Select(p => p.Name).Order(), backtestMetrics.EnumerateObject().Select(p => p.Name).Order());
        foreach (var metric in trialMetrics.EnumerateObject())
        {
            var other = backtestMetrics.GetProperty(metric.Name);
            Assert.True(metric.Value.ValueKind == JsonValueKind.Number
                ? other.ValueKind == JsonValueKind.Number && metric.Value.GetDouble() == other.GetDouble()
                : metric.Value.GetRawText() == other.GetRawText(), $"{metric.Name}: trial {metric.Value} backtest {other}");
        }

        Assert.Equal(feasible.GetProperty("contentHash").GetString(), results.GetProperty("contentHash").GetString());
    }

    [Fact]
    public async Task A_trial_opened_as_a_backtest_reuses_the_stored_backtest_whose_content_hash_it_matches()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        // A balance of this test's own, so that no other test's backtest can be the stored one.
        const int balance = 123_461;
        var id = await StartAsync(alice, Job(job =>
        {
            job["baseConfig"]!["initialBalance"] = balance;
            job["parameters"] = new JsonObject { ["fastPeriod"] = new JsonObject { ["values"] = new JsonArray(10) }, ["slowPeriod"] = 30 };
        }));
        await WaitForEndAsync(alice, id);
        var trial = Assert.Single(await AllTrialsAsync(alice, id));

        // The trial's config, run first as an ordinary backtest without the cache: stored under the trial's content hash.
        var stored = await ApiFixture.StartAsync(alice, ApiFixture.Config(c =>
        {
            c["initialBalance"] = balance;
            c["strategyConfig"] = new Dictionary<string, object> { ["maType"] = "SMA", ["fastPeriod"] = 10, ["slowPeriod"] = 30 };
            c["useCache"] = false;
        }));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, stored));
        var storedResults = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/results/{stored}");
        Assert.Equal(trial.GetProperty("contentHash").GetString(), storedResults.GetProperty("contentHash").GetString());

        using var open = await alice.PostAsync($"{Routes}/{id}/trials/0/backtest", null);
        Assert.Equal(HttpStatusCode.Accepted, open.StatusCode);
        var opened = (await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.NotEqual(stored, opened);
        var status = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/status/{opened}");
        Assert.Equal("completed", status.GetProperty("status").GetString());
        Assert.True(status.GetProperty("fromCache").GetBoolean());
        var openedResults = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/results/{opened}");
        Assert.Equal(storedResults.GetProperty("contentHash").GetString(), openedResults.GetProperty("contentHash").GetString());
        Assert.Equal(storedResults.GetProperty("metrics").GetRawText(), openedResults.GetProperty("metrics").GetRawText());
    }

    [Fact]
    public async Task The_live_feed_over_a_WebSocket_and_SignalR_sends_the_status_then_every_trial_once_and_ends_with_the_completion()
    {
        var (alice, _, aliceKey) = await fixture.NewUserAsync("alice");
        var (bob, _, _) = await fixture.NewUserAsync("bob");
        using var a = alice;
        using var b = bob;
        var id = await StartAsync(alice, Job());

        var messages = Channel.CreateUnbounded<JsonElement>();
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(fixture.BaseAddress, "/hubs/backtests"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(aliceKey))
            .Build();
        connection.On<JsonElement>("message", m => messages.Writer.TryWrite(m));
        await connection.StartAsync();
        await connection.InvokeAsync("SubscribeOptimization", id.ToString());

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + aliceKey);
        var wsBase = new UriBuilder(fixture.BaseAddress) { Scheme = "ws" }.Uri;
        await socket.ConnectAsync(new Uri(wsBase, $"/ws/optimization/{id}"), CancellationToken.None);

        using var timeout = new CancellationTokenSource(Deadline);
        var fromSocket = new List<JsonElement>();
        while (await RealtimeTests.ReceiveOrClose(socket, timeout.Token) is { } message)
        {
            fromSocket.Add(message);
        }

        var fromHub = new List<JsonElement>();
        while (fromHub.Count == 0 || fromHub[^1].GetProperty("type").GetString() != "optimization_complete")
        {
            fromHub.Add(await messages.Reader.ReadAsync(timeout.Token));
        }

        foreach (var received in new[] { fromSocket, fromHub })
        {
            Assert.Equal("optimization_progress", received[0].GetProperty("type").GetString());
            var complete = received[^1];
            Assert.Equal("optimization_complete", complete.GetProperty("type").GetString());
            Assert.Equal("completed", complete.GetProperty("data").GetProperty("status").GetString());
            Assert.All(received, m => Assert.Equal(id.ToString(), m.GetProperty("optimizationId").GetString()));
            Assert.All(received, m => Assert.Contains(m.GetProperty("type").GetString(),
                new[] { "optimization_progress", "optimization_trials", "optimization_complete" }));
            // Every trial exactly once, snapshot and live together.
            var numbers = received.Where(m => m.GetProperty("type").GetString() == "optimization_trials")
                .SelectMany(m => m.GetProperty("data").GetProperty("trials").EnumerateArray()).Select(t => t.GetProperty("trial").GetInt32()).Order();
            Assert.Equal(Enumerable.Range(0, 9), numbers);
        }

        // Another owner's job: refused on both.
        await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => connection.InvokeAsync("SubscribeOptimization", Guid.NewGuid().ToString()));
        var bobKey = bob.DefaultRequestHeaders.Authorization!.Parameter!;
        await using var bobConnection = new HubConnectionBuilder()
            .WithUrl(new Uri(fixture.BaseAddress, "/hubs/backtests"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(bobKey))
            .Build();
        await bobConnection.StartAsync();
        await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => bobConnection.InvokeAsync("SubscribeOptimization", id.ToString()));
        using var bobSocket = new ClientWebSocket();
        bobSocket.Options.SetRequestHeader("Authorization", "Bearer " + bobKey);
        var refused = await Assert.ThrowsAnyAsync<WebSocketException>(() => bobSocket.ConnectAsync(new Uri(wsBase, $"/ws/optimization/{id}"), CancellationToken.None));
        Assert.Contains("404", refused.Message, StringComparison.Ordinal);
    }
}
