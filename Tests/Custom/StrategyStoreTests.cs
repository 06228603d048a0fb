using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Storage;
using Backtesting.Tests.Storage;

namespace Backtesting.Tests.Custom;

/// <summary>Custom strategy versions in a real PostgreSQL database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StrategyStoreTests(PostgresFixture postgres) : IAsyncLifetime
{
    // Typed as the interfaces the rest of the system sees; the instances are the PostgreSQL stores.
    private IStrategyStore _strategies = null!;
    private IBacktestStore _backtests = null!;

    public async Task InitializeAsync()
    {
        var db = await postgres.CreateMigratedDatabaseAsync();
        _strategies = new PostgresStrategyStore(db);
        _backtests = new PostgresBacktestStore(db);
    }

    public async Task DisposeAsync()
    {
        await ((PostgresStrategyStore)_strategies).DisposeAsync();
        await ((PostgresBacktestStore)_backtests).DisposeAsync();
    }

    private static (string Source, CompileResult Compiled, string Schema) Compiled(string source)
    {
        var compiled = StrategyCompiler.Compile(source);
        Assert.True(compiled.Ok, string.Join("\n", compiled.Diagnostics));
        return (StrategyCompiler.Normalize(source), compiled, JsonSerializer.Serialize(compiled.Strategy, JsonDefaults.Options));
    }

    private Task<StrategyVersion> Save(string owner, (string Source, CompileResult Compiled, string Schema) version) =>
        _strategies.SaveVersionAsync(owner, version.Compiled.Strategy!.Name, version.Source, version.Compiled.SourceHash, version.Schema);

    [Fact]
    public async Task Versions_are_numbered_per_strategy_and_saving_the_same_source_changes_nothing()
    {
        var first = Compiled(StrategySources.SmaCross);
        var second = Compiled(StrategySources.SmaCross.Replace("= 10;", "= 12;", StringComparison.Ordinal));

        var v1 = await Save("alice", first);
        var again = await Save("alice", first);
        var v2 = await Save("alice", second);

        Assert.Equal(1, v1.Version);
        Assert.Equal(v1, again);
        Assert.Equal(2, v2.Version);
        Assert.Equal(v1.StrategyId, v2.StrategyId);
        Assert.Equal(("alice", "SmaCross", first.Source, first.Compiled.SourceHash), (v1.Owner, v1.Name, v1.Source, v1.ContentHash));
        Assert.Equal(v2, await _strategies.GetAsync("alice", v1.StrategyId));
        Assert.Equal(v1, await _strategies.GetAsync("alice", v1.StrategyId, 1));
        Assert.Equal(v2, await _strategies.GetByNameAsync("alice", "SmaCross"));
        Assert.Equal(v1, await _strategies.GetByNameAsync("alice", "SmaCross", 1));
        Assert.Null(await _strategies.GetAsync("alice", v1.StrategyId, 3));

        // The stored schema is the compiler's, read back as equal JSON (jsonb may reorder keys).
        using var stored = JsonDocument.Parse(v2.SchemaJson);
        using var expected = JsonDocument.Parse(second.Schema);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, stored.RootElement));
        var schema = JsonSerializer.Deserialize<StrategySchema>(v2.SchemaJson, JsonDefaults.Options)!;
        Assert.Equal(12, ((JsonElement)schema.Parameters[0].Default!).GetInt32());

        var listed = Assert.Single(await _strategies.ListAsync("alice"));
        Assert.Equal((v1.StrategyId, "SmaCross", 2, second.Compiled.SourceHash), (listed.StrategyId, listed.Name, listed.LatestVersion, listed.ContentHash));
    }

    [Fact]
    public async Task Another_owner_can_neither_see_nor_record_a_strategy()
    {
        var alices = await Save("alice", Compiled(StrategySources.SmaCross));

        Assert.Null(await _strategies.GetAsync("bob", alices.StrategyId));
        Assert.Null(await _strategies.GetAsync("bob", alices.StrategyId, 1));
        Assert.Null(await _strategies.GetByNameAsync("bob", "SmaCross"));
        Assert.Empty(await _strategies.ListAsync("bob"));

        // Bob's own strategy of the same name is a strategy of his own.
        var bobs = await Save("bob", Compiled(StrategySources.SmaCross));
        Assert.NotEqual(alices.StrategyId, bobs.StrategyId);
        Assert.Equal(1, bobs.Version);

        var bobsBacktest = await CreateBacktest("bob");
        Assert.False(await _strategies.RecordBacktestStrategyAsync(bobsBacktest, alices.StrategyId, 1));
        Assert.Null(await _strategies.GetBacktestStrategyAsync(bobsBacktest));
        Assert.False(await _strategies.RecordBacktestStrategyAsync(bobsBacktest, bobs.StrategyId, 2)); // no such version
        Assert.False(await _strategies.RecordBacktestStrategyAsync(Guid.NewGuid(), bobs.StrategyId, 1)); // no such backtest

        Assert.True(await _strategies.RecordBacktestStrategyAsync(bobsBacktest, bobs.StrategyId, 1));
        Assert.True(await _strategies.RecordBacktestStrategyAsync(bobsBacktest, bobs.StrategyId, 1));
        Assert.Equal(new StrategyVersionRef(bobs.StrategyId, 1), await _strategies.GetBacktestStrategyAsync(bobsBacktest));
    }

    [Fact]
    public async Task Concurrent_saves_of_one_strategy_get_consecutive_versions()
    {
        var template = Compiled(StrategySources.SmaCross);
        var saves = Enumerable.Range(0, 8).Select(i => _strategies.SaveVersionAsync("carol", "SmaCross", template.Source + "// " + i,
            $"hash-{i}", template.Schema)).ToList();

        var versions = await Task.WhenAll(saves);

        Assert.Equal(Enumerable.Range(1, 8), versions.Select(v => v.Version).Order());
        Assert.Single(versions.Select(v => v.StrategyId).Distinct());
    }

    [Fact]
    public async Task Deleting_removes_an_unused_strategy_and_retires_one_a_backtest_ran()
    {
        var unused = await Save("dave", Compiled(StrategySources.SmaCross));
        Assert.Equal(StrategyDeletion.NotFound, await _strategies.DeleteAsync("erin", "SmaCross")); // not hers
        Assert.NotNull(await _strategies.GetByNameAsync("dave", "SmaCross"));

        Assert.Equal(StrategyDeletion.Removed, await _strategies.DeleteAsync("dave", "SmaCross"));
        Assert.Null(await _strategies.GetAsync("dave", unused.StrategyId, 1)); // gone, every version
        Assert.Null(await _strategies.GetByNameAsync("dave", "SmaCross"));
        Assert.Empty(await _strategies.ListAsync("dave"));
        Assert.Equal(StrategyDeletion.NotFound, await _strategies.DeleteAsync("dave", "SmaCross"));

        // Run by a backtest: retired, not removed, and the backtest keeps the exact version it ran.
        var used = await Save("dave", Compiled(StrategySources.SmaCross));
        Assert.NotEqual(unused.StrategyId, used.StrategyId);
        var backtest = await CreateBacktest("dave");
        Assert.True(await _strategies.RecordBacktestStrategyAsync(backtest, used.StrategyId, 1));

        Assert.Equal(StrategyDeletion.Retired, await _strategies.DeleteAsync("dave", "SmaCross"));
        Assert.Null(await _strategies.GetByNameAsync("dave", "SmaCross"));
        Assert.Null(await _strategies.GetByNameAsync("dave", "SmaCross", 1));
        Assert.Empty(await _strategies.ListAsync("dave"));
        Assert.Equal(used, await _strategies.GetAsync("dave", used.StrategyId, 1));
        Assert.Equal(new StrategyVersionRef(used.StrategyId, 1), await _strategies.GetBacktestStrategyAsync(backtest));
        Assert.Equal(StrategyDeletion.NotFound, await _strategies.DeleteAsync("dave", "SmaCross"));

        // Uploading the name again brings it back and continues its numbering.
        var back = await Save("dave", Compiled(StrategySources.SmaCross.Replace("= 10;", "= 11;", StringComparison.Ordinal)));
        Assert.Equal((used.StrategyId, 2), (back.StrategyId, back.Version));
        Assert.Equal(back, await _strategies.GetByNameAsync("dave", "SmaCross"));
        Assert.Equal(2, Assert.Single(await _strategies.ListAsync("dave")).LatestVersion);
    }

    private async Task<Guid> CreateBacktest(string owner)
    {
        var id = Guid.NewGuid();
        await _backtests.CreateAsync(new BacktestRecord(id, owner, "SmaCross", "{}", null, null, StoredStatus.Queued, DateTime.UtcNow,
            null, null, null, 0, null));
        return id;
    }
}
