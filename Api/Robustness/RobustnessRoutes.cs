using Backtesting.Api.Backtests;

namespace Backtesting.Api.Robustness;

/// <summary>
/// The robustness routes: a completed backtest's Monte Carlo and an optimization job's overfitting statistics and stability
/// (handlers: <see cref="RobustnessHandlers"/>, contracts: <c>Contracts/</c>, definitions: docs/robustness.md).
/// </summary>
public static class RobustnessRoutes
{
    public static void MapRobustnessRoutes(this IEndpointRouteBuilder app)
    {
        var backtests = app.MapGroup(BacktestRoutes.Prefix).WithTags("Robustness").RequireAuthorization();
        backtests.MapGet("/results/{id:guid}/montecarlo", RobustnessHandlers.MonteCarlo)
            .WithSummary("Monte Carlo paths of a completed backtest")
            .WithDescription("method=blockBootstrap (default): the stationary bootstrap of the daily returns, mean block length blockSize days " +
                             "(default: estimated from the data, Politis and White with the correction of Patton, Politis and White). " +
                             "method=trades: the closed trades' returns, sampling=resample (default, with replacement) or shuffle (a permutation: " +
                             "the final equity is the same on every path, the drawdowns differ). paths 1..100,000 (default 10,000), seed (default 0) " +
                             "fixes every draw. Returns the 5/25/50/75/95 percentiles of equity over time, the distributions of final return, CAGR, " +
                             "maximum drawdown and Sharpe ratio (percentiles and a histogram of `bins` bins), the probability of a loss and of a " +
                             "drawdown at least drawdownLimit deep (default 0.2). 409 unless completed; 422 when the data cannot be resampled.")
            .AddEndpointFilter<ComputeGateFilter>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404, 409);

        var optimizations = app.MapGroup("/api/v1/optimizations").WithTags("Robustness").RequireAuthorization();
        optimizations.MapGet("/{id:guid}/robustness", RobustnessHandlers.Optimization)
            .WithSummary("Is an optimization's best trial real?")
            .WithDescription("The deflated Sharpe ratio of the best trial (N = the trials that ran), the probability of backtest overfitting by CSCV " +
                             "(blocks S, default 16; at most maxTrials feasible trials, default 5,000, the lowest numbers), the minimum backtest " +
                             "length, and the stability of the optimum on the job's grid. A part that cannot be computed is null and `notes` says why.")
            .AddEndpointFilter<ComputeGateFilter>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithStandardErrors(401)
            .WithProblemExamples(400, 404);
    }
}
