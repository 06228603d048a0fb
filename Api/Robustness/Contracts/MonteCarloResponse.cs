using Backtesting.Engine.Robustness;

namespace Backtesting.Api.Robustness.Contracts;

/// <summary>One point of the equity fan: the percentiles of equity over the paths after <see cref="Step"/> steps.</summary>
/// <param name="Date">For the block bootstrap, the date of the backtest's day at that step (none at step 0, the start).</param>
public sealed record FanPointResponse(int Step, DateOnly? Date, double P5, double P25, double P50, double P75, double P95);

/// <summary>The answer of <c>GET /results/{id}/montecarlo</c>; docs/robustness.md defines every figure.</summary>
/// <param name="Sampling">shuffle | resample for method=trades; null for blockBootstrap.</param>
/// <param name="Steps">Steps per path: the daily returns (blockBootstrap) or the closed trades (trades).</param>
/// <param name="MeanBlockLength">The mean block length in days used by blockBootstrap (given or automatic).</param>
public sealed record MonteCarloResponse(
    Guid BacktestId,
    string Method,
    string? Sampling,
    int Paths,
    long Seed,
    int Steps,
    double? MeanBlockLength,
    bool BlockLengthAutomatic,
    double InitialEquity,
    IReadOnlyList<FanPointResponse> Fan,
    MonteCarloDistribution FinalReturn,
    MonteCarloDistribution Cagr,
    MonteCarloDistribution MaxDrawdown,
    MonteCarloDistribution Sharpe,
    double ProbabilityOfLoss,
    double DrawdownLimit,
    double ProbabilityOfDrawdownBeyondLimit);
