using Backtesting.Engine.Strategies;

namespace Backtesting.Api.Backtests.Contracts;

/// <summary>The one bound every paged route keeps (the backtest list, a result's trades, optimizations and their trials).</summary>
public static class Paging
{
    /// <summary>The largest page a client may ask for.</summary>
    public const int MaxPageSize = Storage.BacktestPage.MaxPageSize;

    /// <summary>The rules of a <c>page</c> and <c>pageSize</c> query pair, each broken one added to <paramref name="errors"/>.</summary>
    public static void Check(int? page, int? pageSize, List<ValidationError> errors)
    {
        if (page is < 1)
        {
            errors.Add(new("page", "min", "page must be at least 1"));
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors.Add(new("pageSize", "range", $"pageSize must be between 1 and {MaxPageSize}"));
        }
    }
}
