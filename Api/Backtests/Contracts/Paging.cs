namespace Backtesting.Api.Backtests.Contracts;

/// <summary>The one bound every paged route keeps (the backtest list and a result's trades).</summary>
public static class Paging
{
    /// <summary>The largest page a client may ask for.</summary>
    public const int MaxPageSize = Storage.BacktestPage.MaxPageSize;
}
