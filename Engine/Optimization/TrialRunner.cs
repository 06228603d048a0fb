using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Optimization;

/// <summary>
/// Runs one trial through the same code path as a backtest (<see cref="BacktestRun"/>, what the worker runs), over data
/// shared read-only by every trial of the batch (<see cref="PreloadedMarketData"/>): a trial's metrics and content hash
/// are those of its config run alone. Each trial gets its own strategy, engine, portfolio and data cursors, and with a
/// custom strategy its own load context (<see cref="TrialStrategies"/>); nothing it can change outlives it. A custom
/// strategy that throws (in its rules or its run) fails that trial only, with the reason. Safe to call from several
/// threads at once.
/// </summary>
public sealed class TrialRunner(OptimizationPlan plan, IMarketDataProvider data, TrialStrategies strategies)
{
    public TrialRunner(OptimizationPlan plan, IMarketDataProvider data, StrategyCatalog strategies)
        : this(plan, data, TrialStrategies.Shared(strategies))
    {
    }

    public OptimizationPlan Plan => plan;

    public TrialOutcome Run(TrialPoint point, CancellationToken cancellation = default)
    {
        TrialStrategyScope? scope = null;
        try
        {
            // Opening may run the strategy's constructor (a custom strategy is created once as it loads): the trial's too.
            scope = strategies.Open();
            return Run(point, scope.Catalog, cancellation);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException) && strategies.Fault(e) is { } reason)
        {
            // Hostile code threw (its data is preloaded, so the fault is the strategy's): this trial failed, the batch goes on.
            return Failed(point, reason);
        }
        finally
        {
            scope?.Dispose();
        }
    }

    private TrialOutcome Run(TrialPoint point, StrategyCatalog catalog, CancellationToken cancellation)
    {
        var strategyConfig = plan.StrategyConfig(point.Parameters);
        // The catalog's own descriptor: a custom strategy's rules run in this trial's load context, as a backtest's do.
        var descriptor = catalog.TryGet(plan.Strategy.Name, out var own) ? own : plan.Strategy;
        var broken = StrategyErrors.Rules(descriptor, strategyConfig, plan.BaseSpec.Config.AccountType);
        if (broken.Count > 0)
        {
            return Failed(point, "strategy rule: " + string.Join("; ", broken.Select(e => e.Message)));
        }

        var spec = plan.BaseSpec with { Config = plan.BaseSpec.Config with { StrategyConfig = strategyConfig } };
        // The backtest's run and metrics, without packaging the parts of a result document a trial does not keep.
        var result = new BacktestRun(spec, data, catalog).ExecuteFigures(cancellation);
        if (result.Partial)
        {
            throw new OperationCanceledException("the trial was stopped before the end of its data", cancellation);
        }

        var (feasible, reason, objective) = plan.Rules.Evaluate(result.Metrics);
        return new TrialOutcome
        {
            Trial = point.Trial,
            Parameters = point.Parameters,
            Metrics = result.Metrics,
            TradeCount = result.TotalTrades,
            Feasible = feasible,
            InfeasibleReason = reason,
            ContentHash = result.ContentHash,
            ObjectiveValue = objective,
            DailyReturns = result.DailyReturns,
        };
    }

    /// <summary>A trial that did not run to its end: infeasible, no metrics, the reason.</summary>
    public static TrialOutcome Failed(TrialPoint point, string reason) => new()
    {
        Trial = point.Trial,
        Parameters = point.Parameters,
        Feasible = false,
        InfeasibleReason = reason,
    };
}

/// <summary>What a search found: every finished trial in trial order, the best, and whether the target stopped it.</summary>
public sealed record OptimizationSummary(IReadOnlyList<TrialOutcome> Trials, TrialOutcome? Best, bool TargetReached);

/// <summary>
/// The search loop of one job: propose a batch, run it, record it, until the planned trials ran, the space ran out or the
/// best reached the target (checked after each batch). The same plan and batch size give the same trials and the same best.
/// </summary>
public static class OptimizationLoop
{
    public static OptimizationSummary Run(OptimizationPlan plan, Func<IReadOnlyList<TrialPoint>, IReadOnlyList<TrialOutcome>> runBatch,
        int batchSize, TpeSettings? tpe = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var method = plan.CreateMethod(tpe);
        var proposed = new List<TrialPoint>();
        var finished = new List<TrialOutcome>();
        var reached = false;
        while (proposed.Count < plan.PlannedTrials)
        {
            var batch = method.Propose(proposed, finished, (int)Math.Min(batchSize, plan.PlannedTrials - proposed.Count));
            if (batch.Count == 0)
            {
                break;
            }

            proposed.AddRange(batch);
            finished.AddRange(runBatch(batch));
            if (plan.Target is { } target && plan.Rules.Best(finished) is { } best && plan.Rules.Objective.Reached(best.ObjectiveValue!.Value, target))
            {
                reached = true;
                break;
            }
        }

        finished.Sort((a, b) => a.Trial.CompareTo(b.Trial));
        return new OptimizationSummary(finished, plan.Rules.Best(finished), reached);
    }
}
