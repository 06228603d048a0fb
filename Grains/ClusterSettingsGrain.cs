using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Backtesting.Grains;

/// <summary>The silo's own settings as clients need them (the limit its grains admit with); every silo must agree on them.</summary>
[StatelessWorker]
public sealed class ClusterSettingsGrain(IOptions<BacktestClusterOptions> options) : Grain, IClusterSettingsGrain
{
    public Task<ClusterSettings> Get() => Task.FromResult(new ClusterSettings(options.Value.AdmissionPolicy().MaxDurationYears));
}
