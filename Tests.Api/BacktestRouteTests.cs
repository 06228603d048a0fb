using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Api.Backtests;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using CsvHelper;
using UglyToad.PdfPig;

namespace Backtesting.Tests.Api;

/// <summary>Every backtest route's success and error paths, through HTTP, against the real cluster and PostgreSQL.</summary>
[Collection(ApiCollection.Name)]
public sealed class BacktestRouteTests(ApiFixture fixture)
{
    private const string Routes = "/api/v1/nautilus/backtest";

    [Fact]
    public async Task A_started_backtest_completes_and_its_results_status_and_listing_read_back()
    {
        var (alice, aliceId, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        using var start = await alice.PostAsJsonAsync($"{Routes}/start", ApiFixture.Config(c =>
        {
            c["priority"] = "high";
            c["useCache"] = false;
        }));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal($"{Routes}/status/{id}", start.Headers.Location!.OriginalString);

        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));
        var status = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/status/{id}");
        Assert.Equal(aliceId, status.GetProperty("owner").GetString());
        Assert.Equal("high", status.GetProperty("priority").GetString());
        Assert.Equal(100, status.GetProperty("progress").GetProperty("progress").GetProperty("percentage").GetDouble());
        // Each attempt says when the queue granted the slot it ran in, at or before its start.
        var attempts = status.GetProperty("attempts").EnumerateArray().ToList();
        Assert.NotEmpty(attempts);
        Assert.All(attempts, a => Assert.True(a.GetProperty("grantedAt").GetDateTime() <= a.GetProperty("startedAt").GetDateTime()));

        var results = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/results/{id}?tradesPage=1&tradesPageSize=2&equityPoints=50");
        var metrics = results.GetProperty("metrics");
        foreach (var name in new[] { "sharpeRatio", "sortinoRatio", "maxDrawdown", "winRate", "totalReturn", "profitFactor", "volatility" })
        {
            Assert.True(metrics.TryGetProperty(name, out _), name);
        }

        var trades = results.GetProperty("trades");
        Assert.True(trades.GetProperty("totalCount").GetInt32() > 2);
        Assert.Equal(2, trades.GetProperty("items").GetArrayLength());
        Assert.Equal(50, results.GetProperty("equityCurve").GetArrayLength());
        Assert.Equal(50, results.GetProperty("drawdown").GetArrayLength());
        Assert.True(results.GetProperty("equityPointsStored").GetInt32() > 50);
        Assert.True(results.GetProperty("monthlyReturns").GetArrayLength() >= 24);
        Assert.Equal("SPY.ARCA", results.GetProperty("benchmark").GetProperty("instrument").GetString());

        var whole = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/results/{id}");
        Assert.Equal(whole.GetProperty("equityPointsStored").GetInt32(), whole.GetProperty("equityCurve").GetArrayLength());

        // The stored row follows the grain's state a moment later: wait for the listing to show it completed.
        JsonElement list;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            list = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/list?status=completed&strategy=MovingAverageCross&sort=createdOldest&pageSize=100");
        }
        while (!list.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("id").GetGuid() == id) && DateTime.UtcNow < deadline && await Pause());

        Assert.Contains(list.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == id);
        Assert.All(list.GetProperty("items").EnumerateArray(), i => Assert.Equal(aliceId, i.GetProperty("owner").GetString()));
        var future = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/list?from={DateTime.UtcNow.AddDays(1):yyyy-MM-dd}");
        Assert.Equal(0, future.GetProperty("totalCount").GetInt64());
    }

    [Fact]
    public async Task The_results_answer_is_the_documented_document_byte_for_byte_and_deleting_drops_it()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, ApiFixture.Config(c => c["useCache"] = false));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));

        // The answer is written from pre-serialized parts: it must equal, byte for byte, the documented ResultsResponse
        // made from the result as the database holds it, for the whole curve, a trades page and a downsampled curve.
        var stored = await fixture.Services.GetRequiredService<IBacktestStore>().GetResultAsync(id);
        Assert.NotNull(stored);
        var options = fixture.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        foreach (var (query, page, pageSize, points) in new (string, int, int, int?)[]
                 {
                     ("", 1, 100, null), ("?tradesPage=2&tradesPageSize=3", 2, 3, null), ("?equityPoints=40&tradesPageSize=1", 1, 1, 40),
                     ("?tradesPage=1000", 1000, 100, null),
                 })
        {
            for (var read = 0; read < 2; read++) // the first read fills the cache, the second is served from it
            {
                var body = await alice.GetByteArrayAsync($"{Routes}/results/{id}{query}");
                // The status word is the stored row's, which follows the grain a moment later; it is not what this compares.
                var status = JsonDocument.Parse(body).RootElement.GetProperty("status").GetString()!;
                var expected = JsonSerializer.SerializeToUtf8Bytes(ResultsView.Build(id, status, stored, page, pageSize, points), options);
                Assert.True(expected.AsSpan().SequenceEqual(body), $"results{query} differs from the documented document");
            }
        }

        using var delete = await alice.DeleteAsync($"{Routes}/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await alice.GetAsync($"{Routes}/results/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    private static async Task<bool> Pause()
    {
        await Task.Delay(50);
        return true;
    }

    [Fact]
    public async Task Exports_read_back_with_real_readers()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, ApiFixture.Config());
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));
        var results = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/results/{id}?tradesPageSize=1000");
        var tradeCount = results.GetProperty("trades").GetProperty("totalCount").GetInt32();
        var equityCount = results.GetProperty("equityPointsStored").GetInt32();

        using (var csv = new CsvReader(new StringReader(await alice.GetStringAsync($"{Routes}/export/{id}?format=csv")), CultureInfo.InvariantCulture))
        {
            var rows = csv.GetRecords<dynamic>().ToList();
            Assert.Equal(tradeCount, rows.Count);
            Assert.Equal("SPY.ARCA", (string)((IDictionary<string, object>)rows[0])["instrument"]);
        }

        using (var csv = new CsvReader(new StringReader(await alice.GetStringAsync($"{Routes}/export/{id}?format=csv&part=equity")), CultureInfo.InvariantCulture))
        {
            Assert.Equal(equityCount, csv.GetRecords<dynamic>().Count());
        }

        {
            var workbook = XlsxBook.Open(await alice.GetByteArrayAsync($"{Routes}/export/{id}?format=xlsx"));
            Assert.Equal(["Summary", "Metrics", "Trades", "Equity", "Monthly Returns"], workbook.SheetNames);
            Assert.Equal("MovingAverageCross", workbook.Cell("Summary", 2, "B")?.Text);
            Assert.Contains(workbook.Column("Metrics", "A"), c => c.Text == "sharpeRatio");
            Assert.Equal(tradeCount + 1, workbook.RowsUsed("Trades"));
            Assert.Equal(equityCount + 1, workbook.RowsUsed("Equity"));
            Assert.Equal(2019, workbook.Cell("Monthly Returns", 2, "A")!.Number);
            // Figures are numeric cells, equal to the stored results, not text.
            Assert.Equal(results.GetProperty("summary").GetProperty("finalBalance").GetDouble(), workbook.Cell("Summary", 8, "B")!.Number);
            Assert.All(workbook.Column("Equity", "B").Skip(1), c => Assert.True(c.Numeric, c.Text));
        }

        using (var pdf = PdfDocument.Open(await alice.GetByteArrayAsync($"{Routes}/export/{id}?format=pdf")))
        {
            Assert.Equal(2, pdf.NumberOfPages);
            var first = string.Join(" ", pdf.GetPage(1).GetWords().Select(w => w.Text));
            var second = string.Join(" ", pdf.GetPage(2).GetWords().Select(w => w.Text));
            Assert.Contains("Backtest report", first, StringComparison.Ordinal);
            Assert.Contains("Sharpe ratio", first, StringComparison.Ordinal);
            Assert.Contains("Drawdown", first, StringComparison.Ordinal);
            Assert.Contains("Monthly returns", second, StringComparison.Ordinal);
            Assert.Contains("Trade summary", second, StringComparison.Ordinal);
        }

        var json = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/export/{id}?format=json");
        Assert.Equal(tradeCount, json.GetProperty("trades").GetArrayLength());

        using var badFormat = await alice.GetAsync($"{Routes}/export/{id}?format=docx");
        Assert.Equal(HttpStatusCode.BadRequest, badFormat.StatusCode);
        Assert.True((await badFormat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("format", out _));
    }

    public static TheoryData<string, string, string> Rules => new()
    {
        // field in the 400's errors, the rule, and the edit that breaks it
        { "endDate", "afterStart", """{"startDate":"2021-01-01","endDate":"2020-01-01"}""" },
        { "endDate", "maxDuration", """{"startDate":"2010-01-01","endDate":"2016-01-02"}""" },
        { "startDate", "notFuture", """{"startDate":"2090-01-01","endDate":"2090-06-01"}""" },
        { "instruments", "minCount", """{"instruments":[]}""" },
        { "instruments[0]", "pattern", """{"instruments":["SP Y"]}""" },
        { "instruments[0]", "unknown", """{"instruments":["spy!"]}""" },
        { "instruments[0]", "unknown", """{"instruments":["NOPE"]}""" },
        { "initialBalance", "min", """{"initialBalance":10}""" },
        { "initialBalance", "max", """{"initialBalance":200000000}""" },
        { "baseCurrency", "allowed", """{"baseCurrency":"XYZ"}""" },
        { "strategyClass", "unknown", """{"strategyClass":"NoSuchStrategy"}""" },
        { "strategyConfig.fastPeriod", "range", """{"strategyConfig":{"fastPeriod":0,"slowPeriod":30}}""" },
        { "riskSettings.maxLeverage", "range", """{"accountType":"margin","riskSettings":{"maxLeverage":20}}""" },
        { "priority", "allowed", """{"priority":"soon"}""" },
        { "startDate", "json", """{"startDate":12}""" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task Each_validation_rule_is_a_400_keyed_by_its_field_and_creates_nothing(string field, string rule, string edit)
    {
        using var bob = fixture.Client(ApiFixture.BobKey);
        var before = (await bob.GetFromJsonAsync<JsonElement>($"{Routes}/list")).GetProperty("totalCount").GetInt64();
        var config = ApiFixture.Config();
        foreach (var property in JsonDocument.Parse(edit).RootElement.EnumerateObject())
        {
            config[property.Name] = property.Value.Clone();
        }

        using var response = await bob.PostAsJsonAsync($"{Routes}/start", config);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}: {body}");
        Assert.Contains(body.GetProperty("rules").EnumerateArray(), r => r.GetProperty("field").GetString() == field && r.GetProperty("rule").GetString() == rule);
        Assert.Equal(before, (await bob.GetFromJsonAsync<JsonElement>($"{Routes}/list")).GetProperty("totalCount").GetInt64());
    }

    [Fact]
    public async Task Unknown_ids_are_404_everywhere()
    {
        using var alice = fixture.Client(ApiFixture.AliceKey);
        var id = Guid.NewGuid();
        foreach (var (method, path) in new[]
                 {
                     ("GET", $"status/{id}"), ("POST", $"cancel/{id}"), ("POST", $"pause/{id}"), ("POST", $"resume/{id}"),
                     ("GET", $"results/{id}"), ("DELETE", $"{id}"), ("GET", $"export/{id}?format=csv"),
                 })
        {
            using var response = await alice.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"{Routes}/{path}"));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        }

        using var patch = await alice.PatchAsJsonAsync($"{Routes}/queue/{id}", new { priority = "high" });
        Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
        using var compare = await alice.PostAsJsonAsync($"{Routes}/compare", new { ids = new[] { id, Guid.NewGuid() } });
        Assert.Equal(HttpStatusCode.NotFound, compare.StatusCode);
    }

    [Fact]
    public async Task Users_see_only_their_own_backtests_and_admins_see_all()
    {
        var (alice, aliceId, _) = await fixture.NewUserAsync("alice");
        using var aliceClient = alice;
        using var bob = fixture.Client(ApiFixture.BobKey);
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var id = await ApiFixture.StartAsync(alice, ApiFixture.Config());
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));

        foreach (var (method, path) in new[]
                 {
                     ("GET", $"status/{id}"), ("POST", $"cancel/{id}"), ("POST", $"pause/{id}"), ("GET", $"results/{id}"),
                     ("GET", $"export/{id}?format=json"), ("DELETE", $"{id}"),
                 })
        {
            using var response = await bob.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"{Routes}/{path}"));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"bob {method} {path}: {(int)response.StatusCode}");
        }

        var bobsList = await bob.GetFromJsonAsync<JsonElement>($"{Routes}/list?pageSize=1000");
        Assert.DoesNotContain(bobsList.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == id);
        var adminList = await admin.GetFromJsonAsync<JsonElement>($"{Routes}/list?pageSize=1000");
        Assert.Contains(adminList.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == id);
        Assert.Equal(aliceId, (await admin.GetFromJsonAsync<JsonElement>($"{Routes}/status/{id}")).GetProperty("owner").GetString());

        // Still there for alice after bob's attempts.
        Assert.Equal("completed", (await alice.GetFromJsonAsync<JsonElement>($"{Routes}/status/{id}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Illegal_transitions_are_409_with_the_current_state()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, ApiFixture.Config());
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));
        foreach (var action in new[] { "pause", "resume", "cancel" })
        {
            using var response = await alice.PostAsync($"{Routes}/{action}/{id}", null);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("completed", body.GetProperty("currentState").GetString());
        }

        using var patch = await alice.PatchAsJsonAsync($"{Routes}/queue/{id}", new { priority = "urgent" });
        Assert.Equal(HttpStatusCode.Conflict, patch.StatusCode);
        Assert.Equal("completed", (await patch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("currentState").GetString());
        using var badPriority = await alice.PatchAsJsonAsync($"{Routes}/queue/{id}", new { priority = "soon" });
        Assert.Equal(HttpStatusCode.BadRequest, badPriority.StatusCode);
    }

    [Fact]
    public async Task A_running_backtest_pauses_and_resumes()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, MinuteConfig());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await alice.GetFromJsonAsync<JsonElement>($"{Routes}/status/{id}")).GetProperty("status").GetString() != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "the backtest never ran");
            await Task.Delay(20);
        }

        using var pause = await alice.PostAsync($"{Routes}/pause/{id}", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.Equal("paused", (await pause.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        using var pauseAgain = await alice.PostAsync($"{Routes}/pause/{id}", null);
        Assert.Equal(HttpStatusCode.Conflict, pauseAgain.StatusCode);
        Assert.Equal("paused", (await pauseAgain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("currentState").GetString());

        using var resume = await alice.PostAsync($"{Routes}/resume/{id}", null);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));
    }

    /// <summary>A week of SPY minute bars, never from the cache: the fixture paces minute runs so they last a few seconds.</summary>
    internal static Dictionary<string, object?> MinuteConfig() => ApiFixture.Config(c =>
    {
        c["useCache"] = false;
        c["startDate"] = "2013-10-07";
        c["endDate"] = "2013-10-11";
        // The whole files, pre- and post-market too: the tests that watch, pause or cancel a run need it to last, and
        // the regular session alone is 40% of these bars.
        c["dataConfiguration"] = new Dictionary<string, object> { ["resolution"] = "minute", ["extendedHours"] = true };
    });

    [Fact]
    public async Task Cancel_and_delete_remove_a_running_backtest()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, MinuteConfig());
        using var cancel = await alice.PostAsync($"{Routes}/cancel/{id}", null);
        var body = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        if (cancel.StatusCode == HttpStatusCode.OK)
        {
            // Cancelled, or completed when the run finished as the stop reached it (its results are whole then).
            Assert.Contains(body.GetProperty("status").GetString(), new[] { "cancelled", "completed" });
        }
        else
        {
            // It finished before the cancel reached it: the 409 says so.
            Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
            Assert.Equal("completed", body.GetProperty("currentState").GetString());
        }

        using var delete = await alice.DeleteAsync($"{Routes}/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await alice.GetAsync($"{Routes}/status/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Queue_entries_carry_what_a_client_shows_without_a_status_call_each()
    {
        var (alice, aliceId, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var (bob, _, _) = await fixture.NewUserAsync("bob");
        using var bobClient = bob;
        // Three at once for one owner (at most two run per owner): at least one waits.
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await ApiFixture.StartAsync(alice, MinuteConfig()));
        }

        try
        {
            JsonElement queue;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            do
            {
                queue = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/queue");
            }
            while (Entries(queue).Count(e => ids.Contains(e.GetProperty("id").GetGuid())) < 3 && DateTime.UtcNow < deadline && await Pause());

            var mine = Entries(queue).Where(e => ids.Contains(e.GetProperty("id").GetGuid())).ToList();
            Assert.Equal(3, mine.Count);
            Assert.Contains(mine, e => e.GetProperty("state").GetString() == "queued");
            foreach (var entry in mine)
            {
                Assert.Equal(entry.GetProperty("id").GetGuid(), entry.GetProperty("backtestId").GetGuid());
                Assert.Equal(aliceId, entry.GetProperty("owner").GetString());
                Assert.Equal("MovingAverageCross", entry.GetProperty("strategy").GetString());
                Assert.Equal(["SPY"], entry.GetProperty("instruments").EnumerateArray().Select(i => i.GetString()));
                Assert.True(entry.GetProperty("submittedAt").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));
                Assert.Equal("normal", entry.GetProperty("priority").GetString());
                if (entry.GetProperty("state").GetString() == "queued")
                {
                    Assert.True(entry.GetProperty("position").GetInt32() >= 1);
                    Assert.True(entry.GetProperty("queuedAt").GetDateTime() >= entry.GetProperty("submittedAt").GetDateTime().AddSeconds(-1));
                    Assert.Equal(JsonValueKind.Null, entry.GetProperty("progress").ValueKind);
                }
                else
                {
                    Assert.Contains(entry.GetProperty("state").GetString(), new[] { "starting", "running", "paused" });
                    Assert.Equal(JsonValueKind.Null, entry.GetProperty("position").ValueKind);
                    Assert.NotEqual(JsonValueKind.Null, entry.GetProperty("grantedAt").ValueKind);
                }
            }

            // Only the owner (and admins) see the entries.
            var bobs = await bob.GetFromJsonAsync<JsonElement>($"{Routes}/queue");
            Assert.DoesNotContain(Entries(bobs), e => ids.Contains(e.GetProperty("id").GetGuid()));

            // Changing a waiting one's priority answers the same complete entry.
            var waiting = mine.First(e => e.GetProperty("state").GetString() == "queued").GetProperty("id").GetGuid();
            using var patch = await alice.PatchAsJsonAsync($"{Routes}/queue/{waiting}", new { priority = "urgent" });
            if (patch.StatusCode == HttpStatusCode.OK)
            {
                var changed = await patch.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(waiting, changed.GetProperty("id").GetGuid());
                Assert.Equal("urgent", changed.GetProperty("priority").GetString());
                Assert.Equal("MovingAverageCross", changed.GetProperty("strategy").GetString());
                Assert.Equal(["SPY"], changed.GetProperty("instruments").EnumerateArray().Select(i => i.GetString()));
            }
            else
            {
                Assert.Equal(HttpStatusCode.Conflict, patch.StatusCode); // it got its slot in between
            }
        }
        finally
        {
            foreach (var id in ids)
            {
                using var _ = await alice.PostAsync($"{Routes}/cancel/{id}", null);
            }
        }
    }

    private static IEnumerable<JsonElement> Entries(JsonElement queue) =>
        queue.GetProperty("running").EnumerateArray().Concat(queue.GetProperty("queued").EnumerateArray());

    [Fact]
    public async Task Compare_queue_and_listing_errors()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var first = await ApiFixture.StartAsync(alice, ApiFixture.Config());
        var second = await ApiFixture.StartAsync(alice, ApiFixture.Config(c => c["strategyConfig"] = new Dictionary<string, object> { ["fastPeriod"] = 5, ["slowPeriod"] = 20 }));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, first));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, second));

        using var compare = await alice.PostAsJsonAsync($"{Routes}/compare", new { ids = new[] { first, second } });
        var comparison = await compare.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, compare.StatusCode);
        Assert.Equal(2, comparison.GetProperty("runs").GetArrayLength());
        using var one = await alice.PostAsJsonAsync($"{Routes}/compare", new { ids = new[] { first } });
        Assert.Equal(HttpStatusCode.BadRequest, one.StatusCode);

        var queue = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/queue");
        Assert.True(queue.GetProperty("limits").GetProperty("maxConcurrent").GetInt32() > 0);

        using var badSort = await alice.GetAsync($"{Routes}/list?sort=sideways&pageSize=0");
        var errors = (await badSort.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(HttpStatusCode.BadRequest, badSort.StatusCode);
        Assert.True(errors.TryGetProperty("sort", out _) && errors.TryGetProperty("pageSize", out _));
        using var badPage = await alice.GetAsync($"{Routes}/results/{first}?tradesPageSize=5000");
        Assert.Equal(HttpStatusCode.BadRequest, badPage.StatusCode);
    }
}
