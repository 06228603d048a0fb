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
             "020_api_keys.sql", "030_custom_strategies.sql", "031_strategy_delete.sql", "032_result_series.sql", "033_data_protection_keys.sql", "034_key_roles.sql",
             "040_optimizations.sql", "041_walkforwards.sql", "042_strategy_assemblies.sql"],
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
    public async Task Points_stored_a_row_each_move_into_the_series_and_read_back_through_the_old_names()
    {
        var db = await postgres.CreateDatabaseAsync();
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            foreach (var script in SchemaMigrator.Scripts.Where(s => s.Version < 32))
            {
                await using var command = new NpgsqlCommand(script.Sql, connection);
                await command.ExecuteNonQueryAsync();
            }

            // A backtest saved before 032: a row per point, written out of order to prove seq and date order win.
            await using var seed = new NpgsqlCommand("""
                INSERT INTO backtests (backtest_id, owner, strategy_name, status)
                VALUES ('00000000-0000-0000-0000-0000000000a1', 'u', 's', 'completed');
                INSERT INTO backtest_equity (backtest_id, seq, ts, equity, cash, drawdown) VALUES
                  ('00000000-0000-0000-0000-0000000000a1', 1, '2024-01-03Z', 101, 50, 0.5),
                  ('00000000-0000-0000-0000-0000000000a1', 0, '2024-01-02Z', 100, 100, 0);
                INSERT INTO backtest_daily_returns (backtest_id, date, equity, ret) VALUES
                  ('00000000-0000-0000-0000-0000000000a1', '2024-01-03', 101, 0.01),
                  ('00000000-0000-0000-0000-0000000000a1', '2024-01-02', 100, NULL);
                """, connection);
            await seed.ExecuteNonQueryAsync();
            var series = SchemaMigrator.Scripts.Single(s => s.Version == 32);
            for (var run = 0; run < 2; run++)
            {
                await using var migrate = new NpgsqlCommand(series.Sql, connection);
                await migrate.ExecuteNonQueryAsync();
            }
        }

        Assert.Equal(
            [(0, 100.0, 100.0, 0.0), (1, 101.0, 50.0, 0.5)],
            await QueryAsync(db, "SELECT seq, equity, cash, drawdown FROM backtest_equity ORDER BY seq",
                r => (r.GetInt32(0), r.GetDouble(1), r.GetDouble(2), r.GetDouble(3))));
        Assert.Equal(
            [(new DateOnly(2024, 1, 2), (double?)100.0, (double?)null), (new DateOnly(2024, 1, 3), 101.0, 0.01)],
            await QueryAsync(db, "SELECT date, equity, ret FROM backtest_daily_returns ORDER BY date",
                r => (r.GetFieldValue<DateOnly>(0), r.IsDBNull(1) ? null : (double?)r.GetDouble(1), r.IsDBNull(2) ? null : (double?)r.GetDouble(2))));
        Assert.Equal("v", await ScalarAsync<string>(db, "SELECT relkind::text FROM pg_class WHERE relname = 'backtest_equity'"));
        Assert.Equal(1L, await ScalarAsync<long>(db, "SELECT count(*) FROM backtest_equity_series"));
    }

    [Fact]
    public async Task Keys_stored_before_034_keep_the_role_they_authenticated_with_and_get_ids()
    {
        var db = await postgres.CreateDatabaseAsync();
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            foreach (var script in SchemaMigrator.Scripts.Where(s => s.Version < 34))
            {
                await using var command = new NpgsqlCommand(script.Sql, connection);
                await command.ExecuteNonQueryAsync();
            }

            // Before 034 the role was the user's: both of root's keys were admin keys, alice's a user key.
            await using var seed = new NpgsqlCommand("""
                INSERT INTO api_users (user_id, role) VALUES ('alice', 'user'), ('root', 'admin'), ('nokeys', 'admin');
                INSERT INTO api_keys (key_hash, user_id, prefix, label, revoked_at) VALUES
                  ('h-root-1', 'root', 'r1', 'bootstrap', NULL),
                  ('h-alice-1', 'alice', 'a1', NULL, NULL),
                  ('h-root-2', 'root', 'r2', NULL, '2024-05-01Z'),
                  ('h-alice-2', 'alice', 'a2', 'laptop', NULL);
                """, connection);
            await seed.ExecuteNonQueryAsync();
            var roles = SchemaMigrator.Scripts.Single(s => s.Version == 34);
            for (var run = 0; run < 2; run++)
            {
                await using var migrate = new NpgsqlCommand(roles.Sql, connection);
                await migrate.ExecuteNonQueryAsync();
            }
        }

        Assert.Equal(
            [("h-alice-1", "user", false), ("h-alice-2", "user", false), ("h-root-1", "admin", false), ("h-root-2", "admin", true)],
            await QueryAsync(db, "SELECT key_hash, role, revoked_at IS NOT NULL FROM api_keys ORDER BY key_hash",
                r => (r.GetString(0), r.GetString(1), r.GetBoolean(2))));
        Assert.Equal(4L, await ScalarAsync<long>(db, "SELECT count(DISTINCT id) FROM api_keys WHERE id IS NOT NULL"));
        Assert.Equal(0L, await ScalarAsync<long>(db,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'api_users' AND column_name = 'role'"));
        Assert.Equal(3L, await ScalarAsync<long>(db, "SELECT count(*) FROM api_users"));
        await Assert.ThrowsAsync<PostgresException>(() => QueryAsync(db,
            "INSERT INTO api_keys (key_hash, user_id, role, prefix) VALUES ('h-bad', 'alice', 'root', 'x')", r => 0));
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
