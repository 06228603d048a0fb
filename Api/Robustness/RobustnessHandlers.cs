using System.Text.Json;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Robustness.Contracts;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Results;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Backtesting.Api.Robustness;

/// <summary>
/// The robustness answers: a backtest's Monte Carlo, an optimization's overfitting statistics and stability. Every
/// figure is computed by <c>Engine/Robustness</c>; this type reads the stored rows, checks access and shapes the answer.
/// </summary>
public static class RobustnessHandlers
{
    public static async Task<Results<Ok<MonteCarloResponse>, InvalidProblem, NotFoundProblem, ConflictProblem, UnprocessableProblem>> MonteCarlo(
        Guid id, [AsParameters] MonteCarloQuery query, HttpContext context, BacktestAccess access, ResultsCache results)
    {
        if (query.Errors() is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }

        var record = await access.FindAsync(id, context.User.ApiUser(), context.RequestAborted);
        if (record is null)
        {
            return Problems.NotFound(id);
        }

        if (record.Status != StatusWords.Of(BacktestState.Completed))
        {
            return new ConflictProblem(Results.Problem(statusCode: 409, title: "Conflict",
                detail: $"backtest {id} is {record.Status}: a Monte Carlo needs a completed backtest",
                extensions: new Dictionary<string, object?> { ["backtestId"] = id, ["currentState"] = record.Status }));
        }

        // Completed, but the results not yet readable (the row moves a moment before the results are read back).
        if (await results.GetAsync(id, context.RequestAborted) is not { } result)
        {
            return Problems.NoResultsYet(id, record.Status);
        }

        var method = query.EngineMethod;
        var initial = result.Summary.InitialBalance;
        var periods = result.Metrics.PeriodsPerYear;
        var series = method == Engine.Robustness.MonteCarloMethod.StationaryBootstrap
            ? MonteCarloSeries.FromDailyEquity(initial, result.DailyEquity, periods, result.Metrics.RiskFreeRate)
            : MonteCarloSeries.FromTrades(initial, result.Trades, result.DailyEquity.Count, periods, result.Metrics.RiskFreeRate);
        var unusable = series is null ? "the account was wiped out before the end, so its later returns are undefined" : series.Unusable();
        if (unusable is not null)
        {
            var what = method == Engine.Robustness.MonteCarloMethod.StationaryBootstrap ? "daily returns" : "closed trades' returns";
            return Unprocessable("method", "insufficientData", $"method={query.MethodWord} cannot resample this backtest's {what}: {unusable}");
        }

        var options = query.Options;
        if (Engine.Robustness.MonteCarlo.InvalidOption(series!, method, options) is { } invalid)
        {
            return Problems.Invalid(invalid.Field, "range", invalid.Message);
        }

        var run = Engine.Robustness.MonteCarlo.Run(series!, method, options);
        var bootstrap = method == Engine.Robustness.MonteCarloMethod.StationaryBootstrap;
        var fan = run.Fan.Select(p => new FanPointResponse(p.Step, bootstrap && p.Step > 0 ? result.DailyEquity[p.Step - 1].Date : null,
            p.Equity.P5, p.Equity.P25, p.Equity.P50, p.Equity.P75, p.Equity.P95)).ToList();
        return TypedResults.Ok(new MonteCarloResponse(id, query.MethodWord, query.SamplingWord, run.Paths, run.Seed, run.Steps, run.MeanBlockLength,
            run.BlockLengthAutomatic, run.InitialEquity, fan, run.FinalReturn, run.Cagr, run.MaxDrawdown, run.Sharpe, run.ProbabilityOfLoss,
            run.DrawdownLimit, run.ProbabilityOfDrawdownBeyondLimit));
    }

    public static async Task<Results<Ok<RobustnessResponse>, InvalidProblem, NotFoundProblem>> Optimization(
        Guid id, [AsParameters] RobustnessQuery query, HttpContext context, NpgsqlDataSource database)
    {
        if (query.Errors() is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }

        var store = new PostgresOptimizationStore(database);
        var user = context.User.ApiUser();
        var job = await store.GetAsync(id, context.RequestAborted);
        if (job is null || (!user.IsAdmin && job.Owner != user.UserId))
        {
            return new NotFoundProblem(Results.Problem(statusCode: 404, title: "Not found", detail: $"optimization {id} not found"));
        }

        var config = OptimizationValidator.Parse(job.ConfigurationJson).Config ?? new OptimizationConfig();
        var objective = new Objective(config.Objective.Metric, config.Objective.Direction != "minimize");
        var rows = await AllTrialsAsync(store, id, context.RequestAborted);
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

        var options = query.Options;
        var columns = await store.ReturnsAsync(id, options.MaxTrials, context.RequestAborted);
        OverfittingResponse? overfitting = null;
        try
        {
            var pbo = OverfittingProbability.Compute(Matrix(columns), options);
            overfitting = new OverfittingResponse(pbo.Probability, pbo.ProbabilityOfLoss, pbo.Blocks, pbo.Splits.Count, pbo.Observations,
                pbo.TrialsGiven, pbo.TrialsUsed, pbo.DegradationSlope, pbo.DegradationIntercept);
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

        return TypedResults.Ok(new RobustnessResponse(id, job.Status, objective.Metric, objective.Maximize ? "maximize" : "minimize", rows.Count,
            rows.Count(r => r.Feasible), best?.Trial, best?.ObjectiveValue, deflated, overfitting, minimum, stability, notes));
    }

    private static UnprocessableProblem Unprocessable(string field, string rule, string message) =>
        new(Results.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "Unprocessable", statusCode: 422,
            extensions: new Dictionary<string, object?> { ["rules"] = new[] { new ValidationError(field, rule, message) } }));

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
