using System.Globalization;
using System.Text.Json;
using Backtesting.Api.Robustness.Contracts;
using Backtesting.Storage;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Backtesting.Api.Exports;

/// <summary>
/// An optimization job as a one-page PDF: what was searched, the best trial, whether it is real (the deflated Sharpe
/// ratio, PBO with the histogram of its logits, the minimum backtest length and the plateau around the best, each as
/// <see cref="RobustnessResponse"/> holds it, with the notes of what could not be computed) and the leading trials.
/// The same statistics are the Robustness sheet of the job's workbook (<see cref="TrialExport"/>).
/// </summary>
public static class OptimizationReport
{
    /// <summary>The leading trials listed, best objective first.</summary>
    public const int LeadingTrials = 15;

    private const double Margin = 40;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static byte[] Render(OptimizationRecord job, RobustnessResponse robustness, IReadOnlyList<TrialRow> leading)
    {
        using var builder = new PdfDocumentBuilder();
        builder.DocumentInformation.Title = $"Optimization {job.Id}";
        var regular = builder.AddStandard14Font(Standard14Font.Helvetica);
        var bold = builder.AddStandard14Font(Standard14Font.HelveticaBold);
        var page = new PdfCanvas(builder.AddPage(PageSize.A4), regular, bold);
        var width = page.Width - 2 * Margin;
        var y = Margin;
        page.Text(Margin, y, 16, "Optimization report", bold: true);
        y += 24;
        y += page.Wrapped(Margin, y, 9, width, $"{(string.IsNullOrWhiteSpace(job.Name) ? "(unnamed)" : job.Name)}: {job.Status}, " +
            $"objective {robustness.Direction} {robustness.Objective}, {robustness.TrialsRun} trials run of {job.TrialsPlanned} planned, " +
            $"{robustness.FeasibleTrials} feasible", 1.45);
        page.Text(Margin, y, 7, $"Optimization {job.Id}", color: (110, 110, 110));
        y += 20;

        page.Text(Margin, y, 11, "Is the best trial real?", bold: true);
        y += 16;
        var rows = StatisticRows(robustness).Select(r => (r.Statistic, r.Value)).ToArray();
        y = page.Table(Margin, y, width, rows) + 10;
        if (robustness.Overfitting is { } overfitting)
        {
            page.Text(Margin, y, 9, "Logits of the in-sample best's out-of-sample rank over the CSCV splits (left of 0: overfit)", color: (90, 90, 90));
            y += 14;
            y = Histogram(page, new PdfArea(Margin + 30, y, width - 30, 90), overfitting) + 16;
        }

        foreach (var note in robustness.Notes)
        {
            y += page.Wrapped(Margin, y, 8, width, $"Note: {note}", 1.45);
        }

        y += 10;
        page.Text(Margin, y, 11, $"Leading trials (best {robustness.Objective} first)", bold: true);
        y += 16;
        string[] headers = ["Trial", "Objective", "Trades", "Parameters"];
        double[] columns = [0, 50, 130, 180];
        for (var c = 0; c < headers.Length; c++)
        {
            page.Text(Margin + columns[c], y, 8, headers[c], bold: true);
        }

        y += 12;
        foreach (var trial in leading.Take(LeadingTrials))
        {
            page.Text(Margin + columns[0], y, 8, trial.TrialNumber.ToString(Invariant));
            page.Text(Margin + columns[1], y, 8, trial.Objective is { } o ? o.ToString("G6", Invariant) : "n/a");
            page.Text(Margin + columns[2], y, 8, trial.TotalTrades?.ToString(Invariant) ?? "n/a");
            y += page.Wrapped(Margin + columns[3], y, 8, width - columns[3], Parameters(trial.ParametersJson), 1.3);
        }

        return builder.Build();
    }

    /// <summary>
    /// The robustness figures as (statistic, value, explanation) rows, for the PDF's table and the workbook's sheet alike;
    /// a part that could not be computed is absent (the notes say why).
    /// </summary>
    public static IReadOnlyList<(string Statistic, string Value, string About)> StatisticRows(RobustnessResponse r)
    {
        var rows = new List<(string, string, string)>
        {
            ("Best trial", r.BestTrial?.ToString(Invariant) ?? "none", "the feasible trial with the best objective (ties: the lowest number)"),
            ("Best objective", r.BestObjective is { } b ? b.ToString("G6", Invariant) : "n/a", r.Objective),
        };
        if (r.DeflatedSharpe is { } d)
        {
            rows.Add(("Deflated Sharpe ratio", PdfCanvas.Percent(d.Value), $"of N = {d.Trials} trials; per-period SR {d.Sharpe.ToString("G4", Invariant)}, " +
                $"skewness {d.Skewness.ToString("G4", Invariant)}, raw kurtosis {d.Kurtosis.ToString("G4", Invariant)}, V[SR] " +
                $"{d.SharpeVariance.ToString("G4", Invariant)}, SR0 {d.ExpectedMaximumSharpe.ToString("G4", Invariant)}, T = {d.Observations}"));
        }

        if (r.Overfitting is { } o)
        {
            rows.Add(("Probability of overfitting (PBO)", PdfCanvas.Percent(o.Probability),
                $"CSCV, {o.Blocks} blocks, {o.Splits} splits, {o.TrialsUsed} of {o.TrialsGiven} trials, T = {o.Observations}"));
            rows.Add(("Out-of-sample loss", PdfCanvas.Percent(o.ProbabilityOfLoss), "share of splits whose in-sample best lost out of sample"));
            rows.Add(("Degradation slope", o.DegradationSlope is { } s ? s.ToString("G4", Invariant) : "n/a",
                "least-squares slope of out-of-sample on in-sample Sharpe over the splits"));
        }

        if (r.MinimumBacktestLength is { } m)
        {
            rows.Add(("Minimum backtest length", $"{m.Years.ToString("F1", Invariant)} y",
                $"for annualized Sharpe {m.AnnualizedSharpe.ToString("G4", Invariant)} over {m.Trials} trials; tested " +
                (m.BacktestYears is { } t ? $"{t.ToString("F1", Invariant)} y" : "n/a")));
        }

        if (r.Stability is { } st)
        {
            rows.Add(("Plateau of the best (mean / worst)", $"{st.BestPlateau.Mean.ToString("G4", Invariant)} / {st.BestPlateau.Worst.ToString("G4", Invariant)}",
                "the objective over the best trial and its one-step neighbours"));
            if (st.MostStable is { } stable)
            {
                rows.Add(("Most stable trial", stable.TrialNumber.ToString(Invariant), $"worst of its neighbourhood {stable.Worst.ToString("G4", Invariant)}"));
            }
        }

        return rows;
    }

    private static double Histogram(PdfCanvas page, PdfArea area, OverfittingResponse overfitting)
    {
        page.Frame(area);
        var bins = overfitting.LogitHistogram;
        var highest = Math.Max(1, bins.Max(b => b.Count));
        var barWidth = area.Width / bins.Count;
        for (var i = 0; i < bins.Count; i++)
        {
            var height = area.Height * bins[i].Count / highest;
            page.Fill(bins[i].High <= 0 ? ((byte)207, (byte)19, (byte)34) : ((byte)22, (byte)119, (byte)255));
            if (height > 0)
            {
                page.Rectangle(area.Left + i * barWidth + 0.5, area.Bottom - height, barWidth - 1, height);
            }
        }

        page.Fill((0, 0, 0));
        page.Text(area.Left, area.Bottom + 3, 7, bins[0].Low.ToString("F2", Invariant));
        page.TextRight(area.Right, area.Bottom + 3, 7, bins[^1].High.ToString("F2", Invariant));
        page.Text(area.Left + area.Width / 2 - 2, area.Bottom + 3, 7, "0");
        page.TextRight(area.Left - 4, area.Top, 7, highest.ToString(Invariant));
        return area.Bottom + 10;
    }

    private static string Parameters(string json)
    {
        using var document = JsonDocument.Parse(json);
        return string.Join(", ", document.RootElement.EnumerateObject().Select(p => $"{p.Name} {p.Value.GetRawText().Trim('"')}"));
    }
}
