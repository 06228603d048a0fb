using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Tests.Storage;

[Collection(PostgresCollection.Name)]
public sealed class BacktestStoreTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string ConfigJson = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2015-01-01","endDate":"2019-12-31","instruments":["SPY","AAPL"],"initialBalance":100000,
         "executionSettings":{"commission":{"model":"percent","rate":0.001}},
         "riskSettings":{"positionSizing":{"mode":"percentEquity","percent":0.45}}}
        """;

    // One real run for the whole class: SPY and AAPL daily, 2015-2019, with commissions.
    private static readonly Lazy<BacktestResult> RealResult = new(RunEngine);

    private string _db = "";
    // Typed as the interface the rest of the system sees; the instance is a PostgresBacktestStore.
    private IBacktestStore _store = null!;

    public async Task InitializeAsync()
    {
        _db = await postgres.CreateMigratedDatabaseAsync();
        _store = new PostgresBacktestStore(_db);
    }

    public async Task DisposeAsync() => await ((PostgresBacktestStore)_store).DisposeAsync();

    [Fact]
    public async Task Create_is_idempotent_and_get_reads_the_record_back()
    {
        var record = NewRecord(priority: 5, hash: "abc");

        Assert.True(await _store.CreateAsync(record));
        Assert.False(await _store.CreateAsync(record with { StrategyName = "Other" }));

        var stored = await _store.GetAsync(record.Id);
        Assert.NotNull(stored);
        Assert.Equal(record with { Configuration = stored.Configuration }, stored);
        using var expected = JsonDocument.Parse(record.Configuration);
        using var actual = JsonDocument.Parse(stored.Configuration);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, actual.RootElement));
        Assert.Null(await _store.GetAsync(Guid.NewGuid()));
        Assert.Equal([new StatusChange(StoredStatus.Queued, record.CreatedAt, "created")], await _store.GetStatusHistoryAsync(record.Id));
    }

    [Fact]
    public async Task Status_updates_keep_unset_fields_and_log_changes_only()
    {
        var record = NewRecord();
        await _store.CreateAsync(record);

        Assert.True(await _store.UpdateStatusAsync(record.Id, StoredStatus.Running, 0, null, null, "picked up by silo-1"));
        Assert.True(await _store.UpdateStatusAsync(record.Id, StoredStatus.Running, 42.125, null, null, null));
        Assert.True(await _store.UpdateStatusAsync(record.Id, StoredStatus.Running, 57.5, null, null, null));
        var running = await _store.GetAsync(record.Id);
        Assert.Equal(57.5, running!.Progress);
        Assert.Null(running.CompletedAt);

        Assert.True(await _store.UpdateStatusAsync(record.Id, StoredStatus.Failed, null, "data missing", null, null));
        var failed = await _store.GetAsync(record.Id);
        Assert.Equal(StoredStatus.Failed, failed!.Status);
        Assert.Equal(57.5, failed.Progress);
        Assert.Equal("data missing", failed.ErrorMessage);
        Assert.NotNull(failed.CompletedAt); // terminal: stamped when not given

        var history = await _store.GetStatusHistoryAsync(record.Id);
        Assert.Equal([StoredStatus.Queued, StoredStatus.Running, StoredStatus.Failed], history.Select(h => h.Status));
        Assert.Equal("picked up by silo-1", history[1].Detail);

        Assert.False(await _store.UpdateStatusAsync(Guid.NewGuid(), StoredStatus.Running, null, null, null, null));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            _store.UpdateStatusAsync(record.Id, StoredStatus.Running, 101, null, null, null));
    }

    public static TheoryData<string> TerminalWords => [.. StoredStatus.Terminal];

    [Theory]
    [MemberData(nameof(TerminalWords))]
    public async Task A_terminal_row_keeps_its_status_progress_and_error_whatever_word_is_written_late(string terminal)
    {
        foreach (var late in LifecycleWords.All)
        {
            var record = NewRecord();
            await _store.CreateAsync(record);
            var done = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc);
            Assert.True(await _store.UpdateStatusAsync(record.Id, terminal, 100, terminal == StoredStatus.Completed ? null : "why", done, "ended"));

            Assert.True(await _store.UpdateStatusAsync(record.Id, late, 10, "late error", DateTime.UtcNow, "late"), $"{terminal} then {late}");

            var row = (await _store.GetAsync(record.Id))!;
            var history = await _store.GetStatusHistoryAsync(record.Id);
            if (late == terminal)
            {
                // The same word again (the grain storing its terminal state once more) is written.
                Assert.Equal((terminal, 10.0, "late error"), (row.Status, row.Progress, row.ErrorMessage));
                Assert.Equal("late", history[^1].Detail);
            }
            else
            {
                Assert.Equal((terminal, 100.0, terminal == StoredStatus.Completed ? null : "why", done),
                    (row.Status, row.Progress, row.ErrorMessage, row.CompletedAt));
                Assert.DoesNotContain(history, h => h.Detail == "late");
                Assert.Equal(terminal, history[^1].Status);
            }
        }
    }

    [Fact]
    public async Task Results_of_a_real_run_round_trip()
    {
        var result = RealResult.Value;
        Assert.NotEmpty(result.Trades);
        Assert.NotEmpty(result.Orders);
        Assert.NotEmpty(result.Fills);
        var record = NewRecord();
        await _store.CreateAsync(record);

        await _store.SaveResultsAsync(record.Id, result);
        var loaded = await _store.GetResultAsync(record.Id);

        Assert.NotNull(loaded);
        // Everything comes back exactly: same JSON, to the last bit of every double (trades included: the
        // seed's DECIMAL(20,8) trade columns serve queries, the exact trades are read from their document).
        Assert.Equal(Json(result), Json(loaded));

        Assert.Equal(result.ContentHash, (await _store.GetAsync(record.Id))!.ContentHash);
        Assert.Null(await _store.GetResultAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task Saving_results_twice_leaves_one_copy_with_stable_trade_ids()
    {
        var result = RealResult.Value;
        var record = NewRecord();
        await _store.CreateAsync(record);

        await _store.SaveResultsAsync(record.Id, result);
        var firstIds = await TradeIdsAsync(record.Id);
        await _store.SaveResultsAsync(record.Id, result);

        Assert.Equal(firstIds, await TradeIdsAsync(record.Id));
        Assert.Equal(result.Trades.Count, firstIds.Count);
        Assert.Equal(result.Trades.Select(t => DeterministicGuid.ForTrade(record.Id, t.Id)).Order(), firstIds.Order());
        Assert.Equal(result.EquityCurve.Count, await CountAsync("backtest_equity", record.Id));
        Assert.Equal(result.DailyEquity.Count, await CountAsync("backtest_daily_returns", record.Id));
        Assert.Equal(result.Orders.Count, await CountAsync("backtest_orders", record.Id));
        Assert.Equal(12, await CountAsync("backtest_results", record.Id)); // one row per result document

        await Assert.ThrowsAsync<KeyNotFoundException>(() => _store.SaveResultsAsync(Guid.NewGuid(), result));
    }

    [Fact]
    public async Task A_save_that_fails_changes_nothing_and_the_earlier_results_stay_whole()
    {
        var result = RealResult.Value;
        Assert.NotEmpty(result.Trades);
        var record = NewRecord();
        await _store.CreateAsync(record);
        await _store.SaveResultsAsync(record.Id, result);

        // The same trade twice breaks the unique trade number: the statement after the deletes and the series fails.
        var broken = result with { Trades = [.. result.Trades, result.Trades[0]], ContentHash = "other" };
        await Assert.ThrowsAsync<PostgresException>(() => _store.SaveResultsAsync(record.Id, broken));

        var stored = await _store.GetResultAsync(record.Id);
        Assert.NotNull(stored);
        Assert.Equal(result.Trades.Count, stored.Trades.Count);
        Assert.Equal(result.EquityCurve.Count, stored.EquityCurve.Count);
        Assert.Equal(result.DailyReturns.Count, stored.DailyReturns.Count);
        Assert.Equal(result.Orders.Count, stored.Orders.Count);
        Assert.Equal(result.ContentHash, (await _store.GetAsync(record.Id))!.ContentHash);
    }

    [Fact]
    public async Task Delete_removes_every_row_of_that_backtest_only()
    {
        var result = RealResult.Value;
        var doomed = NewRecord();
        var kept = NewRecord();
        foreach (var record in new[] { doomed, kept })
        {
            await _store.CreateAsync(record);
            await _store.UpdateStatusAsync(record.Id, StoredStatus.Running, 50, null, null, null);
            await _store.SaveCheckpointAsync(record.Id, """{"processedPoints":10}""");
            await _store.SaveResultsAsync(record.Id, result);
        }

        Assert.True(await _store.DeleteAsync(doomed.Id));
        Assert.False(await _store.DeleteAsync(doomed.Id));

        string[] tables =
        [
            "backtests", "backtest_results", "backtest_trades", "backtest_equity", "backtest_daily_returns",
            "backtest_orders", "backtest_checkpoints", "backtest_status_history",
        ];
        foreach (var table in tables)
        {
            Assert.True(await CountAsync(table, doomed.Id) == 0, $"{table} still has rows");
            Assert.True(await CountAsync(table, kept.Id) > 0, $"{table} lost the other backtest's rows");
        }
    }

    [Fact]
    public async Task List_filters_sorts_and_pages()
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var records = Enumerable.Range(0, 12).Select(i => NewRecord(
            owner: i % 3 == 0 ? "alice" : "bob",
            strategy: i % 2 == 0 ? "MovingAverageCross" : "BuyAndHold",
            status: i < 4 ? StoredStatus.Completed : StoredStatus.Queued,
            priority: i % 4,
            createdAt: t0.AddHours(i))).ToList();
        foreach (var record in records)
        {
            await _store.CreateAsync(record);
        }

        var all = await _store.ListAsync(null, null, null, null, null, BacktestSort.CreatedNewest, 1, 100);
        Assert.Equal(12, all.TotalCount);
        Assert.Equal(records.Select(r => r.Id).Reverse(), all.Items.Select(r => r.Id));

        var alice = await _store.ListAsync("alice", null, null, null, null, BacktestSort.CreatedOldest, 1, 100);
        Assert.Equal(records.Where(r => r.Owner == "alice").Select(r => r.Id), alice.Items.Select(r => r.Id));

        var bobQueuedSma = await _store.ListAsync("bob", StoredStatus.Queued, "MovingAverageCross", null, null, BacktestSort.CreatedOldest, 1, 100);
        Assert.Equal(
            records.Where(r => r is { Owner: "bob", Status: StoredStatus.Queued, StrategyName: "MovingAverageCross" }).Select(r => r.Id),
            bobQueuedSma.Items.Select(r => r.Id));

        var window = await _store.ListAsync(null, null, null, t0.AddHours(3), t0.AddHours(6), BacktestSort.CreatedOldest, 1, 100);
        Assert.Equal(records.Skip(3).Take(3).Select(r => r.Id), window.Items.Select(r => r.Id));

        var byPriority = await _store.ListAsync(null, null, null, null, null, BacktestSort.PriorityHighest, 1, 100);
        Assert.Equal(records.OrderByDescending(r => r.Priority).ThenBy(r => r.CreatedAt).Select(r => r.Id), byPriority.Items.Select(r => r.Id));

        // Pages of 5 cover the newest-first order exactly once, and report the total each time.
        var pages = new List<BacktestPage>();
        for (var page = 1; page <= 3; page++)
        {
            pages.Add(await _store.ListAsync(null, null, null, null, null, BacktestSort.CreatedNewest, page, 5));
        }

        Assert.Equal([5, 5, 2], pages.Select(p => p.Items.Count));
        Assert.All(pages, p => Assert.Equal(12, p.TotalCount));
        Assert.Equal(all.Items.Select(r => r.Id), pages.SelectMany(p => p.Items).Select(r => r.Id));
        var beyond = await _store.ListAsync(null, null, null, null, null, BacktestSort.CreatedNewest, 9, 5);
        Assert.Empty(beyond.Items);
        Assert.Equal(12, beyond.TotalCount);
    }

    [Fact]
    public async Task Content_hash_finds_only_completed_runs_with_results()
    {
        var result = RealResult.Value;
        var hash = result.ContentHash;
        var queued = NewRecord(hash: hash);
        var completedWithoutResults = NewRecord(hash: hash);
        var done = NewRecord(hash: hash);
        foreach (var record in new[] { queued, completedWithoutResults, done })
        {
            await _store.CreateAsync(record);
        }

        Assert.Null(await _store.FindCompletedByContentHashAsync(hash));
        await _store.UpdateStatusAsync(completedWithoutResults.Id, StoredStatus.Completed, 100, null, null, null);
        Assert.Null(await _store.FindCompletedByContentHashAsync(hash));

        await _store.SaveResultsAsync(done.Id, result);
        await _store.UpdateStatusAsync(done.Id, StoredStatus.Completed, 100, null, DateTime.UtcNow, null);

        Assert.Equal(done.Id, (await _store.FindCompletedByContentHashAsync(hash))?.Id);
        Assert.Null(await _store.FindCompletedByContentHashAsync("no-such-hash"));
    }

    [Fact]
    public async Task Content_hash_scoped_to_an_owner_finds_only_that_owners_runs()
    {
        var result = RealResult.Value;
        var hash = result.ContentHash;
        var theirs = NewRecord(owner: "carol", hash: hash);
        await _store.CreateAsync(theirs);
        await _store.SaveResultsAsync(theirs.Id, result);
        await _store.UpdateStatusAsync(theirs.Id, StoredStatus.Completed, 100, null, DateTime.UtcNow, null);

        Assert.Equal(theirs.Id, (await _store.FindCompletedByContentHashAsync(hash, "carol"))?.Id);
        Assert.Null(await _store.FindCompletedByContentHashAsync(hash, "dan"));
        Assert.Equal(theirs.Id, (await _store.FindCompletedByContentHashAsync(hash))?.Id);
    }

    [Fact]
    public async Task Checkpoints_are_saved_replaced_and_loaded()
    {
        var record = NewRecord();
        await _store.CreateAsync(record);
        Assert.Null(await _store.LoadCheckpointAsync(record.Id));

        await _store.SaveCheckpointAsync(record.Id, """{"processedPoints":100,"equity":101234.5}""");
        await _store.SaveCheckpointAsync(record.Id, """{"processedPoints":200,"equity":99876.25,"contentHash":"h"}""");

        using var loaded = JsonDocument.Parse((await _store.LoadCheckpointAsync(record.Id))!);
        Assert.Equal(200, loaded.RootElement.GetProperty("processedPoints").GetInt64());
        Assert.Equal(99876.25, loaded.RootElement.GetProperty("equity").GetDouble());
        Assert.Equal("h", loaded.RootElement.GetProperty("contentHash").GetString());
        await Assert.ThrowsAsync<KeyNotFoundException>(() => _store.SaveCheckpointAsync(Guid.NewGuid(), "{}"));
    }

    private static string Json(BacktestResult result) => JsonSerializer.Serialize(result, JsonDefaults.Options);

    private async Task<List<Guid>> TradeIdsAsync(Guid id) =>
        await SchemaMigratorTests.QueryAsync(_db, $"SELECT trade_id FROM backtest_trades WHERE backtest_id = '{id}' ORDER BY trade_id",
            r => r.GetGuid(0));

    private Task<long> CountAsync(string table, Guid id) =>
        SchemaMigratorTests.ScalarAsync<long>(_db, $"SELECT count(*) FROM {table} WHERE backtest_id = '{id}'");

    private static BacktestRecord NewRecord(string owner = "local", string strategy = "MovingAverageCross",
        string status = StoredStatus.Queued, int priority = 0, string? hash = null, DateTime? createdAt = null) => new(
        Id: Guid.NewGuid(),
        Owner: owner,
        StrategyName: strategy,
        Configuration: ConfigJson,
        StartDate: new DateTime(2015, 1, 1, 0, 0, 0, DateTimeKind.Utc),
        EndDate: new DateTime(2019, 12, 31, 0, 0, 0, DateTimeKind.Utc),
        Status: status,
        // timestamptz keeps microseconds: use a time it can hold exactly.
        CreatedAt: createdAt ?? new DateTime(DateTime.UtcNow.Ticks / 10 * 10, DateTimeKind.Utc),
        CompletedAt: null,
        Progress: null,
        ErrorMessage: null,
        Priority: priority,
        ContentHash: hash);

    private static BacktestResult RunEngine()
    {
        var data = new LeanDataProvider(TestPaths.LeanData);
        var (config, parseErrors) = ConfigValidator.Parse(ConfigJson);
        Assert.Empty(parseErrors);
        var validation = ConfigValidator.Validate(config!, data, StrategyCatalog.Templates, ValidationPolicy.Service, new DateOnly(2026, 11, 24));
        Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => $"{e.Field}: {e.Message}")));
        return new BacktestRun(validation.Spec!, data, StrategyCatalog.Templates).Execute();
    }
}
