using Backtesting.Api.Backtests.Contracts;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Optimizations.Contracts;

/// <summary>The query of <c>GET /optimizations</c>: a status filter and the page, validated here once.</summary>
public sealed record OptimizationListQuery(
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "page")] int? Page,
    [FromQuery(Name = "pageSize")] int? PageSize)
{
    public const int DefaultPageSize = 20;

    private static readonly string[] StatusWords = Enum.GetValues<OptimizationState>().Select(OptimizationLifecycle.Word).ToArray();

    public int PageNumber => Page ?? 1;

    public int Size => PageSize ?? DefaultPageSize;

    public IReadOnlyList<ValidationError> Errors()
    {
        var errors = new List<ValidationError>();
        if (Status is not null && OptimizationLifecycle.FromWord(Status) is null)
        {
            errors.Add(new("status", "allowed", $"'{Status}' is not allowed: use one of {string.Join(", ", StatusWords)}"));
        }

        Paging.Check(Page, PageSize, errors);
        return errors;
    }
}

/// <summary>
/// The query of <c>GET /optimizations/{id}/trials</c>: <c>sort</c> is <c>[-]&lt;metric&gt;</c>, <c>[-]objective</c> or
/// <c>[-]trial</c> (a leading minus: descending); without it the best objective comes first. <c>feasible</c> filters.
/// </summary>
public sealed record TrialsQuery(
    [FromQuery(Name = "sort")] string? Sort,
    [FromQuery(Name = "feasible")] bool? Feasible,
    [FromQuery(Name = "page")] int? Page,
    [FromQuery(Name = "pageSize")] int? PageSize)
{
    public const int DefaultPageSize = 50;

    public int PageNumber => Page ?? 1;

    public int Size => PageSize ?? DefaultPageSize;

    public IReadOnlyList<ValidationError> Errors()
    {
        var errors = new List<ValidationError>();
        if (Sort is not null && Key(Sort) is not ("objective" or "trial") && !MetricValues.IsMetric(Key(Sort)))
        {
            errors.Add(new("sort", "allowed",
                $"'{Sort}' is not allowed: use [-]objective, [-]trial or [-]<metric> with a metric of {string.Join(", ", MetricValues.Names)}"));
        }

        Paging.Check(Page, PageSize, errors);
        return errors;
    }

    /// <summary>The store's query; valid once <see cref="Errors"/> is empty. <paramref name="maximize"/> is the job's direction (the default order is best first).</summary>
    public TrialQuery ToStoreQuery(bool maximize)
    {
        var key = Sort is null ? "objective" : Key(Sort);
        var descending = Sort is null ? maximize : Sort.StartsWith('-');
        return new TrialQuery(key is "objective" or "trial" ? null : key, descending, Feasible, PageNumber, Size, ByTrialNumber: key == "trial");
    }

    private static string Key(string sort) => sort.StartsWith('-') ? sort[1..] : sort;
}

/// <summary>The query of <c>GET /optimizations/{id}/surface</c>: two parameters of the job's space and a metric (the objective's when omitted).</summary>
public sealed record SurfaceQuery(
    [FromQuery(Name = "x")] string? X,
    [FromQuery(Name = "y")] string? Y,
    [FromQuery(Name = "metric")] string? Metric)
{
    /// <summary>Every rule the query breaks against the job's space (parameter names in the space's order).</summary>
    public IReadOnlyList<ValidationError> Errors(IReadOnlyList<string> parameters)
    {
        var errors = new List<ValidationError>();
        foreach (var (field, value) in new[] { ("x", X), ("y", Y) })
        {
            if (string.IsNullOrEmpty(value))
            {
                errors.Add(new(field, "required", $"{field} is required: a parameter of the job ({string.Join(", ", parameters)})"));
            }
            else if (!parameters.Contains(value))
            {
                errors.Add(new(field, "unknown", $"'{value}' is not a parameter of the job (parameters: {string.Join(", ", parameters)})"));
            }
        }

        if (!string.IsNullOrEmpty(X) && X == Y)
        {
            errors.Add(new("y", "distinct", "x and y must be two different parameters"));
        }

        if (Metric is not null && !MetricValues.IsMetric(Metric))
        {
            errors.Add(new("metric", "unknown", $"unknown metric '{Metric}' (metrics: {string.Join(", ", MetricValues.Names)})"));
        }

        return errors;
    }
}

/// <summary>The query of <c>GET /optimizations/{id}/trials/export</c>: csv (the default) or xlsx.</summary>
public sealed record TrialExportQuery([FromQuery(Name = "format")] string? Format)
{
    public string Kind => (Format ?? "csv").ToLowerInvariant();

    public ValidationError? Error() =>
        Kind is "csv" or "xlsx" or "pdf" ? null : new ValidationError("format", "allowed", $"'{Format}' is not allowed: use one of csv, xlsx, pdf");
}
