using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Robustness.Contracts;

/// <summary>The query of <c>GET /optimizations/{id}/robustness</c>: CSCV's blocks and trials cap (defaults: <see cref="CscvOptions"/>).</summary>
public sealed record RobustnessQuery(
    [FromQuery(Name = "blocks")] int? Blocks,
    [FromQuery(Name = "maxTrials")] int? MaxTrials)
{
    /// <summary>The most trials a request may ask CSCV to use.</summary>
    public const int MaxTrialsLimit = 20_000;

    private static readonly CscvOptions Defaults = new();

    public CscvOptions Options => new(Blocks ?? Defaults.Blocks, MaxTrials ?? Defaults.MaxTrials);

    public IReadOnlyList<ValidationError> Errors()
    {
        var errors = new List<ValidationError>();
        if (Blocks is { } s && (s < 2 || s % 2 != 0 || s > OverfittingProbability.MaxBlocks))
        {
            errors.Add(new("blocks", "range", $"blocks must be even and between 2 and {OverfittingProbability.MaxBlocks}"));
        }

        if (MaxTrials is < 2 or > MaxTrialsLimit)
        {
            errors.Add(new("maxTrials", "range", $"maxTrials must be between 2 and {MaxTrialsLimit}"));
        }

        return errors;
    }
}

/// <summary>The deflated Sharpe ratio of the best trial (per-period figures).</summary>
public sealed record DeflatedSharpeResponse(
    double Value, double Sharpe, double Skewness, double Kurtosis, int Observations, int Trials, double SharpeVariance, double ExpectedMaximumSharpe);

/// <summary>PBO by CSCV and its companions (the splits themselves are left out).</summary>
/// <param name="LogitHistogram">The splits' logits λ in equal bins symmetric about 0, which is an edge: the bins left of
/// it hold the overfit splits, so their counts sum to <see cref="Probability"/> × <see cref="Splits"/>.</param>
public sealed record OverfittingResponse(
    double Probability, double ProbabilityOfLoss, int Blocks, int Splits, int Observations, int TrialsGiven, int TrialsUsed,
    double? DegradationSlope, double? DegradationIntercept, IReadOnlyList<HistogramBin> LogitHistogram);

/// <summary>The minimum backtest length for the trials run and the best trial's annualized Sharpe ratio.</summary>
/// <param name="BacktestYears">The years the best trial's daily returns cover (observations / periods a year), to compare.</param>
public sealed record MinimumLengthResponse(double Years, double AnnualizedSharpe, int Trials, double? BacktestYears);

/// <summary>
/// The robustness of an optimization job's result; a part that cannot be computed is null and <see cref="Notes"/> says why.
/// </summary>
/// <param name="TrialsRun">N: every trial stored for the job, feasible or not, each once.</param>
/// <param name="BestTrial">The feasible trial with the best objective (ties: the lowest number).</param>
public sealed record RobustnessResponse(
    Guid OptimizationId,
    string Status,
    string Objective,
    string Direction,
    int TrialsRun,
    int FeasibleTrials,
    int? BestTrial,
    double? BestObjective,
    DeflatedSharpeResponse? DeflatedSharpe,
    OverfittingResponse? Overfitting,
    MinimumLengthResponse? MinimumBacktestLength,
    StabilityResult? Stability,
    IReadOnlyList<string> Notes);
