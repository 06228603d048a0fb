using System.Text.Json;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Engine.Configuration;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backtesting.Api.Exports;

/// <summary><c>GET /export/{id}</c>, mapped into the backtest routes' group (<see cref="BacktestRoutes"/>), and its handler.</summary>
public static class ExportRoutes
{
    public const string XlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    public static void MapExportRoute(this RouteGroupBuilder group)
    {
        group.MapGet("/export/{id:guid}", Export)
            .WithSummary("Export a backtest's results")
            .WithDescription("format=csv (part=trades | equity), xlsx (summary, metrics, trades, equity and monthly returns sheets), " +
                             "pdf (key metrics, equity and drawdown charts, monthly returns heatmap, trade summary) or json (the whole results document).")
            .Produces(200, contentType: "text/csv")
            .Produces(200, contentType: XlsxContentType)
            .Produces(200, contentType: "application/pdf")
            .Produces(200, contentType: "application/json")
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404, 409);
    }

    public static async Task<Results<FileContentHttpResult, InvalidProblem, NotFoundProblem, ConflictProblem>> Export(Guid id,
        [AsParameters] ExportQuery query, HttpContext context, BacktestAccess access, ResultsCache results)
    {
        if (query.Error() is { } error)
        {
            return Problems.Invalid([error]);
        }

        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return Problems.NotFound(id);
        }

        var result = await results.GetAsync(id, context.RequestAborted);
        if (result is null)
        {
            return Problems.NoResultsYet(id, record.Status);
        }

        var name = $"backtest-{id:N}";
        return query.Kind switch
        {
            "csv" => TypedResults.File(query.CsvPart == "equity" ? CsvExport.Equity(result) : CsvExport.Trades(result), "text/csv",
                $"{name}-{query.CsvPart}.csv"),
            "xlsx" => TypedResults.File(ExcelExport.Workbook(result), XlsxContentType, $"{name}.xlsx"),
            "pdf" => TypedResults.File(PdfReport.Render(id, result), "application/pdf", $"{name}.pdf"),
            _ => TypedResults.File(JsonSerializer.SerializeToUtf8Bytes(result, JsonDefaults.Indented), "application/json", $"{name}.json"),
        };
    }
}
