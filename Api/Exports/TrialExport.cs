using System.Text.Json;
using Backtesting.Api.Robustness.Contracts;
using Backtesting.Engine.Optimization;
using Backtesting.Storage;
using MiniExcelLibs;

namespace Backtesting.Api.Exports;

/// <summary>
/// An optimization's trials as a table, one row per trial in trial order: its number, feasibility and reason, objective,
/// trade count and content hash, then one column per parameter (the search space's order) and one per metric
/// (<see cref="MetricValues.Names"/>'s order). As CSV (invariant culture) or as one xlsx sheet.
/// </summary>
public static class TrialExport
{
    private static readonly string[] Leading = ["trial", "feasible", "infeasibleReason", "objective", "tradeCount", "contentHash"];

    public static byte[] Csv(IReadOnlyList<string> parameters, IEnumerable<TrialRow> trials) => CsvExport.Write(csv =>
    {
        foreach (var header in Headers(parameters))
        {
            csv.WriteField(header);
        }

        csv.NextRecord();
        foreach (var trial in trials)
        {
            foreach (var value in Values(parameters, trial))
            {
                csv.WriteField(value switch
                {
                    null => "",
                    bool b => b ? "true" : "false",
                    double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                });
            }

            csv.NextRecord();
        }
    });

    /// <summary>
    /// The trials as the sheet Trials; with the job's robustness, also the sheet Robustness (statistic, value, about: the
    /// rows of <see cref="OptimizationReport.StatisticRows"/>, then the notes) and the sheet Logits (the λ histogram).
    /// </summary>
    public static byte[] Workbook(IReadOnlyList<string> parameters, IEnumerable<TrialRow> trials, RobustnessResponse? robustness = null)
    {
        var headers = Headers(parameters).ToArray();
        var rows = trials.Select(trial =>
        {
            var values = Values(parameters, trial).ToArray();
            return ExcelExport.Row(headers.Select((h, i) => (h, values[i])).ToArray());
        });
        var sheets = new Dictionary<string, object> { ["Trials"] = rows };
        if (robustness is not null)
        {
            sheets["Robustness"] = OptimizationReport.StatisticRows(robustness)
                .Select(r => ExcelExport.Row(("statistic", r.Statistic), ("value", r.Value), ("about", r.About)))
                .Concat(robustness.Notes.Select(n => ExcelExport.Row(("statistic", "note"), ("value", (object?)null), ("about", n))))
                .ToList();
            sheets["Logits"] = (robustness.Overfitting?.LogitHistogram ?? [])
                .Select(b => ExcelExport.Row(("low", b.Low), ("high", b.High), ("splits", b.Count), ("overfit", b.High <= 0)))
                .ToList();
        }

        using var buffer = new MemoryStream();
        MiniExcel.SaveAs(buffer, sheets, excelType: ExcelType.XLSX);
        return buffer.ToArray();
    }

    private static IEnumerable<string> Headers(IReadOnlyList<string> parameters) => Leading.Concat(parameters).Concat(MetricValues.Names);

    private static IEnumerable<object?> Values(IReadOnlyList<string> parameters, TrialRow trial)
    {
        yield return trial.TrialNumber;
        yield return trial.Feasible;
        yield return trial.InfeasibleReason;
        yield return trial.Objective;
        yield return trial.TotalTrades;
        yield return trial.ContentHash;
        using (var parameterDocument = JsonDocument.Parse(trial.ParametersJson))
        {
            foreach (var name in parameters)
            {
                yield return parameterDocument.RootElement.TryGetProperty(name, out var value) ? Cell(value) : null;
            }
        }

        using var metricsDocument = trial.MetricsJson is { } metrics ? JsonDocument.Parse(metrics) : null;
        foreach (var name in MetricValues.Names)
        {
            yield return metricsDocument is not null && metricsDocument.RootElement.ValueKind == JsonValueKind.Object
                && metricsDocument.RootElement.TryGetProperty(name, out var value) ? Cell(value) : null;
        }
    }

    /// <summary>A JSON value as a cell: numbers as numbers, words as text, true/false as booleans, null as empty.</summary>
    private static object? Cell(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => value.GetRawText(),
    };
}
