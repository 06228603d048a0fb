using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Orleans.Concurrency;

namespace Backtesting.Grains;

/// <summary>Validates a job and counts its trials with the very rules <see cref="OptimizationGrain.Submit"/> applies; stores nothing.</summary>
[StatelessWorker]
public sealed class OptimizationPlannerGrain(IMarketDataProvider data, StrategyCatalog strategies) : Grain, IOptimizationPlannerGrain
{
    public Task<long> Plan(OptimizationSubmission submission)
    {
        var (errors, plan) = OptimizationValidator.Validate(submission.Config, data, strategies, ValidationPolicy.Service,
            DateOnly.FromDateTime(DateTime.UtcNow));
        return errors.Count > 0 || plan is null
            ? throw new OptimizationValidationException(errors)
            : Task.FromResult(plan.PlannedTrials);
    }
}
