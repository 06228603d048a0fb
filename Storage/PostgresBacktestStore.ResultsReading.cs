using System.Data;
using Backtesting.Engine.Results;
using Npgsql;

namespace Backtesting.Storage;

/// <summary>Reading a run's results back, all parts from one snapshot.</summary>
public sealed partial class PostgresBacktestStore
{
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
}
