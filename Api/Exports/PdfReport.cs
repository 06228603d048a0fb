using System.Globalization;
using Backtesting.Api.Backtests;
using Backtesting.Engine.Results;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Backtesting.Api.Exports;

/// <summary>
/// A two-page PDF report drawn with PdfPig's writer: key metrics, equity (with the benchmark) and drawdown charts,
/// a monthly returns heatmap and a trade summary. It uses the PDF standard Helvetica font, so no font files are needed.
/// </summary>
public static class PdfReport
{
    private const double Margin = 40;
    /// <summary>Line height over font size for wrapped text.</summary>
    private const double LineGap = 1.45;
    /// <summary>From a chart's heading to its frame: the heading (11 pt, with descenders) and the top axis label, which
    /// stands 3.5 pt above the frame, each keep their own space.</summary>
    private const double ChartHeadingGap = 24;
    private const double AxisLabelSize = 7;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static byte[] Render(Guid id, BacktestResult result)
    {
        using var builder = new PdfDocumentBuilder();
        builder.DocumentInformation.Title = $"Backtest {id}";
        builder.DocumentInformation.Subject = $"{result.Summary.Strategy} on {string.Join(", ", result.Summary.Instruments)}";
        var regular = builder.AddStandard14Font(Standard14Font.Helvetica);
        var bold = builder.AddStandard14Font(Standard14Font.HelveticaBold);
        var s = result.Summary;
        var m = result.Metrics;

        // ---- Page 1: headline, key metrics, equity and drawdown ----
        var page = new PdfCanvas(builder.AddPage(PageSize.A4), regular, bold);
        var width = page.Width - 2 * Margin;
        var y = Margin;
        page.Text(Margin, y, 16, "Backtest report", bold: true);
        y += 24;
        // However many instruments a run has, the line wraps within the margins.
        y += page.Wrapped(Margin, y, 9, width, $"{s.Strategy} on {string.Join(", ", s.Instruments)}, {s.StartDate} to {s.EndDate} ({s.BaseCurrency})" +
                                              (result.Partial ? " - partial results" : ""), LineGap);
        page.Text(Margin, y, 7, $"Backtest {id} - engine {result.EngineVersion}", color: (110, 110, 110));
        y += 20;

        page.Text(Margin, y, 11, "Key metrics", bold: true);
        y += 16;
        y = page.Table(Margin, y, width,
        [
            ("Total return", PdfCanvas.Percent(m.TotalReturn)), ("Annualized return", PdfCanvas.Percent(m.AnnualizedReturn)),
            ("Sharpe ratio", PdfCanvas.Number(m.SharpeRatio)), ("Sortino ratio", PdfCanvas.Number(m.SortinoRatio)),
            ("Max drawdown", PdfCanvas.Percent(m.MaxDrawdown)), ("Calmar ratio", PdfCanvas.Number(m.CalmarRatio)),
            ("Volatility", PdfCanvas.Percent(m.Volatility)), ("Win rate", PdfCanvas.Percent(m.WinRate)),
            ("Profit factor", PdfCanvas.Number(m.ProfitFactor)), ("Total trades", m.TotalTrades.ToString(Invariant)),
            ("Initial balance", PdfCanvas.Money(s.InitialBalance)), ("Final balance", PdfCanvas.Money(s.FinalBalance)),
            ("VaR 95% (historical)", PdfCanvas.Percent(m.Var95Historical)), ("CVaR 95%", PdfCanvas.Percent(m.Cvar95)),
            ("Beta", PdfCanvas.Number(m.Beta)), ($"Benchmark ({result.Benchmark.Instrument})", PdfCanvas.Percent(result.Benchmark.TotalReturn)),
        ]) + 14;

        page.Text(Margin, y, 11, "Equity", bold: true);
        y += ChartHeadingGap;
        var equity = Downsample.Largest(result.EquityCurve, 500, p => p.Equity);
        var benchmark = Downsample.Largest(result.Benchmark.EquityCurve, 500, p => p.Equity);
        LineChart(page, new PdfArea(Margin + 50, y, width - 50, 210),
        [
            (equity.Select(p => (p.Time.Ticks, p.Equity)).ToList(), ((byte)70, (byte)130, (byte)180), "strategy"),
            (benchmark.Select(p => (p.Date.ToDateTime(TimeOnly.MinValue).Ticks, p.Equity)).ToList(), ((byte)230, (byte)130, (byte)20), "benchmark"),
        ], v => v.ToString("N0", Invariant));
        y += 210 + 22;

        page.Text(Margin, y, 11, "Drawdown", bold: true);
        y += ChartHeadingGap;
        var drawdown = Downsample.Largest(result.EquityCurve, 500, p => -Math.Abs(p.Drawdown));
        DrawdownChart(page, new PdfArea(Margin + 50, y, width - 50, 140), drawdown.Select(p => (p.Time.Ticks, -Math.Abs(p.Drawdown))).ToList());

        // ---- Page 2: monthly returns heatmap and trade summary ----
        page = new PdfCanvas(builder.AddPage(PageSize.A4), regular, bold);
        y = Margin;
        page.Text(Margin, y, 11, "Monthly returns", bold: true);
        y += 16;
        y = Heatmap(page, y, width, result.MonthlyReturns) + 22;

        page.Text(Margin, y, 11, "Trade summary", bold: true);
        y += 16;
        var trades = result.Trades;
        var winners = trades.Count(t => t.Pnl > 0);
        var losers = trades.Count(t => t.Pnl < 0);
        y = page.Table(Margin, y, width,
        [
            ("Closed trades", trades.Count.ToString(Invariant)), ("Winners / losers", $"{winners} / {losers}"),
            ("Win rate", PdfCanvas.Percent(m.WinRate)), ("Expectancy", PdfCanvas.Money(m.Expectancy)),
            ("Average win", PdfCanvas.Money(m.AverageWin)), ("Average loss", PdfCanvas.Money(m.AverageLoss)),
            ("Best trade", trades.Count > 0 ? PdfCanvas.Money(trades.Max(t => t.Pnl)) : "n/a"), ("Worst trade", trades.Count > 0 ? PdfCanvas.Money(trades.Min(t => t.Pnl)) : "n/a"),
            ("Total commission", PdfCanvas.Money(m.TotalCommission)), ("Open positions at the end", s.OpenPositions.ToString(Invariant)),
        ]) + 14;

        if (result.PerInstrument.Count > 0)
        {
            page.Text(Margin, y, 11, "By instrument", bold: true);
            y += 16;
            string[] headers = ["Instrument", "Trades", "Net PnL", "Win rate", "Commission"];
            var cell = width / headers.Length;
            for (var c = 0; c < headers.Length; c++)
            {
                page.Text(Margin + c * cell, y, 9, headers[c], color: (110, 110, 110));
            }

            y += 13;
            foreach (var row in result.PerInstrument.Take(30))
            {
                string[] values = [row.Instrument, row.Trades.ToString(Invariant), PdfCanvas.Money(row.NetPnl), PdfCanvas.Percent(row.WinRate), PdfCanvas.Money(row.Commission)];
                for (var c = 0; c < values.Length; c++)
                {
                    page.Text(Margin + c * cell, y, 9, values[c]);
                }

                y += 12;
            }
        }

        return builder.Build();
    }

    private static void LineChart(PdfCanvas page, PdfArea area, IReadOnlyList<(List<(long X, double Y)> Points, (byte R, byte G, byte B) Color, string Label)> series,
        Func<double, string> format)
    {
        page.Frame(area);
        var all = series.SelectMany(s => s.Points).ToList();
        if (all.Count < 2)
        {
            return;
        }

        var (minX, maxX) = (all.Min(p => p.X), all.Max(p => p.X));
        var (minY, maxY) = (all.Min(p => p.Y), all.Max(p => p.Y));
        if (maxY - minY < 1e-9)
        {
            maxY = minY + 1;
        }

        Axes(page, area, minY, maxY, minX, maxX, format);
        var legendX = area.Left + 6;
        foreach (var (points, color, label) in series)
        {
            page.Stroke(color);
            for (var i = 1; i < points.Count; i++)
            {
                page.Line(area.Map(points[i - 1].X, points[i - 1].Y, minX, maxX, minY, maxY), area.Map(points[i].X, points[i].Y, minX, maxX, minY, maxY), 0.8);
            }

            page.Line((legendX, area.Top + 8), (legendX + 14, area.Top + 8), 1.2);
            page.Stroke((0, 0, 0));
            page.Text(legendX + 17, area.Top + 5, 7, label);
            legendX += 70;
        }
    }

    /// <summary>Drawdown as a filled area under zero (a strip of triangles).</summary>
    private static void DrawdownChart(PdfCanvas page, PdfArea area, List<(long X, double Y)> points)
    {
        page.Frame(area);
        if (points.Count < 2)
        {
            return;
        }

        var (minX, maxX) = (points.Min(p => p.X), points.Max(p => p.X));
        var minY = Math.Min(points.Min(p => p.Y), -1e-6);
        Axes(page, area, minY, 0, minX, maxX, v => v.ToString("P0", Invariant));
        page.Fill((200, 60, 60));
        page.Stroke((200, 60, 60));
        for (var i = 1; i < points.Count; i++)
        {
            var a = area.Map(points[i - 1].X, points[i - 1].Y, minX, maxX, minY, 0);
            var b = area.Map(points[i].X, points[i].Y, minX, maxX, minY, 0);
            var a0 = area.Map(points[i - 1].X, 0, minX, maxX, minY, 0);
            var b0 = area.Map(points[i].X, 0, minX, maxX, minY, 0);
            page.Triangle(a0, a, b);
            page.Triangle(a0, b, b0);
        }

        page.Fill((0, 0, 0));
        page.Stroke((0, 0, 0));
    }

    private static void Axes(PdfCanvas page, PdfArea area, double minY, double maxY, long minX, long maxX, Func<double, string> format)
    {
        for (var i = 0; i <= 4; i++)
        {
            var value = minY + (maxY - minY) * i / 4;
            var y = area.Bottom - area.Height * i / 4;
            page.Stroke((225, 225, 225));
            page.Line((area.Left, y), (area.Right, y), 0.3);
            page.TextRight(area.Left - 4, y - AxisLabelSize / 2, AxisLabelSize, format(value), color: (110, 110, 110));
        }

        page.Stroke((0, 0, 0));
        page.Text(area.Left, area.Bottom + 3, 7, new DateTime(minX, DateTimeKind.Utc).ToString("yyyy-MM-dd", Invariant), color: (110, 110, 110));
        page.TextRight(area.Right, area.Bottom + 3, 7, new DateTime(maxX, DateTimeKind.Utc).ToString("yyyy-MM-dd", Invariant), color: (110, 110, 110));
    }

    /// <summary>Years down, months across; green for gains, red for losses, deeper for larger moves.</summary>
    private static double Heatmap(PdfCanvas page, double top, double width, IReadOnlyList<Engine.Metrics.MonthlyReturn> monthly)
    {
        var cellWidth = (width - 40) / 12;
        const double CellHeight = 15;
        for (var month = 0; month < 12; month++)
        {
            page.Text(Margin + 40 + month * cellWidth + 4, top, 7, ExcelExport.MonthNames[month], color: (110, 110, 110));
        }

        var y = top + 11;
        var scale = Math.Max(0.05, monthly.Where(m => m.Return is not null).Select(m => Math.Abs(m.Return!.Value)).DefaultIfEmpty(0).Max());
        foreach (var year in monthly.Select(m => m.Year).Distinct().Order())
        {
            page.Text(Margin, y + 4, 9, year.ToString(Invariant));
            foreach (var entry in monthly.Where(m => m.Year == year))
            {
                var x = Margin + 40 + (entry.Month - 1) * cellWidth;
                if (entry.Return is not { } r)
                {
                    page.Fill((245, 245, 245));
                    page.Rectangle(x, y, cellWidth - 1, CellHeight - 1);
                    continue;
                }

                // Lighter for small moves: blend the colour with white by the move's size relative to the largest.
                var strength = 0.2 + 0.8 * Math.Min(1, Math.Abs(r) / scale);
                (byte, byte, byte) color = r >= 0
                    ? (Blend(34, strength), Blend(139, strength), Blend(34, strength))
                    : (Blend(200, strength), Blend(30, strength), Blend(30, strength));
                page.Fill(color);
                page.Rectangle(x, y, cellWidth - 1, CellHeight - 1);
                page.Fill((0, 0, 0));
                page.Text(x + 3, y + 4, 6.5, r.ToString("P1", Invariant));
            }

            y += CellHeight;
        }

        page.Fill((0, 0, 0));
        return y;
    }

    private static byte Blend(byte channel, double strength) => (byte)Math.Round(255 - (255 - channel) * strength);

}
