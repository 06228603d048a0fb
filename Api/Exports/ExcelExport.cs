using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Results;
using MiniExcelLibs;

namespace Backtesting.Api.Exports;

/// <summary>
/// An Excel workbook of the results: Summary, Metrics, Trades, Equity and Monthly Returns sheets. Rows are
/// produced lazily, so a long equity curve is streamed into the workbook rather than copied first.
/// </summary>
public static class ExcelExport
{
    public static byte[] Workbook(BacktestResult result)
    {
        var sheets = new Dictionary<string, object>
        {
            ["Summary"] = SummaryRows(result),
            ["Metrics"] = MetricRows(result),
            ["Trades"] = result.Trades.Select(TradeRow),
            ["Equity"] = result.EquityCurve.Select(p => Row(("Time", p.Time), ("Equity", p.Equity), ("Cash", p.Cash), ("Drawdown", p.Drawdown))),
            ["Monthly Returns"] = MonthlyRows(result),
        };
        using var buffer = new MemoryStream();
        MiniExcel.SaveAs(buffer, sheets, excelType: ExcelType.XLSX);
        return buffer.ToArray();
    }

    internal static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static IEnumerable<Dictionary<string, object?>> SummaryRows(BacktestResult result)
    {
        var s = result.Summary;
        var rows = new (string, object?)[]
        {
            ("Strategy", s.Strategy), ("Instruments", string.Join(", ", s.Instruments)), ("Start date", s.StartDate), ("End date", s.EndDate),
            ("Base currency", s.BaseCurrency), ("Initial balance", s.InitialBalance), ("Final balance", s.FinalBalance),
            ("Total return", s.TotalReturn), ("Max drawdown", s.MaxDrawdown), ("Total trades", s.TotalTrades), ("Open positions", s.OpenPositions),
            ("Processed bars", s.ProcessedBars), ("Halted at", s.HaltedAt), ("Benchmark", result.Benchmark.Instrument),
            ("Benchmark return", result.Benchmark.TotalReturn), ("Partial", result.Partial), ("Engine version", result.EngineVersion),
            ("Content hash", result.ContentHash),
        };
        return rows.Select(r => Row(("Field", r.Item1), ("Value", r.Item2)));
    }

    /// <summary>Metrics by their wire names (camelCase), in the order the metrics record declares them.</summary>
    private static IEnumerable<Dictionary<string, object?>> MetricRows(BacktestResult result) =>
        JsonSerializer.SerializeToElement(result.Metrics, JsonDefaults.Options).EnumerateObject().Select(property => Row(
            ("Metric", property.Name),
            ("Value", property.Value.ValueKind switch
            {
                JsonValueKind.Number => property.Value.GetDouble(),
                JsonValueKind.Null => null,
                _ => property.Value.ToString(),
            })));

    private static Dictionary<string, object?> TradeRow(Trade t) => Row(
        ("Id", t.Id), ("Instrument", t.Instrument), ("Side", t.Side == TradeSide.Short ? "short" : "long"), ("Quantity", t.Quantity),
        ("Entry time", t.EntryTime), ("Entry price", t.EntryPrice), ("Exit time", t.ExitTime), ("Exit price", t.ExitPrice), ("PnL", t.Pnl),
        ("Return", t.ReturnPct), ("Commission", t.Commission), ("MAE", t.Mae), ("MFE", t.Mfe), ("Bars held", t.BarsHeld));

    /// <summary>One row per year, one column per month, and the year's compounded return.</summary>
    private static IEnumerable<Dictionary<string, object?>> MonthlyRows(BacktestResult result)
    {
        foreach (var year in result.MonthlyReturns.GroupBy(m => m.Year).OrderBy(g => g.Key))
        {
            var row = new Dictionary<string, object?> { ["Year"] = year.Key };
            var compounded = 1.0;
            for (var month = 1; month <= 12; month++)
            {
                var r = year.Where(m => m.Month == month).Select(m => m.Return).FirstOrDefault();
                row[MonthNames[month - 1]] = r;
                compounded *= 1 + (r ?? 0);
            }

            row["Year total"] = compounded - 1;
            yield return row;
        }
    }

    internal static Dictionary<string, object?> Row(params (string Column, object? Value)[] cells)
    {
        var row = new Dictionary<string, object?>(cells.Length);
        foreach (var (column, value) in cells)
        {
            row[column] = value;
        }

        return row;
    }
}
