using System.Collections.Concurrent;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Api.Optimizations;

/// <summary>
/// The plan of a stored (accepted) job, made again with the engine's rules (<see cref="OptimizationValidator"/>): its
/// search space and the config each trial runs. Kept once per job, since a stored job does not change. New jobs are
/// validated by the grain (<c>IOptimizationGrain.Submit</c>, <c>IOptimizationPlannerGrain.Plan</c>), not here.
/// </summary>
public sealed class OptimizationPlanner(IMarketDataProvider data, StrategyCatalog strategies, TimeProvider time)
{
    private const int MaxCachedPlans = 256;
    private readonly ConcurrentDictionary<Guid, OptimizationPlan> _plans = new();

    /// <summary>The plan of a stored job (its accepted configuration); null if it no longer validates (e.g. its data is gone).</summary>
    public OptimizationPlan? PlanOf(Guid id, string configurationJson)
    {
        if (_plans.TryGetValue(id, out var cached))
        {
            return cached;
        }

        var (config, _) = OptimizationValidator.Parse(configurationJson);
        if (config is null || Validate(config).Plan is not { } plan)
        {
            return null;
        }

        if (_plans.Count >= MaxCachedPlans)
        {
            _plans.Clear();
        }

        return _plans.GetOrAdd(id, plan);
    }

    public void Forget(Guid id) => _plans.TryRemove(id, out _);

    /// <summary>The job was accepted under the cluster's cap on trials: that cap is not checked again here.</summary>
    private (IReadOnlyList<ValidationError> Errors, OptimizationPlan? Plan) Validate(OptimizationConfig config) =>
        OptimizationValidator.Validate(config, data, strategies, ValidationPolicy.Service, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime),
            new OptimizationLimits(long.MaxValue));
}
