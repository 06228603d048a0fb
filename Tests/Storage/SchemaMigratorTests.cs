using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Tests.Storage;

[Collection(PostgresCollection.Name)]
public class SchemaMigratorTests(PostgresFixture postgres)
{
    private static readonly int[] AllVersions = SchemaMigrator.Scripts.Select(s => s.Version).ToArray();

    [Fact]
    public void Embeds_the_numbered_scripts_in_order()
    {
        Assert.Equal(
            ["001_orleans_clustering.sql", "002_orleans_persistence.sql", "003_orleans_reminders.sql", "010_app_schema.sql",
             "020_api_keys.sql", "030_custom_strategies.sql", "031_strategy_delete.sql"],
            SchemaMigrator.Scripts.Select(s => s.Name));
    }

    [Fact]
    public async Task Applies_every_script_once_and_records_it()
    {
        var db = await postgres.CreateDatabaseAsync();

        Assert.Equal(AllVersions, await SchemaMigrator.ApplyAsync(db));
        Assert.Empty(await SchemaMigrator.ApplyAsync(db));

        var recorded = await QueryAsync(db, "SELECT version, script FROM schema_version ORDER BY version",
            r => (r.GetInt32(0), r.GetString(1)));
        Assert.Equal(SchemaMigrator.Scripts.Select(s => (s.Version, s.Name)), recorded);
    }

    [Fact]
    public async Task Every_script_is_safe_to_run_again_by_hand()
    {
        var db = await postgres.CreateMigratedDatabaseAsync();
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        foreach (var script in SchemaMigrator.Scripts)
        {
            await using var command = new NpgsqlCommand(script.Sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        Assert.Equal(19L, await ScalarAsync<long>(db, "SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task Concurrent_callers_apply_each_script_exactly_once()
    {
        var db = await postgres.CreateDatabaseAsync();

        var results = await Task.WhenAll(
            Task.Run(() => SchemaMigrator.ApplyAsync(db)),
            Task.Run(() => SchemaMigrator.ApplyAsync(db)),
            Task.Run(() => SchemaMigrator.ApplyAsync(db)));

        // One caller applied everything; the others, queued on the lock, found nothing left to do.
        Assert.Equal(AllVersions, results.SelectMany(r => r).Order());
        Assert.Single(results, r => r.Count > 0);
        Assert.Equal(AllVersions.Length, await ScalarAsync<long>(db, "SELECT count(*) FROM schema_version"));
    }

    [Fact]
    public async Task Installs_every_query_the_Orleans_providers_require()
    {
        var db = await postgres.CreateMigratedDatabaseAsync();
        var keys = await QueryAsync(db, "SELECT QueryKey FROM OrleansQuery", r => r.GetString(0));
        string[] required =
        [
            // clustering
            "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
            "MembershipReadRowKey", "MembershipReadAllKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey",
            "CleanupDefunctSiloEntriesKey",
            // grain persistence
            "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey",
            // reminders
            "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
            "DeleteReminderRowKey", "DeleteReminderRowsKey",
        ];
        Assert.Equal(required.Order(), keys.Order());
    }

    internal static async Task<List<T>> QueryAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    internal static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
