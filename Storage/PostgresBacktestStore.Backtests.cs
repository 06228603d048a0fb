using System.Data;
using Npgsql;
using NpgsqlTypes;
using static Backtesting.Storage.NpgsqlValues;

namespace Backtesting.Storage;

/// <summary>The <c>backtests</c> row: creating, status and its history, priority, lookups, listing and deleting.</summary>
public sealed partial class PostgresBacktestStore
{
    private const string RecordColumns = """
        backtest_id, owner, strategy_name, configuration::text, start_date, end_date, status, created_at,
        completed_at, progress, error_message, priority, content_hash
        """;

    // The tables that hang off a backtest, children first.
    private static readonly string[] ChildTables =
    [
        "backtest_results", "backtest_trades", "backtest_equity_series", "backtest_daily_series", "backtest_orders",
        "backtest_checkpoints", "backtest_status_history",
    ];

    public async Task<bool> CreateAsync(BacktestRecord record, CancellationToken cancellationToken = default)
    {
        // One statement: the backtest and its first history row are created together or not at all.
        await using var command = _dataSource.CreateCommand("""
            WITH created AS (
                INSERT INTO backtests (backtest_id, owner, strategy_name, configuration, start_date, end_date, status,
                                       created_at, completed_at, progress, error_message, priority, content_hash)
                VALUES (@id, @owner, @strategy, @configuration, @start, @end, @status, @created, @completed,
                        @progress, @error, @priority, @hash)
                ON CONFLICT (backtest_id) DO NOTHING
                RETURNING backtest_id, status)
            INSERT INTO backtest_status_history (backtest_id, status, at, detail)
            SELECT backtest_id, status, @created, 'created' FROM created
            """);
        var p = command.Parameters;
        p.AddWithValue("id", record.Id);
        p.AddWithValue("owner", record.Owner);
        p.AddWithValue("strategy", record.StrategyName);
        p.AddWithValue("configuration", NpgsqlDbType.Jsonb, record.Configuration);
        p.AddWithValue("start", NpgsqlDbType.TimestampTz, DbValue(Utc(record.StartDate)));
        p.AddWithValue("end", NpgsqlDbType.TimestampTz, DbValue(Utc(record.EndDate)));
        p.AddWithValue("status", record.Status);
        p.AddWithValue("created", Utc(record.CreatedAt));
        p.AddWithValue("completed", NpgsqlDbType.TimestampTz, DbValue(Utc(record.CompletedAt)));
        p.AddWithValue("progress", NpgsqlDbType.Numeric, DbValue(ToPercent(record.Progress)));
        p.AddWithValue("error", NpgsqlDbType.Text, DbValue(record.ErrorMessage));
        p.AddWithValue("priority", record.Priority);
        p.AddWithValue("hash", NpgsqlDbType.Text, DbValue(record.ContentHash));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> UpdateStatusAsync(Guid id, string status, double? progress, string? error, DateTime? completedAt,
        string? detail, CancellationToken cancellationToken = default)
    {
        // `previous` locks the row, so concurrent updates queue and each sees the status the one before it set;
        // the history row is written by the same statement. A terminal row keeps its status: a write that arrives late
        // (from whoever) changes nothing, and the backtest still counts as found.
        await using var command = _dataSource.CreateCommand("""
            WITH previous AS (
                SELECT backtest_id, status, completed_at FROM backtests WHERE backtest_id = @id FOR UPDATE),
            updated AS (
                UPDATE backtests b
                   SET status = @status,
                       progress = COALESCE(@progress, b.progress),
                       error_message = COALESCE(@error, b.error_message),
                       completed_at = COALESCE(@completed, b.completed_at,
                                               CASE WHEN @terminal THEN now() END)
                  FROM previous
                 WHERE b.backtest_id = previous.backtest_id
                   AND (previous.status <> ALL(@terminal_words) OR previous.status = @status)
                RETURNING previous.status AS previous_status),
            history AS (
                INSERT INTO backtest_status_history (backtest_id, status, detail)
                SELECT @id, @status, @detail FROM updated
                 WHERE updated.previous_status IS DISTINCT FROM @status OR @detail IS NOT NULL)
            SELECT count(*) FROM previous
            """);
        var p = command.Parameters;
        p.AddWithValue("id", id);
        p.AddWithValue("status", status);
        p.AddWithValue("progress", NpgsqlDbType.Numeric, DbValue(ToPercent(progress)));
        p.AddWithValue("error", NpgsqlDbType.Text, DbValue(error));
        p.AddWithValue("completed", NpgsqlDbType.TimestampTz, DbValue(Utc(completedAt)));
        p.AddWithValue("terminal", StoredStatus.IsTerminal(status));
        p.AddWithValue("terminal_words", StoredStatus.Terminal.ToArray());
        p.AddWithValue("detail", NpgsqlDbType.Text, DbValue(detail));
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    public async Task<BacktestRecord?> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {RecordColumns} FROM backtests WHERE backtest_id = @id");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    public async Task<IReadOnlyList<BacktestRecord>> GetManyAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken = default)
    {
        var records = new List<BacktestRecord>(ids.Count);
        if (ids.Count == 0)
        {
            return records;
        }

        await using var command = _dataSource.CreateCommand($"SELECT {RecordColumns} FROM backtests WHERE backtest_id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", ids.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(ReadRecord(reader));
        }

        return records;
    }

    public async Task<BacktestRecord?> FindCompletedByContentHashAsync(string contentHash, string? owner = null, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"""
            SELECT {RecordColumns} FROM backtests b
             WHERE content_hash = @hash AND status = @completed AND (@owner::text IS NULL OR owner = @owner)
               AND EXISTS (SELECT 1 FROM backtest_results r
                            WHERE r.backtest_id = b.backtest_id AND r.result_type = '{ResultDocuments.Summary}')
             ORDER BY completed_at DESC NULLS LAST, created_at DESC
             LIMIT 1
            """);
        command.Parameters.AddWithValue("hash", contentHash);
        command.Parameters.AddWithValue("completed", StoredStatus.Completed);
        command.Parameters.AddWithValue("owner", NpgsqlDbType.Text, DbValue(owner));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    public async Task<bool> UpdatePriorityAsync(Guid id, int priority, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("UPDATE backtests SET priority = @priority WHERE backtest_id = @id");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("priority", priority);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Explicit deletes rather than trusting ON DELETE CASCADE: a database created from the seed's own
        // tables has foreign keys without it.
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var table in ChildTables.Append("backtests"))
        {
            var command = new NpgsqlBatchCommand($"DELETE FROM {table} WHERE backtest_id = @id");
            command.Parameters.AddWithValue("id", id);
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        var deleted = batch.BatchCommands[^1].RecordsAffected == 1;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task<BacktestPage> ListAsync(string? owner, string? status, string? strategy, DateTime? from, DateTime? to,
        BacktestSort sort, int page, int pageSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, BacktestPage.MaxPageSize);

        // A NULL parameter switches its filter off, so one statement serves every combination.
        const string Where = """
            WHERE (@owner::text IS NULL OR owner = @owner)
              AND (@status::text IS NULL OR status = @status)
              AND (@strategy::text IS NULL OR strategy_name = @strategy)
              AND (@from::timestamptz IS NULL OR created_at >= @from)
              AND (@to::timestamptz IS NULL OR created_at < @to)
            """;
        var orderBy = sort switch
        {
            BacktestSort.CreatedNewest => "created_at DESC, backtest_id",
            BacktestSort.CreatedOldest => "created_at, backtest_id",
            BacktestSort.PriorityHighest => "priority DESC, created_at, backtest_id",
            BacktestSort.StrategyName => "strategy_name, created_at DESC, backtest_id",
            BacktestSort.Status => "status, created_at DESC, backtest_id",
            _ => throw new ArgumentOutOfRangeException(nameof(sort), sort, null),
        };

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var sql in new[]
                 {
                     $"SELECT count(*) FROM backtests {Where}",
                     $"SELECT {RecordColumns} FROM backtests {Where} ORDER BY {orderBy} LIMIT @limit OFFSET @offset",
                 })
        {
            var command = new NpgsqlBatchCommand(sql);
            var p = command.Parameters;
            p.AddWithValue("owner", NpgsqlDbType.Text, DbValue(owner));
            p.AddWithValue("status", NpgsqlDbType.Text, DbValue(status));
            p.AddWithValue("strategy", NpgsqlDbType.Text, DbValue(strategy));
            p.AddWithValue("from", NpgsqlDbType.TimestampTz, DbValue(Utc(from)));
            p.AddWithValue("to", NpgsqlDbType.TimestampTz, DbValue(Utc(to)));
            p.AddWithValue("limit", pageSize);
            p.AddWithValue("offset", (long)(page - 1) * pageSize);
            batch.BatchCommands.Add(command);
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);
        var items = new List<BacktestRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(ReadRecord(reader));
        }

        return new BacktestPage(items, total, page, pageSize);
    }

    public async Task<IReadOnlyList<StatusChange>> GetStatusHistoryAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT status, at, detail FROM backtest_status_history WHERE backtest_id = @id ORDER BY id");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var history = new List<StatusChange>();
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add(new StatusChange(reader.GetString(0), reader.GetDateTime(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return history;
    }

    private static BacktestRecord ReadRecord(NpgsqlDataReader reader) => new(
        Id: reader.GetGuid(0),
        Owner: reader.GetString(1),
        StrategyName: reader.IsDBNull(2) ? "" : reader.GetString(2),
        Configuration: reader.IsDBNull(3) ? "{}" : reader.GetString(3),
        StartDate: reader.IsDBNull(4) ? null : reader.GetDateTime(4),
        EndDate: reader.IsDBNull(5) ? null : reader.GetDateTime(5),
        Status: reader.IsDBNull(6) ? "" : reader.GetString(6),
        CreatedAt: reader.IsDBNull(7) ? default : reader.GetDateTime(7),
        CompletedAt: reader.IsDBNull(8) ? null : reader.GetDateTime(8),
        Progress: reader.IsDBNull(9) ? null : (double)reader.GetDecimal(9),
        ErrorMessage: reader.IsDBNull(10) ? null : reader.GetString(10),
        Priority: reader.GetInt32(11),
        ContentHash: reader.IsDBNull(12) ? null : reader.GetString(12));


    private static decimal? ToPercent(double? progress)
    {
        if (progress is not { } value)
        {
            return null;
        }

        if (!(value is >= 0 and <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(progress), progress, "Progress is a percentage, 0..100");
        }

        return Math.Round((decimal)value, 2);
    }
}
