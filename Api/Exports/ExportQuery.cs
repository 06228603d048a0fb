using Backtesting.Engine.Strategies;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Exports;

/// <summary>
/// The query of <c>GET /export/{id}</c> (bound with <c>[AsParameters]</c>): the format, and for CSV the part; validated
/// here once.
/// </summary>
public sealed record ExportQuery(
    [FromQuery(Name = "format")] string? Format,
    [FromQuery(Name = "part")] string? Part)
{
    /// <summary>csv, xlsx, pdf or json (the default).</summary>
    public string Kind => (Format ?? "json").ToLowerInvariant();

    /// <summary>For CSV: trades (the default) or equity.</summary>
    public string CsvPart => (Part ?? "trades").ToLowerInvariant();

    /// <summary>The first rule the query breaks, or null.</summary>
    public ValidationError? Error()
    {
        if (Kind is not ("csv" or "xlsx" or "pdf" or "json"))
        {
            return new ValidationError("format", "allowed", $"'{Format}' is not allowed: use one of csv, xlsx, pdf, json");
        }

        return Kind == "csv" && CsvPart is not ("trades" or "equity")
            ? new ValidationError("part", "allowed", $"'{Part}' is not allowed: use trades or equity")
            : null;
    }
}
