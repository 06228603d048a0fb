using Npgsql;
using NpgsqlTypes;

namespace Backtesting.Storage;

/// <summary>The latest checkpoint of a run, one jsonb row per backtest.</summary>
public sealed partial class PostgresBacktestStore
{
    public async Task SaveCheckpointAsync(Guid id, string json, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO backtest_checkpoints (backtest_id, checkpoint, updated_at) VALUES (@id, @checkpoint, now())
            ON CONFLICT (backtest_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = EXCLUDED.updated_at
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("checkpoint", NpgsqlDbType.Jsonb, json);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new KeyNotFoundException($"No backtest {id}", e);
        }
    }

    public async Task<string?> LoadCheckpointAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT checkpoint::text FROM backtest_checkpoints WHERE backtest_id = @id");
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }
}
