using System.Text.Json;
using Backtesting.Api.Robustness.Contracts;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;
using Backtesting.Storage;

namespace Backtesting.Api.Robustness;

/// <summary>
/// An optimization job's overfitting statistics from its stored trials: the deflated Sharpe ratio of the best trial, PBO
/// by CSCV with the histogram of its logits, the minimum backtest length and the stability of the optimum. Every figure
/// is computed by <c>Engine/Robustness</c>; this type reads the rows and shapes the answer, for the robustness route and
/// for the job's exports alike. Access is the caller's to check.
/// </summary>
public static class OptimizationRobustness
{
    /// <summary>Bins of the λ histogram: even, so that 0 (the PBO threshold) is an edge.</summary>
    public const int LogitBins = 20;

    public static async Task<RobustnessResponse> ComputeAsync(
        PostgresOptimizationStore store, OptimizationRecord job, CscvOptions options, CancellationToken cancellationToken)
    {
        var id = job.Id;
        var config = OptimizationValidator.Parse(job.ConfigurationJson).Config ?? new OptimizationConfig();
        var objective = new Objective(config.Objective.Metric, config.Objective.Direction != "minimize");
        var rows = await AllTrialsAsync(store, id, cancellationToken);
        var outcomes = rows.Select(Outcome).ToList();
        var best = new TrialRules(objective, []).Best(outcomes);
        var bestRow = best is null ? null : rows.First(r => r.TrialNumber == best.Trial);
        var notes = new List<string>();

        // N: the trials that ran (their daily returns are stored); V[SR] over their per-period Sharpe ratios.
        var ran = rows.Where(r => r.DailyReturns is { Length: > 0 }).ToList();
        DeflatedSharpeResponse? deflated = null;
        MinimumLengthResponse? minimum = null;
        if (bestRow?.DailyReturns is not { } bestReturns)
        {
            notes.Add(best is null ? "no feasible trial with an objective: there is no best trial to test" : "the best trial has no stored daily returns");
        }
        else
        {
            var returns = Array.ConvertAll(bestReturns, r => (double)r);
            var sharpes = ran.Select(r => PerPeriodSharpe(r.DailyReturns!)).ToArray();
            try
            {
                var dsr = DeflatedSharpe.Compute(returns, sharpes);
                deflated = new DeflatedSharpeResponse(dsr.Value, dsr.Best.Sharpe, dsr.Best.Skewness, dsr.Best.Kurtosis, dsr.Best.Count, dsr.Trials,
                    dsr.SharpeVariance, dsr.ExpectedMaximumSharpe);
            }
            catch (ArgumentException e)
            {
                notes.Add($"deflated Sharpe ratio: {e.Message}");
            }

            var metrics = bestRow.MetricsJson is { } json ? JsonDocument.Parse(json).RootElement : default;
            var annualized = Number(metrics, "sharpeRatio");
            var perYear = Number(metrics, "periodsPerYear");
            try
            {
                if (annualized is not { } sharpe)
                {
                    throw new ArgumentException("the best trial's sharpeRatio is undefined");
                }

                minimum = new MinimumLengthResponse(MinimumBacktestLength.Years(ran.Count, sharpe), sharpe, ran.Count,
                    perYear is > 0 ? returns.Length / perYear.Value : null);
            }
            catch (ArgumentException e)
            {
                notes.Add($"minimum backtest length: {e.Message}");
            }
        }

                var columns = await store.ReturnsAsync(id, options.MaxTrials, cancellationToken);
        OverfittingResponse? overfitting = null;
        try
        {
            var pbo = OverfittingProbability.Compute(Matrix(columns), options);
            overfitting = new OverfittingResponse(pbo.Probability, pbo.ProbabilityOfLoss, pbo.Blocks, pbo.Splits.Count, pbo.Observations,
                pbo.TrialsGiven, pbo.TrialsUsed, pbo.DegradationSlope, pbo.DegradationIntercept,
                OverfittingProbability.LogitHistogram(pbo, LogitBins));
        }
        catch (ArgumentException e)
        {
            notes.Add($"probability of backtest overfitting: {e.Message}");
        }

        StabilityResult? stability = null;
        if (OptimumStability.Axes(config.Parameters) is not { } axes)
        {
            notes.Add("stability: a searched parameter is continuous, so the space has no grid to find neighbours on");
        }
        else if ((stability = OptimumStability.Compute(axes, outcomes, objective)) is null)
        {
            notes.Add("stability: there is no best trial on the grid");
        }

        return new RobustnessResponse(id, job.Status, objective.Metric, objective.Maximize ? "maximize" : "minimize", rows.Count,
            rows.Count(r => r.Feasible), best?.Trial, best?.ObjectiveValue, deflated, overfitting, minimum, stability, notes);
    }

    private static async Task<List<TrialRow>> AllTrialsAsync(PostgresOptimizationStore store, Guid id, CancellationToken cancellationToken)
    {
        const int pageSize = 1_000;
        var rows = new List<TrialRow>();
        for (var page = 1; ; page++)
        {
            var batch = await store.TrialsAsync(id, new TrialQuery(Page: page, PageSize: pageSize), cancellationToken);
            rows.AddRange(batch.Items);
            if (batch.Items.Count < pageSize || rows.Count >= batch.TotalCount)
            {
                return rows;
            }
        }
    }

    private static TrialOutcome Outcome(TrialRow row)
    {
        using var document = JsonDocument.Parse(row.ParametersJson);
        var parameters = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        return new TrialOutcome { Trial = row.TrialNumber, Parameters = parameters, Feasible = row.Feasible, ObjectiveValue = row.Objective };
    }

    /// <summary>The per-period Sharpe ratio CSCV ranks with (<see cref="OverfittingProbability.Sharpe"/>; 0 for returns that do not vary).</summary>
    private static double PerPeriodSharpe(float[] returns)
    {
        double sum = 0, squares = 0;
        foreach (var r in returns)
        {
            sum += r;
            squares += (double)r * r;
        }

        return OverfittingProbability.Sharpe(sum, squares, returns.Length);
    }

    /// <summary>The T × N matrix of the columns; columns of different lengths cannot share rows and are refused.</summary>
    private static float[,] Matrix(IReadOnlyList<(int TrialNumber, float[] Returns)> columns)
    {
        if (columns.Count == 0)
        {
            return new float[0, 0];
        }

        var t = columns[0].Returns.Length;
        if (columns.Any(c => c.Returns.Length != t))
        {
            throw new ArgumentException("the trials' daily return series differ in length, so they cannot share the rows of one matrix");
        }

        var matrix = new float[t, columns.Count];
        for (var j = 0; j < columns.Count; j++)
        {
            for (var i = 0; i < t; i++)
            {
                matrix[i, j] = columns[j].Returns[i];
            }
        }

        return matrix;
    }

    private static double? Number(JsonElement metrics, string name) =>
        metrics.ValueKind == JsonValueKind.Object && metrics.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : null;
}
