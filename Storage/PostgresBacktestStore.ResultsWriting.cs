using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Results;
using Npgsql;
using NpgsqlTypes;
using static Backtesting.Storage.NpgsqlValues;

namespace Backtesting.Storage;

/// <summary>Writing a run's results: one batch that replaces whatever an earlier save stored.</summary>
public sealed partial class PostgresBacktestStore
{
    // Result parts replaced as a whole when results are saved (checkpoints and history stay).
    private static readonly string[] ResultTables =
        ["backtest_results", "backtest_trades", "backtest_equity_series", "backtest_daily_series", "backtest_orders"];

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

    /// <summary>A trade figure as the DECIMAL(20,8) columns keep it.</summary>
    private static decimal Decimal8(double value) => Math.Round((decimal)value, 8, MidpointRounding.AwayFromZero);
}
