using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Results;
using ClosedXML.Excel;

namespace Backtesting.Api.Exports;

/// <summary>An Excel workbook of the results: Summary, Metrics, Trades, Equity and Monthly Returns sheets.</summary>
public static class ExcelExport
{
    public static byte[] Workbook(BacktestResult result)
    {
        using var workbook = new XLWorkbook();
        var s = result.Summary;

        var summary = workbook.Worksheets.Add("Summary");
        var rows = new (string, object?)[]
        {
            ("Strategy", s.Strategy), ("Instruments", string.Join(", ", s.Instruments)), ("Start date", s.StartDate), ("End date", s.EndDate),
            ("Base currency", s.BaseCurrency), ("Initial balance", s.InitialBalance), ("Final balance", s.FinalBalance),
            ("Total return", s.TotalReturn), ("Max drawdown", s.MaxDrawdown), ("Total trades", s.TotalTrades), ("Open positions", s.OpenPositions),
            ("Processed bars", s.ProcessedBars), ("Halted at", s.HaltedAt), ("Benchmark", result.Benchmark.Instrument),
            ("Benchmark return", result.Benchmark.TotalReturn), ("Partial", result.Partial), ("Engine version", result.EngineVersion),
            ("Content hash", result.ContentHash),
        };
        Header(summary, "Field", "Value");
        for (var i = 0; i < rows.Length; i++)
        {
            summary.Cell(i + 2, 1).Value = rows[i].Item1;
            Set(summary.Cell(i + 2, 2), rows[i].Item2);
        }

        // Metrics by their wire names (camelCase), in the order the metrics record declares them.
        var metrics = workbook.Worksheets.Add("Metrics");
        Header(metrics, "Metric", "Value");
        var row = 2;
        foreach (var property in JsonSerializer.SerializeToElement(result.Metrics, JsonDefaults.Options).EnumerateObject())
        {
            metrics.Cell(row, 1).Value = property.Name;
            if (property.Value.ValueKind == JsonValueKind.Number)
            {
                metrics.Cell(row, 2).Value = property.Value.GetDouble();
            }
            else if (property.Value.ValueKind != JsonValueKind.Null)
            {
                metrics.Cell(row, 2).Value = property.Value.ToString();
            }

            row++;
        }

        var trades = workbook.Worksheets.Add("Trades");
        Header(trades, "Id", "Instrument", "Side", "Quantity", "Entry time", "Entry price", "Exit time", "Exit price", "PnL", "Return", "Commission", "MAE", "MFE", "Bars held");
        row = 2;
        foreach (var t in result.Trades)
        {
            trades.Cell(row, 1).Value = t.Id;
            trades.Cell(row, 2).Value = t.Instrument;
            trades.Cell(row, 3).Value = t.Side == TradeSide.Short ? "short" : "long";
            trades.Cell(row, 4).Value = t.Quantity;
            trades.Cell(row, 5).Value = t.EntryTime;
            trades.Cell(row, 6).Value = t.EntryPrice;
            trades.Cell(row, 7).Value = t.ExitTime;
            trades.Cell(row, 8).Value = t.ExitPrice;
            trades.Cell(row, 9).Value = t.Pnl;
            trades.Cell(row, 10).Value = t.ReturnPct;
            trades.Cell(row, 11).Value = t.Commission;
            trades.Cell(row, 12).Value = t.Mae;
            trades.Cell(row, 13).Value = t.Mfe;
            trades.Cell(row, 14).Value = t.BarsHeld;
            row++;
        }

        var equity = workbook.Worksheets.Add("Equity");
        Header(equity, "Time", "Equity", "Cash", "Drawdown");
        row = 2;
        foreach (var p in result.EquityCurve)
        {
            equity.Cell(row, 1).Value = p.Time;
            equity.Cell(row, 2).Value = p.Equity;
            equity.Cell(row, 3).Value = p.Cash;
            equity.Cell(row, 4).Value = p.Drawdown;
            row++;
        }

        // One row per year, one column per month, and the year's compounded return.
        var monthly = workbook.Worksheets.Add("Monthly Returns");
        Header(monthly, ["Year", .. MonthNames, "Year total"]);
        row = 2;
        foreach (var year in result.MonthlyReturns.GroupBy(m => m.Year).OrderBy(g => g.Key))
        {
            monthly.Cell(row, 1).Value = year.Key;
            var compounded = 1.0;
            foreach (var month in year)
            {
                if (month.Return is { } r)
                {
                    monthly.Cell(row, 1 + month.Month).Value = r;
                    compounded *= 1 + r;
                }
            }

            monthly.Cell(row, 14).Value = compounded - 1;
            row++;
        }

        using var buffer = new MemoryStream();
        workbook.SaveAs(buffer);
        return buffer.ToArray();
    }

    internal static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static void Header(IXLWorksheet sheet, params string[] titles)
    {
        for (var i = 0; i < titles.Length; i++)
        {
            sheet.Cell(1, i + 1).Value = titles[i];
            sheet.Cell(1, i + 1).Style.Font.Bold = true;
        }
    }

    private static void Set(IXLCell cell, object? value)
    {
        switch (value)
        {
            case null:
                break;
            case double d:
                cell.Value = d;
                break;
            case int n:
                cell.Value = n;
                break;
            case long l:
                cell.Value = l;
                break;
            case bool b:
                cell.Value = b;
                break;
            default:
                cell.Value = value.ToString();
                break;
        }
    }
}
