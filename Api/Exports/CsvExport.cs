using System.Globalization;
using System.Text;
using Backtesting.Engine.Results;
using CsvHelper;

namespace Backtesting.Api.Exports;

/// <summary>Trades and the equity curve as CSV (invariant culture, ISO 8601 UTC times).</summary>
public static class CsvExport
{
    public static byte[] Trades(BacktestResult result) => Write(csv =>
    {
        foreach (var header in new[] { "id", "instrument", "side", "quantity", "entryTime", "entryPrice", "exitTime", "exitPrice", "pnl", "returnPct", "commission", "mae", "mfe", "barsHeld" })
        {
            csv.WriteField(header);
        }

        csv.NextRecord();
        foreach (var t in result.Trades)
        {
            csv.WriteField(t.Id);
            csv.WriteField(t.Instrument);
            csv.WriteField(t.Side == TradeSide.Short ? "short" : "long");
            csv.WriteField(t.Quantity);
            csv.WriteField(Time(t.EntryTime));
            csv.WriteField(t.EntryPrice);
            csv.WriteField(Time(t.ExitTime));
            csv.WriteField(t.ExitPrice);
            csv.WriteField(t.Pnl);
            csv.WriteField(t.ReturnPct);
            csv.WriteField(t.Commission);
            csv.WriteField(t.Mae);
            csv.WriteField(t.Mfe);
            csv.WriteField(t.BarsHeld);
            csv.NextRecord();
        }
    });

    public static byte[] Equity(BacktestResult result) => Write(csv =>
    {
        foreach (var header in new[] { "time", "equity", "cash", "drawdown" })
        {
            csv.WriteField(header);
        }

        csv.NextRecord();
        foreach (var p in result.EquityCurve)
        {
            csv.WriteField(Time(p.Time));
            csv.WriteField(p.Equity);
            csv.WriteField(p.Cash);
            csv.WriteField(p.Drawdown);
            csv.NextRecord();
        }
    });

    private static string Time(DateTime time) => DateTime.SpecifyKind(time, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    internal static byte[] Write(Action<CsvWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), leaveOpen: true))
        using (var csv = new CsvWriter(writer, CultureInfo.InvariantCulture))
        {
            write(csv);
        }

        return buffer.ToArray();
    }
}
