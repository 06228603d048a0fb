using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Engine.Configuration;
using Backtesting.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Backtests.Contracts;

/// <summary>
/// The query of <c>GET /list</c> (bound with <c>[AsParameters]</c>): pagination, filters and sort, validated here once.
/// </summary>
public sealed record ListQuery(
    [FromQuery(Name = "page")] int? Page,
    [FromQuery(Name = "pageSize")] int? PageSize,
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "strategy")] string? Strategy,
    [FromQuery(Name = "from")] DateTime? From,
    [FromQuery(Name = "to")] DateTime? To,
    [FromQuery(Name = "sort")] string? Sort)
{
    public const int DefaultPageSize = 50;

    private static readonly string[] StatusNames = Enum.GetValues<BacktestState>().Select(StatusWords.Of).ToArray();

    /// <summary>Every rule the query breaks, in the order page, pageSize, sort, status (none: it may be listed).</summary>
    public IReadOnlyList<ValidationError> Errors()
    {
        var errors = new List<ValidationError>();
        Paging.Check(Page, PageSize, errors);

        if (Sort is not null && !EnumWords.TryParse<BacktestSort>(Sort, out _))
        {
            errors.Add(new("sort", "allowed", EnumWords.NotAllowed<BacktestSort>(Sort)));
        }

        if (Status is not null && !StatusNames.Contains(Status))
        {
            errors.Add(new("status", "allowed", $"'{Status}' is not allowed: use one of {string.Join(", ", StatusNames)}"));
        }

        return errors;
    }

    /// <summary>The sort asked for (newest first when none); valid once <see cref="Errors"/> is empty.</summary>
    public BacktestSort Order => Sort is not null && EnumWords.TryParse<BacktestSort>(Sort, out var order) ? order : BacktestSort.CreatedNewest;
}
