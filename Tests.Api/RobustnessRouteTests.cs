using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Backtesting.Tests.Api;

/// <summary>
/// The robustness routes through HTTP: the Monte Carlo of a real completed backtest (checked against the engine run on
/// the stored results), its determinism, every 400, 404, 409 and 422; the robustness of an optimization job whose rows
/// are written through the store, checked against the engine's functions.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class RobustnessRouteTests(ApiFixture fixture)
{
    private const string Routes = "/api/v1/nautilus/backtest";

    private async Task<(HttpClient Client, Guid Id)> CompletedAsync()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        var id = await ApiFixture.StartAsync(alice, ApiFixture.Config());
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));
        return (alice, id);
    }

    [Fact]
    public async Task The_Monte_Carlo_of_a_completed_backtest_is_the_engines_over_its_stored_results_and_repeats_with_its_seed()
    {
        var (alice, id) = await CompletedAsync();
        using var client = alice;
        var url = $"{Routes}/results/{id}/montecarlo?paths=2000&seed=7";
        var first = await alice.GetStringAsync(url);
        Assert.Equal(first, await alice.GetStringAsync(url));
        Assert.NotEqual(first, await alice.GetStringAsync($"{Routes}/results/{id}/montecarlo?paths=2000&seed=8"));

        var body = JsonDocument.Parse(first).RootElement;
        Assert.Equal("blockBootstrap", body.GetProperty("method").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("sampling").ValueKind);
        Assert.True(body.GetProperty("blockLengthAutomatic").GetBoolean());
        var stored = (await fixture.Services.GetRequiredService<IBacktestStore>().GetResultAsync(id))!;
        var series = MonteCarloSeries.FromDailyEquity(stored.Summary.InitialBalance, stored.DailyEquity, stored.Metrics.PeriodsPerYear,
            stored.Metrics.RiskFreeRate)!;
        var engine = MonteCarlo.Run(series, MonteCarloMethod.StationaryBootstrap, new MonteCarloOptions(Paths: 2_000, Seed: 7));
        Assert.Equal(engine.MeanBlockLength, body.GetProperty("meanBlockLength").GetDouble());
        Assert.Equal(engine.Steps, body.GetProperty("steps").GetInt32());
        foreach (var (name, distribution) in new[]
                 {
                     ("finalReturn", engine.FinalReturn), ("cagr", engine.Cagr), ("maxDrawdown", engine.MaxDrawdown), ("sharpe", engine.Sharpe),
                 })
        {
            var wire = body.GetProperty(name);
            Assert.Equal(distribution.Count, wire.GetProperty("count").GetInt32());
            Assert.Equal(distribution.Percentiles!.P5, wire.GetProperty("percentiles").GetProperty("p5").GetDouble());
            Assert.Equal(distribution.Percentiles.P95, wire.GetProperty("percentiles").GetProperty("p95").GetDouble());
            Assert.Equal(20, wire.GetProperty("histogram").GetArrayLength());
        }

        Assert.Equal(engine.ProbabilityOfLoss, body.GetProperty("probabilityOfLoss").GetDouble());
        Assert.Equal(engine.ProbabilityOfDrawdownBeyondLimit, body.GetProperty("probabilityOfDrawdownBeyondLimit").GetDouble());
        var fan = body.GetProperty("fan");
        Assert.Equal(101, fan.GetArrayLength());
        Assert.Equal(100_000, fan[0].GetProperty("p5").GetDouble());
        Assert.Equal(JsonValueKind.Null, fan[0].GetProperty("date").ValueKind);
        Assert.Equal(stored.DailyEquity[^1].Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), fan[100].GetProperty("date").GetString());
        foreach (var point in fan.EnumerateArray())
        {
            var p = new[] { "p5", "p25", "p50", "p75", "p95" }.Select(k => point.GetProperty(k).GetDouble()).ToArray();
            Assert.True(p.Zip(p.Skip(1)).All(x => x.First <= x.Second));
        }
    }

    [Fact]
    public async Task Trades_shuffled_end_at_the_same_equity_and_resampled_do_not()
    {
        var (alice, id) = await CompletedAsync();
        using var client = alice;
        var shuffle = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/results/{id}/montecarlo?method=trades&sampling=shuffle&paths=500&bins=5");
        Assert.Equal("shuffle", shuffle.GetProperty("sampling").GetString());
        var final = shuffle.GetProperty("finalReturn").GetProperty("percentiles");
        Assert.Equal(final.GetProperty("p5").GetDouble(), final.GetProperty("p95").GetDouble(), 1e-12);
        var stored = (await fixture.Services.GetRequiredService<IBacktestStore>().GetResultAsync(id))!;
        Assert.Equal(stored.Trades.Count, shuffle.GetProperty("steps").GetInt32());
        Assert.Equal(stored.Trades.Sum(t => t.Pnl) / 100_000, final.GetProperty("p50").GetDouble(), 9);

        var resample = await alice.GetFromJsonAsync<JsonElement>($"{Routes}/results/{id}/montecarlo?method=trades&paths=500");
        Assert.Equal("resample", resample.GetProperty("sampling").GetString());
        var spread = resample.GetProperty("finalReturn").GetProperty("percentiles");
        Assert.True(spread.GetProperty("p95").GetDouble() > spread.GetProperty("p5").GetDouble());
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "paths=0", "paths" },
        { "paths=100001", "paths" },
        { "paths=many", "paths" },
        { "method=bogus", "method" },
        { "sampling=shuffle", "sampling" },
        { "method=trades&sampling=sort", "sampling" },
        { "blockSize=0", "blockSize" },
        { "blockSize=-3", "blockSize" },
        { "method=trades&blockSize=5", "blockSize" },
        { "blockSize=1000000", "blockSize" },
        { "drawdownLimit=0", "drawdownLimit" },
        { "drawdownLimit=1.5", "drawdownLimit" },
        { "bins=0", "bins" },
        { "bins=201", "bins" },
        { "fanPoints=1", "fanPoints" },
        { "seed=x", "seed" },
    };

    [Fact]
    public async Task With_every_computation_slot_taken_a_statistics_route_is_a_503_with_retry_after_and_goes_through_once_one_frees()
    {
        var (alice, id) = await CompletedAsync();
        using var client = alice;
        var gate = fixture.Services.GetRequiredService<Backtesting.Api.Robustness.ComputeGate>();
        var held = new List<IDisposable>();
        try
        {
            for (var i = 0; i < gate.Slots; i++)
            {
                held.Add((await gate.TryEnterAsync(CancellationToken.None))!);
            }

            Assert.Equal(0, gate.Available);
            var started = DateTime.UtcNow;
            using (var refused = await alice.GetAsync($"{Routes}/results/{id}/montecarlo?paths=100"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(Backtesting.Api.Robustness.ComputeGateFilter.RetryAfterSeconds), refused.Headers.RetryAfter!.Delta);
                Assert.Contains("retry shortly", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                Assert.True(DateTime.UtcNow - started >= gate.Wait - TimeSpan.FromMilliseconds(50), "the request waited for a slot first");
            }

            // A request waiting when a slot frees takes it and is answered.
            var waiting = alice.GetAsync($"{Routes}/results/{id}/montecarlo?paths=100");
            await Task.Delay(200);
            held[0].Dispose();
            held.RemoveAt(0);
            using var answered = await waiting;
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }
        finally
        {
            held.ForEach(h => h.Dispose());
        }

        Assert.Equal(gate.Slots, gate.Available);
    }

    [Fact]
    public async Task The_gate_refuses_past_its_slots_after_its_wait_and_a_lease_released_twice_frees_one_slot()
    {
        using var gate = new Backtesting.Api.Robustness.ComputeGate(2, TimeSpan.FromMilliseconds(30));
        var first = (await gate.TryEnterAsync(CancellationToken.None))!;
        var second = (await gate.TryEnterAsync(CancellationToken.None))!;
        Assert.Null((await gate.TryEnterAsync(CancellationToken.None)));
        first.Dispose();
        first.Dispose();
        Assert.Equal(1, gate.Available);
        var third = (await gate.TryEnterAsync(CancellationToken.None))!;
        Assert.Null((await gate.TryEnterAsync(CancellationToken.None)));
        second.Dispose();
        third.Dispose();
        Assert.Equal(2, gate.Available);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backtesting.Api.Robustness.ComputeGate(0, TimeSpan.Zero));
    }

    [Fact]
    public async Task Every_bad_parameter_is_a_400_naming_its_field()
    {
        var (alice, id) = await CompletedAsync();
        using var client = alice;
        foreach (var (query, field) in BadQueries.Select(row => ((string)row[0], (string)row[1])))
        {
            using var response = await alice.GetAsync($"{Routes}/results/{id}/montecarlo?{query}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {body}");
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(field, out _), $"{query}: {body}");
        }
    }

    [Fact]
    public async Task Another_owners_backtest_and_an_unknown_one_are_404()
    {
        var (alice, id) = await CompletedAsync();
        using var client = alice;
        var (bob, _, _) = await fixture.NewUserAsync("bob");
        using var bobClient = bob;
        using var other = await bob.GetAsync($"{Routes}/results/{id}/montecarlo");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using var unknown = await alice.GetAsync($"{Routes}/results/{Guid.NewGuid()}/montecarlo");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var admin = fixture.Client(ApiFixture.AdminKey);
        using var byAdmin = await admin.GetAsync($"{Routes}/results/{id}/montecarlo?paths=10");
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
    }

    [Fact]
    public async Task A_backtest_that_is_not_completed_is_409()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, BacktestRouteTests.MinuteConfig());
        using var response = await alice.GetAsync($"{Routes}/results/{id}/montecarlo");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual("completed", body.GetProperty("currentState").GetString());
        using var cancel = await alice.PostAsync($"{Routes}/cancel/{id}", null);
    }

    [Fact]
    public async Task A_backtest_without_trades_or_varying_returns_is_a_422_naming_the_method()
    {
        var (alice, _, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        // A slow average longer than the run: no trade, and equity that never moves.
        var id = await ApiFixture.StartAsync(alice, ApiFixture.Config(c =>
        {
            c["startDate"] = "2019-01-02";
            c["endDate"] = "2019-01-31";
            c["useCache"] = false;
        }));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));
        foreach (var method in new[] { "trades", "blockBootstrap" })
        {
            using var response = await alice.GetAsync($"{Routes}/results/{id}/montecarlo?method={method}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{method}: {(int)response.StatusCode} {body}");
            var rule = JsonDocument.Parse(body).RootElement.GetProperty("rules")[0];
            Assert.Equal("method", rule.GetProperty("field").GetString());
            Assert.Equal("insufficientData", rule.GetProperty("rule").GetString());
        }
    }

    // ---- GET /api/v1/optimizations/{id}/robustness ----

    private static float[] Returns(int length, ulong seed, double mean)
    {
        var rng = new SplitMix64(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(mean + 0.01 * rng.NextGaussian())).ToArray();
    }

    private sealed record Job(Guid Id, string Owner, List<TrialRow> Trials);

    /// <summary>A grid job over fast ∈ {5, 10, 15, 20} × slow ∈ {30, 40}: eight trials, trial 3 infeasible, written through the store.</summary>
    private async Task<Job> JobAsync(string owner)
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        var store = new PostgresOptimizationStore(dataSource);
        var id = Guid.NewGuid();
        const string configuration = """
            {"name":"grid","method":"grid","parameters":{"fastPeriod":{"min":5,"max":20,"step":5},"slowPeriod":{"values":[30,40]}},
             "objective":{"metric":"sharpeRatio","direction":"maximize"},"baseConfig":{"strategyClass":"MovingAverageCross"}}
            """;
        Assert.True(await store.CreateAsync(new OptimizationRecord(id, owner, "grid", configuration, "completed", 0, 8, DateTime.UtcNow)));
        var trials = new List<TrialRow>();
        var number = 0;
        foreach (var fast in new[] { 5, 10, 15, 20 })
        {
            foreach (var slow in new[] { 30, 40 })
            {
                var returns = Returns(256, (ulong)(number + 1), 0.0002 * number);
                var sharpe = returns.Average() / Math.Sqrt(returns.Sum(r => (r - returns.Average()) * (r - returns.Average())) / 255) * Math.Sqrt(252);
                var feasible = number != 3;
                trials.Add(new TrialRow(number, $$"""{"fastPeriod":{{fast}},"slowPeriod":{{slow}}}""",
                    $$"""{"sharpeRatio":{{sharpe.ToString("R", CultureInfo.InvariantCulture)}},"periodsPerYear":252}""",
                    feasible ? sharpe : null, feasible, feasible ? null : "constraint: maxDrawdown", 10, null, returns));
                number++;
            }
        }

        Assert.Equal(8, await store.SaveTrialsAsync(id, trials));
        return new Job(id, owner, trials);
    }

    [Fact]
    public async Task The_robustness_of_a_job_is_the_engines_over_its_stored_trials()
    {
        var (alice, aliceId, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var job = await JobAsync(aliceId);
        var body = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/optimizations/{job.Id}/robustness?blocks=8");

        var outcomes = job.Trials.Select(t => new TrialOutcome
        {
            Trial = t.TrialNumber, Feasible = t.Feasible, ObjectiveValue = t.Objective,
            Parameters = JsonDocument.Parse(t.ParametersJson).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
        }).ToList();
        var objective = new Objective("sharpeRatio", true);
        var best = new TrialRules(objective, []).Best(outcomes)!;
        Assert.Equal(best.Trial, body.GetProperty("bestTrial").GetInt32());
        Assert.Equal(8, body.GetProperty("trialsRun").GetInt32());
        Assert.Equal(7, body.GetProperty("feasibleTrials").GetInt32());

        var bestReturns = job.Trials[best.Trial].DailyReturns!.Select(r => (double)r).ToArray();
        var sharpes = job.Trials.Select(t =>
        {
            double sum = t.DailyReturns!.Sum(r => (double)r), squares = t.DailyReturns!.Sum(r => (double)r * r);
            return OverfittingProbability.Sharpe(sum, squares, t.DailyReturns!.Length);
        }).ToArray();
        var dsr = DeflatedSharpe.Compute(bestReturns, sharpes);
        var wireDsr = body.GetProperty("deflatedSharpe");
        Assert.Equal(dsr.Value, wireDsr.GetProperty("value").GetDouble(), 12);
        Assert.Equal(8, wireDsr.GetProperty("trials").GetInt32());
        Assert.Equal(dsr.SharpeVariance, wireDsr.GetProperty("sharpeVariance").GetDouble(), 15);

        var feasible = job.Trials.Where(t => t.Feasible).ToList();
        var matrix = new float[256, feasible.Count];
        for (var j = 0; j < feasible.Count; j++)
        {
            for (var i = 0; i < 256; i++)
            {
                matrix[i, j] = feasible[j].DailyReturns![i];
            }
        }

        var pbo = OverfittingProbability.Compute(matrix, new CscvOptions(Blocks: 8));
        var wirePbo = body.GetProperty("overfitting");
        Assert.Equal(pbo.Probability, wirePbo.GetProperty("probability").GetDouble());
        Assert.Equal(70, wirePbo.GetProperty("splits").GetInt32()); // C(8, 4)
        Assert.Equal(7, wirePbo.GetProperty("trialsUsed").GetInt32());
        Assert.Equal(
            OverfittingProbability.LogitHistogram(pbo, 20).Select(b => (b.Low, b.High, b.Count)),
            wirePbo.GetProperty("logitHistogram").EnumerateArray().Select(b =>
                (b.GetProperty("low").GetDouble(), b.GetProperty("high").GetDouble(), b.GetProperty("count").GetInt32())));

        var sharpeRatio = JsonDocument.Parse(job.Trials[best.Trial].MetricsJson!).RootElement.GetProperty("sharpeRatio").GetDouble();
        var wireLength = body.GetProperty("minimumBacktestLength");
        Assert.Equal(MinimumBacktestLength.Years(8, sharpeRatio), wireLength.GetProperty("years").GetDouble(), 12);
        Assert.Equal(256 / 252.0, wireLength.GetProperty("backtestYears").GetDouble(), 12);

        var axes = OptimumStability.Axes(new Dictionary<string, JsonElement>
        {
            ["fastPeriod"] = JsonDocument.Parse("""{"min":5,"max":20,"step":5}""").RootElement,
            ["slowPeriod"] = JsonDocument.Parse("""{"values":[30,40]}""").RootElement,
        })!;
        var stability = OptimumStability.Compute(axes, outcomes, objective)!;
        var wireStability = body.GetProperty("stability");
        Assert.Equal(stability.BestTrial, wireStability.GetProperty("bestTrial").GetInt32());
        Assert.Equal(
            stability.Neighbours.Select(n => (n.Parameter, n.Offset, n.State.ToString().ToLowerInvariant(), n.TrialNumber)),
            wireStability.GetProperty("neighbours").EnumerateArray().Select(n => (n.GetProperty("parameter").GetString()!,
                n.GetProperty("offset").GetInt32(), n.GetProperty("state").GetString()!,
                n.GetProperty("trialNumber").ValueKind == JsonValueKind.Null ? (int?)null : n.GetProperty("trialNumber").GetInt32())));
        Assert.Equal(stability.BestPlateau.Mean, wireStability.GetProperty("bestPlateau").GetProperty("mean").GetDouble(), 12);
        Assert.Equal(stability.MostStable?.TrialNumber, wireStability.GetProperty("mostStable") is { ValueKind: JsonValueKind.Object } m
            ? m.GetProperty("trialNumber").GetInt32() : null);
        Assert.Equal(0, body.GetProperty("notes").GetArrayLength());
    }

    [Fact]
    public async Task The_jobs_workbook_and_pdf_carry_the_robustness_the_route_gives()
    {
        var (alice, aliceId, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var job = await JobAsync(aliceId);
        var body = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/optimizations/{job.Id}/robustness");
        var pbo = body.GetProperty("overfitting").GetProperty("probability").GetDouble();
        var dsr = body.GetProperty("deflatedSharpe").GetProperty("value").GetDouble();
        var histogram = body.GetProperty("overfitting").GetProperty("logitHistogram").EnumerateArray()
            .Select(b => b.GetProperty("count").GetInt32()).ToList();

        using var xlsx = await alice.GetAsync($"/api/v1/optimizations/{job.Id}/trials/export?format=xlsx");
        Assert.Equal(HttpStatusCode.OK, xlsx.StatusCode);
        var book = XlsxBook.Open(await xlsx.Content.ReadAsByteArrayAsync());
        Assert.Equal(["Trials", "Robustness", "Logits"], book.SheetNames);
        Assert.Equal(9, book.RowsUsed("Trials"));
        var statistics = book.Column("Robustness", "A").Skip(1).Select(c => c.Text).ToList();
        var values = book.Column("Robustness", "B").Skip(1).Select(c => c.Text).ToList();
        Assert.Equal(pbo.ToString("P2", CultureInfo.InvariantCulture), values[statistics.IndexOf("Probability of overfitting (PBO)")]);
        Assert.Equal(dsr.ToString("P2", CultureInfo.InvariantCulture), values[statistics.IndexOf("Deflated Sharpe ratio")]);
        Assert.Equal(body.GetProperty("bestTrial").GetInt32().ToString(CultureInfo.InvariantCulture), values[statistics.IndexOf("Best trial")]);
        Assert.Equal(histogram.Select(c => (double)c), book.Column("Logits", "C").Skip(1).Select(c => c.Number));

        using var pdfResponse = await alice.GetAsync($"/api/v1/optimizations/{job.Id}/trials/export?format=pdf");
        Assert.Equal("application/pdf", pdfResponse.Content.Headers.ContentType!.MediaType);
        using var pdf = UglyToad.PdfPig.PdfDocument.Open(await pdfResponse.Content.ReadAsByteArrayAsync());
        var text = string.Join(" ", pdf.GetPage(1).GetWords().Select(w => w.Text));
        Assert.Contains("Optimization report", text, StringComparison.Ordinal);
        foreach (var expected in new[] { "Deflated Sharpe ratio", dsr.ToString("P2", CultureInfo.InvariantCulture), "Probability of overfitting (PBO)",
                     pbo.ToString("P2", CultureInfo.InvariantCulture), "Minimum backtest length", "Leading trials" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        // The leading trials are the feasible ones: the best is listed, the infeasible trial 3 (fast 10, slow 40) is not.
        var best = job.Trials[body.GetProperty("bestTrial").GetInt32()];
        Assert.Contains(string.Join(", ", JsonDocument.Parse(best.ParametersJson).RootElement.EnumerateObject().Select(p => $"{p.Name} {p.Value}")),
            text, StringComparison.Ordinal);
        Assert.DoesNotContain("fastPeriod 10, slowPeriod 40", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_owners_job_is_404_and_bad_settings_are_400()
    {
        var (alice, aliceId, _) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var job = await JobAsync(aliceId);
        var (bob, _, _) = await fixture.NewUserAsync("bob");
        using var bobClient = bob;
        using var other = await bob.GetAsync($"/api/v1/optimizations/{job.Id}/robustness");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using var unknown = await alice.GetAsync($"/api/v1/optimizations/{Guid.NewGuid()}/robustness");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        foreach (var (query, field) in new[] { ("blocks=3", "blocks"), ("blocks=22", "blocks"), ("blocks=0", "blocks"), ("maxTrials=1", "maxTrials") })
        {
            using var response = await alice.GetAsync($"/api/v1/optimizations/{job.Id}/robustness?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _), query);
        }

        // Sixteen blocks need at least sixteen rows: 256 is enough; the default answers.
        using var defaults = await alice.GetAsync($"/api/v1/optimizations/{job.Id}/robustness");
        Assert.Equal(HttpStatusCode.OK, defaults.StatusCode);
    }
}
