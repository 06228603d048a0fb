using System.Text.Json;

namespace Backtesting.Engine.Metrics;

/// <summary>A <see cref="PerformanceMetrics"/> property, by its camelCase JSON name, and which value of it is better.</summary>
public sealed record MetricDefinition(string Name, MetricDirection Direction)
{
    internal Func<PerformanceMetrics, double?> Read { get; init; } = _ => null;
}

/// <summary>The one table of which direction is better for each metric.</summary>
public static class MetricDirections
{
    /// <summary>
    /// Every <see cref="PerformanceMetrics"/> property, in declaration order. The reasoning:
    /// <list type="bullet">
    /// <item>higher: returns, risk-adjusted ratios (Sharpe, Sortino, Calmar, information ratio, PSR), alpha,
    /// and the trade figures whose increase is good (win rate, profit factor, expectancy, average win, payoff ratio);</item>
    /// <item>lower: risk and cost (volatility, VaR, CVaR, tracking error, drawdown duration, commission); VaR/CVaR are
    /// positive loss fractions, so lower is better even when negative (a gain at the tail);</item>
    /// <item>closer to zero: max drawdown and average loss, both ≤ 0;</item>
    /// <item>none: descriptive figures with no better side — beta and correlation (to the benchmark), the number of
    /// trades, exposure, turnover, skewness, kurtosis, and the run's set-up (trading days, P, risk-free rate).</item>
    /// </list>
    /// </summary>
    public static IReadOnlyList<MetricDefinition> All { get; } =
    [
        Define(nameof(PerformanceMetrics.TotalReturn), MetricDirection.Higher, m => m.TotalReturn),
        Define(nameof(PerformanceMetrics.AnnualizedReturn), MetricDirection.Higher, m => m.AnnualizedReturn),
        Define(nameof(PerformanceMetrics.Volatility), MetricDirection.Lower, m => m.Volatility),
        Define(nameof(PerformanceMetrics.SharpeRatio), MetricDirection.Higher, m => m.SharpeRatio),
        Define(nameof(PerformanceMetrics.SortinoRatio), MetricDirection.Higher, m => m.SortinoRatio),
        Define(nameof(PerformanceMetrics.CalmarRatio), MetricDirection.Higher, m => m.CalmarRatio),
        Define(nameof(PerformanceMetrics.MaxDrawdown), MetricDirection.CloserToZero, m => m.MaxDrawdown),
        Define(nameof(PerformanceMetrics.MaxDrawdownDuration), MetricDirection.Lower, m => m.MaxDrawdownDuration),
        Define(nameof(PerformanceMetrics.WinRate), MetricDirection.Higher, m => m.WinRate),
        Define(nameof(PerformanceMetrics.ProfitFactor), MetricDirection.Higher, m => m.ProfitFactor),
        Define(nameof(PerformanceMetrics.Expectancy), MetricDirection.Higher, m => m.Expectancy),
        Define(nameof(PerformanceMetrics.AverageWin), MetricDirection.Higher, m => m.AverageWin),
        Define(nameof(PerformanceMetrics.AverageLoss), MetricDirection.CloserToZero, m => m.AverageLoss),
        Define(nameof(PerformanceMetrics.PayoffRatio), MetricDirection.Higher, m => m.PayoffRatio),
        Define(nameof(PerformanceMetrics.TotalTrades), MetricDirection.None, m => m.TotalTrades),
        Define(nameof(PerformanceMetrics.Exposure), MetricDirection.None, m => m.Exposure),
        Define(nameof(PerformanceMetrics.Turnover), MetricDirection.None, m => m.Turnover),
        Define(nameof(PerformanceMetrics.TotalCommission), MetricDirection.Lower, m => m.TotalCommission),
        Define(nameof(PerformanceMetrics.Var95Historical), MetricDirection.Lower, m => m.Var95Historical),
        Define(nameof(PerformanceMetrics.Var99Historical), MetricDirection.Lower, m => m.Var99Historical),
        Define(nameof(PerformanceMetrics.Var95Parametric), MetricDirection.Lower, m => m.Var95Parametric),
        Define(nameof(PerformanceMetrics.Var99Parametric), MetricDirection.Lower, m => m.Var99Parametric),
        Define(nameof(PerformanceMetrics.Cvar95), MetricDirection.Lower, m => m.Cvar95),
        Define(nameof(PerformanceMetrics.Beta), MetricDirection.None, m => m.Beta),
        Define(nameof(PerformanceMetrics.Alpha), MetricDirection.Higher, m => m.Alpha),
        Define(nameof(PerformanceMetrics.Correlation), MetricDirection.None, m => m.Correlation),
        Define(nameof(PerformanceMetrics.InformationRatio), MetricDirection.Higher, m => m.InformationRatio),
        Define(nameof(PerformanceMetrics.TrackingError), MetricDirection.Lower, m => m.TrackingError),
        Define(nameof(PerformanceMetrics.ProbabilisticSharpeRatio), MetricDirection.Higher, m => m.ProbabilisticSharpeRatio),
        Define(nameof(PerformanceMetrics.Skewness), MetricDirection.None, m => m.Skewness),
        Define(nameof(PerformanceMetrics.Kurtosis), MetricDirection.None, m => m.Kurtosis),
        Define(nameof(PerformanceMetrics.TradingDays), MetricDirection.None, m => m.TradingDays),
        Define(nameof(PerformanceMetrics.PeriodsPerYear), MetricDirection.None, m => m.PeriodsPerYear),
        Define(nameof(PerformanceMetrics.RiskFreeRate), MetricDirection.None, m => m.RiskFreeRate),
    ];

    private static MetricDefinition Define(string property, MetricDirection direction, Func<PerformanceMetrics, double?> read) =>
        new(JsonNamingPolicy.CamelCase.ConvertName(property), direction) { Read = read };
}
