using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Admission;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Backtesting.Grains;

/// <summary>Validates a job and counts its trials with the very rules <see cref="OptimizationGrain.Submit"/> applies; stores nothing.</summary>
[StatelessWorker]
public sealed class OptimizationPlannerGrain(IMarketDataProvider data, StrategyCatalog strategies, IStrategyStore strategyStore,
    IOptions<BacktestClusterOptions> options) : Grain, IOptimizationPlannerGrain
{
    private readonly StrategyResolver _resolver = new(strategies, strategyStore);

    public async Task<long> Plan(OptimizationSubmission submission)
    {
        var (catalog, _, config) = await OptimizationAdmission.ResolveAsync(_resolver, submission);
        var (errors, plan) = OptimizationValidator.Validate(config, data, catalog, options.Value.AdmissionPolicy(),
            DateOnly.FromDateTime(DateTime.UtcNow));
        return errors.Count > 0 || plan is null
            ? throw new OptimizationValidationException(errors)
            : plan.PlannedTrials;
    }
}
