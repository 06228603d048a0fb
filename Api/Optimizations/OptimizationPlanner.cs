using System.Collections.Concurrent;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using Backtesting.Storage;

namespace Backtesting.Api.Optimizations;

/// <summary>
/// The plan of a stored (accepted) job, made again with the engine's rules (<see cref="OptimizationValidator"/>): its
/// search space and the config each trial runs. Kept once per job, since a stored job does not change. New jobs are
/// validated by the grain (<c>IOptimizationGrain.Submit</c>, <c>IOptimizationPlannerGrain.Plan</c>), not here. A job over
/// a custom strategy plans with the schema its pinned version stored (the owner's own; no strategy code runs here).
/// </summary>
public sealed class OptimizationPlanner(IMarketDataProvider data, StrategyCatalog strategies, IStrategyStore strategyStore, TimeProvider time)
{
    private const int MaxCachedPlans = 256;
    private readonly ConcurrentDictionary<Guid, OptimizationPlan> _plans = new();

    /// <summary>The plan of a stored job (its accepted configuration); null if it no longer validates (its data or strategy version is gone).</summary>
    public async Task<OptimizationPlan?> PlanOfAsync(OptimizationRecord record, CancellationToken cancellation = default)
    {
        if (_plans.TryGetValue(record.Id, out var cached))
        {
            return cached;
        }

        var (config, _) = OptimizationValidator.Parse(record.ConfigurationJson);
        if (config is null || await StrategiesOf(record.Owner, config, cancellation) is not { } catalog
            || Validate(config, catalog).Plan is not { } plan)
        {
            return null;
        }

        if (_plans.Count >= MaxCachedPlans)
        {
            _plans.Clear();
        }

        return _plans.GetOrAdd(record.Id, plan);
    }

    public void Forget(Guid id) => _plans.TryRemove(id, out _);

    /// <summary>The templates, plus the job's pinned custom strategy version when it names one; null when that version is gone.</summary>
    private async Task<StrategyCatalog?> StrategiesOf(string owner, OptimizationConfig config, CancellationToken cancellation)
    {
        if (config.StrategyVersion is not { } version || strategies.TryGet(config.BaseConfig.StrategyClass, out _))
        {
            return strategies;
        }

        var stored = await strategyStore.GetByNameAsync(owner, config.BaseConfig.StrategyClass, version, cancellation);
        return stored is null || JsonSerializer.Deserialize<StrategySchema>(stored.SchemaJson, JsonDefaults.Options) is not { } schema
            ? null
            : strategies.With([schema.ToDescriptor(stored.ContentHash)]);
    }

    /// <summary>The job was accepted under the cluster's caps on trials and on its dates' span: neither is checked again here.</summary>
    private (IReadOnlyList<ValidationError> Errors, OptimizationPlan? Plan) Validate(OptimizationConfig config, StrategyCatalog catalog) =>
        OptimizationValidator.Validate(config, data, catalog, ValidationPolicy.Local, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime),
            new OptimizationLimits(long.MaxValue));
}
