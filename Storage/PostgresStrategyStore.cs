using Npgsql;
using NpgsqlTypes;
using static Backtesting.Storage.NpgsqlValues;

namespace Backtesting.Storage;

/// <summary><see cref="IStrategyStore"/> on PostgreSQL (the tables of <c>sql/030_custom_strategies.sql</c>).</summary>
public sealed class PostgresStrategyStore : IStrategyStore, IAsyncDisposable, IDisposable
{
    private const string VersionColumns = """
        s.strategy_id, s.owner, s.name, v.version, v.source, v.content_hash, v.schema::text, v.created_at
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;

    /// <summary>
    /// Runs on a data source the caller owns and disposes: a host registers one <see cref="NpgsqlDataSource"/> in its
    /// container, which hands it to every store and disposes it when the host stops.
    /// </summary>
    public PostgresStrategyStore(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
    }

    /// <summary>For tools and tests without a container: creates a data source for this connection string and disposes it with the store.</summary>
    public PostgresStrategyStore(string connectionString)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _ownsDataSource = true;
    }

    public async Task<StrategyVersion> SaveVersionAsync(string owner, string name, string source, string contentHash, string schemaJson,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(contentHash);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // The update makes the statement return the existing row and lock it until commit, so concurrent saves of one
        // strategy take their version numbers one after the other; it also brings back a deleted (retired) strategy.
        Guid strategyId;
        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO custom_strategies (strategy_id, owner, name) VALUES (@id, @owner, @name)
            ON CONFLICT (owner, name) DO UPDATE SET name = EXCLUDED.name, deleted_at = NULL
            RETURNING strategy_id
            """, connection, transaction))
        {
            upsert.Parameters.AddWithValue("id", Guid.NewGuid());
            upsert.Parameters.AddWithValue("owner", owner);
            upsert.Parameters.AddWithValue("name", name);
            strategyId = (Guid)(await upsert.ExecuteScalarAsync(cancellationToken))!;
        }

        var latest = await ReadVersionAsync(connection, transaction, $"""
            SELECT {VersionColumns} FROM custom_strategies s JOIN custom_strategy_versions v USING (strategy_id)
             WHERE s.strategy_id = @id ORDER BY v.version DESC LIMIT 1
            """, p => p.AddWithValue("id", strategyId), cancellationToken);
        if (latest is not null && latest.ContentHash == contentHash)
        {
            await transaction.CommitAsync(cancellationToken);
            return latest;
        }

        var stored = await ReadVersionAsync(connection, transaction, $"""
            WITH inserted AS (
                INSERT INTO custom_strategy_versions (strategy_id, version, source, content_hash, schema)
                VALUES (@id, @version, @source, @hash, @schema)
                RETURNING *)
            SELECT {VersionColumns} FROM custom_strategies s JOIN inserted v USING (strategy_id)
            """, p =>
            {
                p.AddWithValue("id", strategyId);
                p.AddWithValue("version", (latest?.Version ?? 0) + 1);
                p.AddWithValue("source", source);
                p.AddWithValue("hash", contentHash);
                p.AddWithValue("schema", NpgsqlDbType.Jsonb, schemaJson);
            }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return stored!;
    }

    public async Task<StrategyVersion?> GetAsync(string owner, Guid strategyId, int? version = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadVersionAsync(connection, null, $"""
            SELECT {VersionColumns} FROM custom_strategies s JOIN custom_strategy_versions v USING (strategy_id)
             WHERE s.owner = @owner AND s.strategy_id = @id AND (@version::int IS NULL OR v.version = @version)
             ORDER BY v.version DESC LIMIT 1
            """, p =>
            {
                p.AddWithValue("owner", owner);
                p.AddWithValue("id", strategyId);
                p.AddWithValue("version", NpgsqlDbType.Integer, DbValue(version));
            }, cancellationToken);
    }

    public async Task<StrategyVersion?> GetByNameAsync(string owner, string name, int? version = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadVersionAsync(connection, null, $"""
            SELECT {VersionColumns} FROM custom_strategies s JOIN custom_strategy_versions v USING (strategy_id)
             WHERE s.owner = @owner AND s.name = @name AND s.deleted_at IS NULL AND (@version::int IS NULL OR v.version = @version)
             ORDER BY v.version DESC LIMIT 1
            """, p =>
            {
                p.AddWithValue("owner", owner);
                p.AddWithValue("name", name);
                p.AddWithValue("version", NpgsqlDbType.Integer, DbValue(version));
            }, cancellationToken);
    }

    public async Task<IReadOnlyList<StrategySummary>> ListAsync(string owner, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT strategy_id, name, version, content_hash, schema, created_at, updated_at FROM (
                SELECT DISTINCT ON (s.strategy_id) s.strategy_id, s.name, v.version, v.content_hash, v.schema::text AS schema,
                       s.created_at, v.created_at AS updated_at
                  FROM custom_strategies s JOIN custom_strategy_versions v USING (strategy_id)
                 WHERE s.owner = @owner AND s.deleted_at IS NULL
                 ORDER BY s.strategy_id, v.version DESC) latest
             ORDER BY name
            """);
        command.Parameters.AddWithValue("owner", owner);
        var list = new List<StrategySummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new StrategySummary(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4),
                reader.GetDateTime(5), reader.GetDateTime(6)));
        }

        return list;
    }

    public async Task<StrategyDeletion> DeleteAsync(string owner, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return await DeleteOnceAsync(owner, name, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            // A backtest recorded one of its versions between the check and the delete: now it is retired instead.
            return await DeleteOnceAsync(owner, name, cancellationToken);
        }
    }

    private async Task<StrategyDeletion> DeleteOnceAsync(string owner, string name, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Locks the strategy's row: a concurrent save waits, and a backtest recording one of its versions either
        // commits first (the strategy is retired) or finds no version after (it was removed).
        Guid? strategyId;
        await using (var find = new NpgsqlCommand("""
            SELECT strategy_id FROM custom_strategies WHERE owner = @owner AND name = @name AND deleted_at IS NULL FOR UPDATE
            """, connection, transaction))
        {
            find.Parameters.AddWithValue("owner", owner);
            find.Parameters.AddWithValue("name", name);
            strategyId = (Guid?)await find.ExecuteScalarAsync(cancellationToken);
        }

        if (strategyId is null)
        {
            return StrategyDeletion.NotFound;
        }

        await using var delete = new NpgsqlCommand("""
            WITH removed AS (
                DELETE FROM custom_strategies s
                 WHERE s.strategy_id = @id AND NOT EXISTS (SELECT 1 FROM backtests b WHERE b.strategy_id = s.strategy_id)
                RETURNING 1),
            retired AS (
                UPDATE custom_strategies SET deleted_at = now()
                 WHERE strategy_id = @id AND NOT EXISTS (SELECT 1 FROM removed)
                RETURNING 1)
            SELECT (SELECT count(*) FROM removed), (SELECT count(*) FROM retired)
            """, connection, transaction);
        delete.Parameters.AddWithValue("id", strategyId.Value);
        StrategyDeletion outcome;
        await using (var reader = await delete.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            outcome = reader.GetInt64(0) == 1 ? StrategyDeletion.Removed : StrategyDeletion.Retired;
        }

        await transaction.CommitAsync(cancellationToken);
        return outcome;
    }

    public async Task<bool> RecordBacktestStrategyAsync(Guid backtestId, Guid strategyId, int version, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            UPDATE backtests b
               SET strategy_id = v.strategy_id, strategy_version = v.version
              FROM custom_strategy_versions v JOIN custom_strategies s USING (strategy_id)
             WHERE b.backtest_id = @backtest AND v.strategy_id = @strategy AND v.version = @version AND s.owner = b.owner
            """);
        command.Parameters.AddWithValue("backtest", backtestId);
        command.Parameters.AddWithValue("strategy", strategyId);
        command.Parameters.AddWithValue("version", version);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<StrategyVersionRef?> GetBacktestStrategyAsync(Guid backtestId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT strategy_id, strategy_version FROM backtests WHERE backtest_id = @backtest AND strategy_id IS NOT NULL
            """);
        command.Parameters.AddWithValue("backtest", backtestId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new StrategyVersionRef(reader.GetGuid(0), reader.GetInt32(1)) : null;
    }

    private static async Task<StrategyVersion?> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        Action<NpgsqlParameterCollection> parameters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        parameters(command.Parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StrategyVersion(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4),
            reader.GetString(5), reader.GetString(6), DateTime.SpecifyKind(reader.GetDateTime(7), DateTimeKind.Utc));
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync();
        }
    }

    public void Dispose()
    {
        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }
    }
}
