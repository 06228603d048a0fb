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

        return TypedResults.Ok(await OptimizationRobustness.ComputeAsync(store, job, query.Options, context.RequestAborted));
    }

    private static UnprocessableProblem Unprocessable(string field, string rule, string message) =>
        new(Results.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "Unprocessable", statusCode: 422,
            extensions: new Dictionary<string, object?> { ["rules"] = new[] { new ValidationError(field, rule, message) } }));
}
