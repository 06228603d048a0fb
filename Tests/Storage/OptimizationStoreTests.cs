using System.Globalization;
using System.Text.Json;
using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Tests.Storage;

/// <summary>
/// Optimization jobs and trials on real PostgreSQL: each (job, trial) stored once whatever repeats, and every
/// listing (sorted pages, the surface, the return matrix) checked against an independent computation over the
/// rows the test wrote.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OptimizationStoreTests(PostgresFixture postgres) : IAsyncLifetime
{
    private NpgsqlDataSource _source = null!;
    private PostgresOptimizationStore _store = null!;

    public async Task InitializeAsync()
    {
        _source = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync());
        _store = new PostgresOptimizationStore(_source);
    }

    public async Task DisposeAsync() => await _source.DisposeAsync();

    [Fact]
    public async Task Create_stores_a_job_once_and_get_reads_every_field_back()
    {
        var job = Job("alice");

        Assert.True(await _store.CreateAsync(job));
        Assert.False(await _store.CreateAsync(job with { Name = "changed", TrialsPlanned = 1 }));

        var read = await _store.GetAsync(job.Id);
        Assert.NotNull(read);
        Assert.Equal(job.Name, read.Name);
        Assert.Equal(job.Owner, read.Owner);
        Assert.Equal(job.Status, read.Status);
        Assert.Equal(job.Priority, read.Priority);
        Assert.Equal(job.TrialsPlanned, read.TrialsPlanned);
        Assert.Equal(JsonDocument.Parse(job.ConfigurationJson).RootElement.GetProperty("method").GetString(),
            JsonDocument.Parse(read.ConfigurationJson).RootElement.GetProperty("method").GetString());
        Assert.Equal(job.CreatedAt, read.CreatedAt.ToUniversalTime());
        Assert.Null(await _store.GetAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task A_status_change_keeps_the_first_start_time_and_sets_the_end()
    {
        var job = Job("alice");
        await _store.CreateAsync(job);
        var first = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

        Assert.True(await _store.SetStatusAsync(job.Id, "running", startedAt: first));
        Assert.True(await _store.SetStatusAsync(job.Id, "running", startedAt: first.AddHours(1)));
        Assert.True(await _store.SetStatusAsync(job.Id, "failed", "worker crashed", completedAt: first.AddHours(2)));
        Assert.False(await _store.SetStatusAsync(Guid.NewGuid(), "running"));

        var read = (await _store.GetAsync(job.Id))!;
        Assert.Equal("failed", read.Status);
        Assert.Equal("worker crashed", read.ErrorMessage);
        Assert.Equal(first, read.StartedAt!.Value.ToUniversalTime());
        Assert.Equal(first.AddHours(2), read.CompletedAt!.Value.ToUniversalTime());
    }

    [Fact]
    public async Task A_resumed_batch_that_prints_trials_again_stores_each_trial_once_and_keeps_the_first()
    {
        var job = Job("alice");
        await _store.CreateAsync(job);
        var trials = Trials(150, seed: 1);

        Assert.Equal(100, await _store.SaveTrialsAsync(job.Id, trials[..100]));
        // The killed batch's last 64 trials come again, and 50 new ones after them.
        var again = trials[36..150].Select(t => t.TrialNumber < 100 ? t with { MetricsJson = """{"sharpeRatio":99}""" } : t).ToList();
        Assert.Equal(50, await _store.SaveTrialsAsync(job.Id, again));
        Assert.Equal(0, await _store.SaveTrialsAsync(job.Id, trials));

        Assert.Equal(Enumerable.Range(0, 150), await _store.TrialNumbersAsync(job.Id));
        var all = await All(job.Id, new TrialQuery(SortMetric: null));
        foreach (var stored in all)
        {
            AssertSameTrial(trials[stored.TrialNumber], stored);
        }
    }

    [Fact]
    public async Task Racing_saves_of_overlapping_batches_store_every_trial_exactly_once()
    {
        var job = Job("alice");
        await _store.CreateAsync(job);
        var trials = Trials(400, seed: 2);

        // Eight writers, each with an overlapping window of the trials, all at once.
        var saves = Enumerable.Range(0, 8).Select(w => Task.Run(() => _store.SaveTrialsAsync(job.Id, trials[(w * 40)..Math.Min(400, w * 40 + 120)]))).ToList();
        var inserted = await Task.WhenAll(saves);

        Assert.Equal(400, inserted.Sum());
        Assert.Equal(Enumerable.Range(0, 400), await _store.TrialNumbersAsync(job.Id));
    }

    [Fact]
    public async Task Trials_of_a_job_that_does_not_exist_are_refused_and_nothing_is_stored()
    {
        var missing = Guid.NewGuid();

        await Assert.ThrowsAsync<KeyNotFoundException>(() => _store.SaveTrialsAsync(missing, Trials(3, seed: 3)));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => _store.SaveTrialsAsync(missing, []));
        Assert.Empty(await _store.TrialNumbersAsync(missing));
    }

    public static TheoryData<string?, bool, bool?> Orders => new()
    {
        { null, true, null },
        { null, false, null },
        { "sharpeRatio", true, null },
        { "sharpeRatio", false, null },
        { "sharpeRatio", true, true },
        { "totalReturn", false, false },
        { "maxDrawdown", true, true },
        { "noSuchMetric", true, null },
    };

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task Every_page_size_enumerates_each_trial_once_in_the_order_an_independent_sort_gives(string? metric, bool descending, bool? feasible)
    {
        var job = Job("alice");
        await _store.CreateAsync(job);
        var trials = Trials(97, seed: 4);
        await _store.SaveTrialsAsync(job.Id, trials);
        var expected = ExpectedOrder(trials, metric, descending, feasible);

        foreach (var pageSize in new[] { 1, 7, 50, 97, 500 })
        {
            var seen = new List<int>();
            for (var page = 1; ; page++)
            {
                var result = await _store.TrialsAsync(job.Id, new TrialQuery(metric, descending, feasible, page, pageSize));
                Assert.Equal(expected.Count, result.TotalCount);
                if (result.Items.Count == 0)
                {
                    break;
                }

                seen.AddRange(result.Items.Select(t => t.TrialNumber));
            }

            Assert.Equal(expected, seen);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_surface_holds_per_cell_the_best_feasible_value_and_the_counts_an_independent_grouping_gives(bool maximize)
    {
        var job = Job("alice");
        await _store.CreateAsync(job);
        var trials = Trials(300, seed: 5);
        await _store.SaveTrialsAsync(job.Id, trials);

        var cells = await _store.SurfaceAsync(job.Id, "fastPeriod", "slowPeriod", "sharpeRatio", maximize);

        var expected = trials
            .Select(t => (Trial: t, Parameters: JsonDocument.Parse(t.ParametersJson).RootElement))
            .GroupBy(t => (X: t.Parameters.GetProperty("fastPeriod").GetInt32(), Y: t.Parameters.GetProperty("slowPeriod").GetInt32()))
            .OrderBy(g => g.Key.X).ThenBy(g => g.Key.Y)
            .Select(g =>
            {
                var values = g.Where(t => t.Trial.Feasible).Select(t => Metric(t.Trial, "sharpeRatio")).OfType<double>().ToList();
                double? best = values.Count == 0 ? null : maximize ? values.Max() : values.Min();
                return new SurfaceCell(g.Key.X.ToString(CultureInfo.InvariantCulture), g.Key.Y.ToString(CultureInfo.InvariantCulture), best,
                    g.Count(), g.Count(t => t.Trial.Feasible));
            })
            .ToList();
        Assert.Equal(expected, cells);
        Assert.Contains(cells, c => c.Trials > 1);
        Assert.Empty(await _store.SurfaceAsync(job.Id, "fastPeriod", "noSuchParameter", "sharpeRatio", maximize));
    }

    [Fact]
    public async Task Daily_returns_come_back_bit_for_bit_for_the_feasible_trials_in_trial_order_up_to_the_cap()
    {
        var job = Job("alice");
        await _store.CreateAsync(job);
        var awkward = new[]
        {
            0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.NaN, float.PositiveInfinity,
            float.NegativeInfinity, 1e-38f, 0.1f, -0.012345f,
        };
        var trials = Trials(20, seed: 6).Select((t, i) => t with
        {
            DailyReturns = i % 5 == 4 ? null : awkward.Select(v => i % 2 == 0 ? v : -v).Concat([i]).ToArray(),
        }).ToList();
        await _store.SaveTrialsAsync(job.Id, trials);

        var expected = trials.Where(t => t.Feasible && t.DailyReturns is not null).ToList();
        var all = await _store.ReturnsAsync(job.Id, 1000);
        Assert.Equal(expected.Select(t => t.TrialNumber), all.Select(c => c.TrialNumber));
        foreach (var (trial, column) in expected.Zip(all))
        {
            Assert.Equal(trial.DailyReturns!.Select(BitConverter.SingleToInt32Bits), column.Returns.Select(BitConverter.SingleToInt32Bits));
        }

        Assert.Equal(expected.Take(3).Select(t => t.TrialNumber), (await _store.ReturnsAsync(job.Id, 3)).Select(c => c.TrialNumber));
    }

    [Fact]
    public async Task Deleting_a_job_deletes_its_trials()
    {
        var job = Job("alice");
        await _store.CreateAsync(job);
        await _store.SaveTrialsAsync(job.Id, Trials(10, seed: 7));

        Assert.True(await _store.DeleteAsync(job.Id));
        Assert.False(await _store.DeleteAsync(job.Id));
        Assert.Null(await _store.GetAsync(job.Id));
        Assert.Empty(await _store.TrialNumbersAsync(job.Id));
    }

    [Fact]
    public async Task The_listing_is_newest_first_and_filters_by_owner_and_status_with_the_total_on_every_page()
    {
        var start = new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var jobs = Enumerable.Range(0, 12)
            .Select(i => Job(i % 3 == 0 ? "bob" : "carol") with { CreatedAt = start.AddMinutes(i), Status = i % 2 == 0 ? "completed" : "running" })
            .ToList();
        foreach (var job in jobs)
        {
            await _store.CreateAsync(job);
        }

        foreach (var (owner, status) in new (string?, string?)[] { ("bob", null), ("carol", "running"), ("carol", "completed"), ("nobody", null) })
        {
            var expected = jobs.Where(j => (owner is null || j.Owner == owner) && (status is null || j.Status == status))
                .OrderByDescending(j => j.CreatedAt).Select(j => j.Id).ToList();
            var seen = new List<Guid>();
            for (var page = 1; page <= 10; page++)
            {
                var (items, total) = await _store.ListAsync(owner, status, page, 3);
                Assert.Equal(expected.Count, total);
                seen.AddRange(items.Select(j => j.Id));
            }

            Assert.Equal(expected, seen);
        }
    }

    private async Task<List<TrialRow>> All(Guid id, TrialQuery query)
    {
        var page = await _store.TrialsAsync(id, query with { Page = 1, PageSize = 100_000 });
        return [.. page.Items];
    }

    /// <summary>
    /// The order the store must give, computed here: numeric values of the metric (the objective when null) in the
    /// direction asked, trials without a numeric value last, ties by trial number.
    /// </summary>
    private static List<int> ExpectedOrder(IReadOnlyList<TrialRow> trials, string? metric, bool descending, bool? feasible)
    {
        var rows = trials.Where(t => feasible is null || t.Feasible == feasible)
            .Select(t => (t.TrialNumber, Value: metric is null ? t.Objective : Metric(t, metric)))
            .ToList();
        var valued = rows.Where(r => r.Value is not null);
        var ordered = descending
            ? valued.OrderByDescending(r => r.Value).ThenBy(r => r.TrialNumber)
            : valued.OrderBy(r => r.Value).ThenBy(r => r.TrialNumber);
        return [.. ordered.Concat(rows.Where(r => r.Value is null).OrderBy(r => r.TrialNumber)).Select(r => r.TrialNumber)];
    }

    private static double? Metric(TrialRow trial, string metric)
    {
        if (trial.MetricsJson is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(trial.MetricsJson);
        return document.RootElement.TryGetProperty(metric, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
    }

    private static void AssertSameTrial(TrialRow expected, TrialRow actual)
    {
        Assert.Equal(expected.TrialNumber, actual.TrialNumber);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expected.ParametersJson).RootElement, JsonDocument.Parse(actual.ParametersJson).RootElement));
        if (expected.MetricsJson is null)
        {
            Assert.Null(actual.MetricsJson);
        }
        else
        {
            Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expected.MetricsJson).RootElement, JsonDocument.Parse(actual.MetricsJson!).RootElement));
        }

        Assert.Equal(expected.Objective, actual.Objective);
        Assert.Equal(expected.Feasible, actual.Feasible);
        Assert.Equal(expected.InfeasibleReason, actual.InfeasibleReason);
        Assert.Equal(expected.TotalTrades, actual.TotalTrades);
        Assert.Equal(expected.ContentHash, actual.ContentHash);
    }

    private static OptimizationRecord Job(string owner) => new(
        Guid.NewGuid(), owner, "grid of SMA periods",
        """{"method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"}}""",
        "queued", 3, 10_000, new DateTime(2026, 12, 6, 9, 30, 15, 123, DateTimeKind.Utc));

    /// <summary>
    /// Trials with the awkward cases every listing meets: ties (values on a coarse grid), an infeasible trial that
    /// never ran (no metrics), a metric that is missing, null or a string, and a parameter pair shared by several trials.
    /// </summary>
    private static List<TrialRow> Trials(int count, int seed)
    {
        var random = new Random(seed);
        var trials = new List<TrialRow>();
        for (var n = 0; n < count; n++)
        {
            var fast = random.Next(1, 6);
            var slow = random.Next(5, 9);
            var parameters = $$"""{"fastPeriod":{{fast}},"slowPeriod":{{slow}},"maType":"sma"}""";
            if (fast >= slow)
            {
                trials.Add(new TrialRow(n, parameters, null, null, false, "fastPeriod must be less than slowPeriod", null, null));
                continue;
            }

            var sharpe = Math.Round(random.NextDouble() * 4 - 1, 1); // a coarse grid: many ties
            var totalReturn = (n % 11) switch
            {
                0 => "null",
                1 => "\"n/a\"",
                _ => Math.Round(random.NextDouble() - 0.3, 3).ToString(CultureInfo.InvariantCulture),
            };
            var drawdown = n % 13 == 0 ? "" : $",\"maxDrawdown\":{Math.Round(-random.NextDouble() * 0.5, 2).ToString(CultureInfo.InvariantCulture)}";
            var metrics = $"{{\"sharpeRatio\":{sharpe.ToString(CultureInfo.InvariantCulture)},\"totalReturn\":{totalReturn}{drawdown}}}";
            var feasible = n % 7 != 3; // a constraint failed: it ran, but is not feasible
            trials.Add(new TrialRow(n, parameters, metrics, feasible ? sharpe : null, feasible, feasible ? null : "maxDrawdown >= -0.2 failed",
                random.Next(0, 50), $"hash-{n}", [(float)sharpe / 100, -0.001f * n]));
        }

        return trials;
    }
}
