using System.Data;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;
using Npgsql;
using NpgsqlTypes;

namespace Backtesting.Storage;

/// <summary>
/// <see cref="IBacktestStore"/> on PostgreSQL (the tables of <c>sql/010_app_schema.sql</c>). Whole-result
/// documents (summary, metrics, benchmark, ...) go to <c>backtest_results</c> as jsonb, one per type, in the
/// project's JSON convention; trades, the equity curve, daily returns and orders go to their own tables by
/// binary COPY.
/// </summary>
public sealed class PostgresBacktestStore : IBacktestStore, IAsyncDisposable, IDisposable
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

    // Result parts replaced as a whole when results are saved (checkpoints and history stay).
    private static readonly string[] ResultTables =
        ["backtest_results", "backtest_trades", "backtest_equity_series", "backtest_daily_series", "backtest_orders"];

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;

    /// <summary>Uses a data source the caller owns (and disposes).</summary>
    public PostgresBacktestStore(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
    }

    /// <summary>Creates and owns a data source for this connection string.</summary>
    public PostgresBacktestStore(string connectionString)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _ownsDataSource = true;
    }

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
        // the history row is written by the same statement.
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
                RETURNING previous.status AS previous_status),
            history AS (
                INSERT INTO backtest_status_history (backtest_id, status, detail)
                SELECT @id, @status, @detail FROM updated
                 WHERE updated.previous_status IS DISTINCT FROM @status OR @detail IS NOT NULL)
            SELECT count(*) FROM updated
            """);
        var p = command.Parameters;
        p.AddWithValue("id", id);
        p.AddWithValue("status", status);
        p.AddWithValue("progress", NpgsqlDbType.Numeric, DbValue(ToPercent(progress)));
        p.AddWithValue("error", NpgsqlDbType.Text, DbValue(error));
        p.AddWithValue("completed", NpgsqlDbType.TimestampTz, DbValue(Utc(completedAt)));
        p.AddWithValue("terminal", StoredStatus.IsTerminal(status));
        p.AddWithValue("detail", NpgsqlDbType.Text, DbValue(detail));
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    public async Task SaveResultsAsync(Guid id, BacktestResult result, CancellationToken cancellationToken = default)
    {
        // One round trip: a batch runs as one implicit transaction, so every statement lands or none does. Saving
        // is on the path of every completion event, and each round trip there waits its turn on a busy machine.
        await using var batch = _dataSource.CreateBatch();

        // Also locks the backtest row: two saves of the same backtest run one after the other.
        var touch = new NpgsqlBatchCommand("UPDATE backtests SET content_hash = @hash WHERE backtest_id = @id");
        touch.Parameters.AddWithValue("id", id);
        touch.Parameters.AddWithValue("hash", result.ContentHash);
        batch.BatchCommands.Add(touch);

        // Replace, never add: whatever an earlier save stored goes first, in this same transaction.
        foreach (var table in ResultTables)
        {
            var clear = new NpgsqlBatchCommand($"DELETE FROM {table} WHERE backtest_id = @id");
            clear.Parameters.AddWithValue("id", id);
            batch.BatchCommands.Add(clear);
        }

        // Each insert is guarded, so a missing backtest is reported below rather than as a foreign-key violation.
        var documents = new NpgsqlBatchCommand($"""
            INSERT INTO backtest_results (backtest_id, result_type, result_data)
            SELECT @id, type, data::jsonb FROM unnest(@types, @data) AS d(type, data) {IfBacktestExists}
            """);
        var parts = ResultDocuments.From(result);
        documents.Parameters.AddWithValue("id", id);
        documents.Parameters.AddWithValue("types", NpgsqlDbType.Array | NpgsqlDbType.Text, parts.Select(d => d.Type).ToArray());
        documents.Parameters.AddWithValue("data", NpgsqlDbType.Array | NpgsqlDbType.Text, parts.Select(d => d.Json).ToArray());
        batch.BatchCommands.Add(documents);
        batch.BatchCommands.Add(TradeRows(id, result.Trades));
        batch.BatchCommands.Add(EquitySeries(id, result.EquityCurve));
        batch.BatchCommands.Add(DailySeries(id, result.DailyEquity, result.DailyReturns));
        batch.BatchCommands.Add(OrderRows(id, result.Orders));

        await batch.ExecuteNonQueryAsync(cancellationToken);
        if (touch.RecordsAffected == 0)
        {
            throw new KeyNotFoundException($"No backtest {id}");
        }
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

    public async Task<BacktestResult?> GetResultAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for all five reads, so a concurrent save is seen entirely or not at all.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var sql in new[]
                 {
                     "SELECT result_type, result_data::text FROM backtest_results WHERE backtest_id = @id",
                     """
                     SELECT trade_number, instrument_id, side, quantity, entry_time, entry_price, exit_time, exit_price,
                            pnl, return_pct, commission, mae, mfe, bars_held
                       FROM backtest_trades WHERE backtest_id = @id ORDER BY trade_number
                     """,
                     "SELECT ts, equity, cash, drawdown FROM backtest_equity_series WHERE backtest_id = @id",
                     "SELECT dates, equity, ret FROM backtest_daily_series WHERE backtest_id = @id",
                     "SELECT payload::text FROM backtest_orders WHERE backtest_id = @id ORDER BY order_id",
                 })
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.AddWithValue("id", id);
            batch.BatchCommands.Add(command);
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var documents = new Dictionary<string, string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            documents[reader.GetString(0)] = reader.GetString(1);
        }

        if (documents.Count == 0)
        {
            return null;
        }

        await reader.NextResultAsync(cancellationToken);
        var trades = new List<Trade>();
        while (await reader.ReadAsync(cancellationToken))
        {
            trades.Add(new Trade
            {
                Id = reader.GetInt32(0),
                Instrument = reader.GetString(1),
                Side = reader.GetString(2) == "short" ? TradeSide.Short : TradeSide.Long,
                Quantity = (double)reader.GetDecimal(3),
                EntryTime = reader.GetDateTime(4),
                EntryPrice = (double)reader.GetDecimal(5),
                ExitTime = reader.GetDateTime(6),
                ExitPrice = (double)reader.GetDecimal(7),
                Pnl = (double)reader.GetDecimal(8),
                ReturnPct = reader.GetDouble(9),
                Commission = (double)reader.GetDecimal(10),
                Mae = reader.GetDouble(11),
                Mfe = reader.GetDouble(12),
                BarsHeld = reader.GetInt32(13),
            });
        }

        await reader.NextResultAsync(cancellationToken);
        var equity = new List<EquityPoint>();
        if (await reader.ReadAsync(cancellationToken))
        {
            var times = reader.GetFieldValue<DateTime[]>(0);
            var values = reader.GetFieldValue<double[]>(1);
            var cash = reader.GetFieldValue<double[]>(2);
            var drawdown = reader.GetFieldValue<double[]>(3);
            equity.Capacity = times.Length;
            for (var i = 0; i < times.Length; i++)
            {
                equity.Add(new EquityPoint(times[i], values[i], cash[i], drawdown[i]));
            }
        }

        await reader.NextResultAsync(cancellationToken);
        var dailyEquity = new List<DailyEquity>();
        var dailyReturns = new List<DailyReturn>();
        if (await reader.ReadAsync(cancellationToken))
        {
            var dates = reader.GetFieldValue<DateOnly[]>(0);
            var values = reader.GetFieldValue<double?[]>(1);
            var returns = reader.GetFieldValue<double?[]>(2);
            for (var i = 0; i < dates.Length; i++)
            {
                if (values[i] is { } value)
                {
                    dailyEquity.Add(new DailyEquity(dates[i], value));
                }

                if (returns[i] is { } dailyReturn)
                {
                    dailyReturns.Add(new DailyReturn(dates[i], dailyReturn));
                }
            }
        }

        await reader.NextResultAsync(cancellationToken);
        var orders = new List<OrderRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(ResultDocuments.Deserialize<OrderRecord>(reader.GetString(0)));
        }

        return ResultDocuments.Assemble(documents, trades, equity, dailyEquity, dailyReturns, orders);
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
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);

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

    private const string IfBacktestExists = "WHERE EXISTS (SELECT 1 FROM backtests WHERE backtest_id = @id)";

    private static NpgsqlBatchCommand TradeRows(Guid id, IReadOnlyList<Trade> trades)
    {
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO backtest_trades (trade_id, backtest_id, trade_number, instrument_id, side, quantity, entry_price,
                                         exit_price, entry_time, exit_time, pnl, commission, return_pct, mae, mfe, bars_held)
            SELECT t.trade_id, @id, t.trade_number, t.instrument_id, t.side, t.quantity, t.entry_price, t.exit_price,
                   t.entry_time, t.exit_time, t.pnl, t.commission, t.return_pct, t.mae, t.mfe, t.bars_held
              FROM unnest(@trade_id, @trade_number, @instrument_id, @side, @quantity, @entry_price, @exit_price, @entry_time,
                          @exit_time, @pnl, @commission, @return_pct, @mae, @mfe, @bars_held)
                   AS t(trade_id, trade_number, instrument_id, side, quantity, entry_price, exit_price, entry_time, exit_time,
                        pnl, commission, return_pct, mae, mfe, bars_held)
             {IfBacktestExists}
            """);
        command.Parameters.AddWithValue("id", id);
        void Column<T>(string name, NpgsqlDbType type, Func<Trade, T> value) => AddColumn(command, name, type, trades, value);
        Column("trade_id", NpgsqlDbType.Uuid, t => DeterministicGuid.ForTrade(id, t.Id));
        Column("trade_number", NpgsqlDbType.Integer, t => t.Id);
        Column("instrument_id", NpgsqlDbType.Varchar, t => t.Instrument);
        Column("side", NpgsqlDbType.Varchar, t => t.Side == TradeSide.Short ? "short" : "long");
        Column("quantity", NpgsqlDbType.Numeric, t => Decimal8(t.Quantity));
        Column("entry_price", NpgsqlDbType.Numeric, t => Decimal8(t.EntryPrice));
        Column("exit_price", NpgsqlDbType.Numeric, t => Decimal8(t.ExitPrice));
        Column("entry_time", NpgsqlDbType.TimestampTz, t => Utc(t.EntryTime));
        Column("exit_time", NpgsqlDbType.TimestampTz, t => Utc(t.ExitTime));
        Column("pnl", NpgsqlDbType.Numeric, t => Decimal8(t.Pnl));
        Column("commission", NpgsqlDbType.Numeric, t => Decimal8(t.Commission));
        Column("return_pct", NpgsqlDbType.Double, t => t.ReturnPct);
        Column("mae", NpgsqlDbType.Double, t => t.Mae);
        Column("mfe", NpgsqlDbType.Double, t => t.Mfe);
        Column("bars_held", NpgsqlDbType.Integer, t => t.BarsHeld);
        return command;
    }

    private static NpgsqlBatchCommand OrderRows(Guid id, IReadOnlyList<OrderRecord> orders)
    {
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO backtest_orders (backtest_id, order_id, instrument, side, status, submitted_at, payload)
            SELECT @id, o.order_id, o.instrument, o.side, o.status, o.submitted_at, o.payload::jsonb
              FROM unnest(@order_id, @instrument, @side, @status, @submitted_at, @payload)
                   AS o(order_id, instrument, side, status, submitted_at, payload)
             {IfBacktestExists}
            """);
        command.Parameters.AddWithValue("id", id);
        void Column<T>(string name, NpgsqlDbType type, Func<OrderRecord, T> value) => AddColumn(command, name, type, orders, value);
        Column("order_id", NpgsqlDbType.Integer, o => o.Id);
        Column("instrument", NpgsqlDbType.Text, o => o.Instrument);
        Column("side", NpgsqlDbType.Varchar, o => o.Side);
        Column("status", NpgsqlDbType.Varchar, o => o.Status);
        Column("submitted_at", NpgsqlDbType.TimestampTz, o => Utc(o.SubmittedAt));
        Column("payload", NpgsqlDbType.Text, o => JsonSerializer.Serialize(o, JsonDefaults.Options));
        return command;
    }

    /// <summary>The equity curve as one row of arrays (see sql/032_result_series.sql for why).</summary>
    private static NpgsqlBatchCommand EquitySeries(Guid id, IReadOnlyList<EquityPoint> curve)
    {
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO backtest_equity_series (backtest_id, ts, equity, cash, drawdown)
            SELECT @id, @ts, @equity, @cash, @drawdown {IfBacktestExists}
            """);
        command.Parameters.AddWithValue("id", id);
        AddColumn(command, "ts", NpgsqlDbType.TimestampTz, curve, p => Utc(p.Time));
        AddColumn(command, "equity", NpgsqlDbType.Double, curve, p => p.Equity);
        AddColumn(command, "cash", NpgsqlDbType.Double, curve, p => p.Cash);
        AddColumn(command, "drawdown", NpgsqlDbType.Double, curve, p => p.Drawdown);
        return command;
    }

    /// <summary>One column of rows as an array parameter, for the statements that insert or store many at once.</summary>
    private static void AddColumn<TItem, T>(NpgsqlBatchCommand command, string name, NpgsqlDbType type, IReadOnlyList<TItem> items,
        Func<TItem, T> value)
    {
        var column = new T[items.Count];
        for (var i = 0; i < column.Length; i++)
        {
            column[i] = value(items[i]);
        }

        command.Parameters.AddWithValue(name, NpgsqlDbType.Array | type, column);
    }

    /// <summary>End-of-day equity and returns, one row of arrays over their dates in order; either may lack a date.</summary>
    private static NpgsqlBatchCommand DailySeries(Guid id, IReadOnlyList<DailyEquity> equity, IReadOnlyList<DailyReturn> returns)
    {
        var rows = new SortedDictionary<DateOnly, (double? Equity, double? Return)>();
        foreach (var day in equity)
        {
            rows[day.Date] = (day.Equity, null);
        }

        foreach (var day in returns)
        {
            rows[day.Date] = (rows.TryGetValue(day.Date, out var row) ? row.Equity : null, day.Return);
        }

        var command = new NpgsqlBatchCommand($"""
            INSERT INTO backtest_daily_series (backtest_id, dates, equity, ret)
            SELECT @id, @dates, @equity, @ret {IfBacktestExists}
            """);
        var days = rows.ToList();
        command.Parameters.AddWithValue("id", id);
        AddColumn(command, "dates", NpgsqlDbType.Date, days, d => d.Key);
        AddColumn(command, "equity", NpgsqlDbType.Double, days, d => d.Value.Equity);
        AddColumn(command, "ret", NpgsqlDbType.Double, days, d => d.Value.Return);
        return command;
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

    /// <summary>timestamptz takes UTC only: Local is converted, Unspecified is taken to be UTC already.</summary>
    private static DateTime Utc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static DateTime? Utc(DateTime? value) => value is { } v ? Utc(v) : null;

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

    /// <summary>A trade figure as the DECIMAL(20,8) columns keep it.</summary>
    private static decimal Decimal8(double value) => Math.Round((decimal)value, 8, MidpointRounding.AwayFromZero);

    private static object DbValue<T>(T? value) where T : class => value ?? (object)DBNull.Value;

    private static object DbValue<T>(T? value) where T : struct => value.HasValue ? value.Value : DBNull.Value;
}

/// <summary>The whole-document parts of a result, one <c>backtest_results</c> row each.</summary>
internal static class ResultDocuments
{
    public const string Summary = "summary";
    public const string Metrics = "metrics";
    public const string Benchmark = "benchmark";
    public const string MonthlyReturns = "monthly_returns";
    public const string PerInstrument = "per_instrument";
    public const string DataQuality = "data_quality";
    public const string Notes = "notes";
    public const string Config = "config";
    public const string OpenPositions = "open_positions";
    public const string Fills = "fills";
    public const string Run = "run";
    /// <summary>
    /// The trades exactly as computed. The seed's backtest_trades columns are DECIMAL(20,8) and serve queries;
    /// reading results back uses this document so no figure loses precision.
    /// </summary>
    public const string Trades = "trades";

    /// <summary>What identifies the run that produced the results.</summary>
    private sealed record RunInfo(string EngineVersion, string ContentHash, bool Partial, string FxRateSource);

    public static List<(string Type, string Json)> From(BacktestResult result) =>
    [
        (Summary, Serialize(result.Summary)),
        (Metrics, Serialize(result.Metrics)),
        (Benchmark, Serialize(result.Benchmark)),
        (MonthlyReturns, Serialize(result.MonthlyReturns)),
        (PerInstrument, Serialize(result.PerInstrument)),
        (DataQuality, Serialize(result.DataQuality)),
        (Notes, Serialize(result.Notes)),
        (Config, Serialize(result.Config)),
        (OpenPositions, Serialize(result.OpenPositions)),
        (Fills, Serialize(result.Fills)),
        (Trades, Serialize(result.Trades)),
        (Run, Serialize(new RunInfo(result.EngineVersion, result.ContentHash, result.Partial, result.FxRateSource))),
    ];

    public static BacktestResult Assemble(IReadOnlyDictionary<string, string> documents, List<Trade> trades, List<EquityPoint> equity,
        List<DailyEquity> dailyEquity, List<DailyReturn> dailyReturns, List<OrderRecord> orders)
    {
        T Part<T>(string type) => documents.TryGetValue(type, out var json)
            ? Deserialize<T>(json)
            : throw new InvalidDataException($"Stored results lack their '{type}' part");

        var run = Part<RunInfo>(Run);
        return new BacktestResult
        {
            EngineVersion = run.EngineVersion,
            ContentHash = run.ContentHash,
            Partial = run.Partial,
            Config = Part<BacktestConfig>(Config),
            Summary = Part<ResultSummary>(Summary),
            Metrics = Part<PerformanceMetrics>(Metrics),
            Trades = documents.TryGetValue(Trades, out var exact) ? Deserialize<List<Trade>>(exact) : trades,
            EquityCurve = equity,
            DailyEquity = dailyEquity,
            DailyReturns = dailyReturns,
            Benchmark = Part<BenchmarkResult>(Benchmark),
            MonthlyReturns = Part<List<MonthlyReturn>>(MonthlyReturns),
            Orders = orders,
            Fills = Part<List<FillRecord>>(Fills),
            PerInstrument = Part<List<InstrumentBreakdown>>(PerInstrument),
            OpenPositions = Part<List<OpenPosition>>(OpenPositions),
            DataQuality = Part<List<DataQualityCounts>>(DataQuality),
            FxRateSource = run.FxRateSource,
            Notes = Part<List<string>>(Notes),
        };
    }

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, JsonDefaults.Options) ?? throw new InvalidDataException($"Stored {typeof(T).Name} is null");

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, JsonDefaults.Options);
}
