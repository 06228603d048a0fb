using Backtesting.Engine.Strategies;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Backtests.Contracts;

/// <summary>
/// The query of <c>GET /results/{id}</c> (bound with <c>[AsParameters]</c>): a page of trades and optionally downsampled
/// curves, validated here once.
/// </summary>
public sealed record ResultsQuery(
    [FromQuery(Name = "tradesPage")] int? TradesPage,
    [FromQuery(Name = "tradesPageSize")] int? TradesPageSize,
    [FromQuery(Name = "equityPoints")] int? EquityPoints)
{
    public const int DefaultTradesPageSize = 100;
    public const int MinEquityPoints = 2;
    public const int MaxEquityPoints = 1_000_000;

    public int Page => TradesPage ?? 1;

    public int PageSize => TradesPageSize ?? DefaultTradesPageSize;

    /// <summary>Every rule the query breaks (none: the results may be read).</summary>
    public IReadOnlyList<ValidationError> Errors()
    {
        var errors = new List<ValidationError>();
        if (Page < 1)
        {
            errors.Add(new("tradesPage", "min", "tradesPage must be at least 1"));
        }

        if (PageSize is < 1 or > Paging.MaxPageSize)
        {
            errors.Add(new("tradesPageSize", "range", $"tradesPageSize must be between 1 and {Paging.MaxPageSize}"));
        }

        if (EquityPoints is < MinEquityPoints or > MaxEquityPoints)
        {
            errors.Add(new("equityPoints", "range", $"equityPoints must be between {MinEquityPoints} and {MaxEquityPoints}"));
        }

        return errors;
    }
}
