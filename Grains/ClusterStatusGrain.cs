using Backtesting.Grains.Interfaces;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace Backtesting.Grains;

/// <summary>
/// Resource monitoring for the whole cluster: the silos from Orleans' management grain (status, CPU, memory,
/// activations) and the backtests each one runs, from the queue's leases.
/// </summary>
[StatelessWorker]
public sealed class ClusterStatusGrain : Grain, IClusterStatusGrain
{
    public async Task<ClusterStatus> GetStatus()
    {
        var management = GrainFactory.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetHosts(onlyActive: true);
        var silos = hosts.Keys.ToArray();
        var statistics = await management.GetRuntimeStatistics(silos);
        var queue = await GrainFactory.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
        var loads = silos.Select((silo, i) =>
        {
            var address = silo.ToParsableString();
            return new SiloLoad(
                address,
                hosts[silo].ToString(),
                Math.Round(statistics[i].EnvironmentStatistics.FilteredCpuUsagePercentage, 1),
                statistics[i].EnvironmentStatistics.FilteredMemoryUsageBytes,
                statistics[i].ActivationCount,
                queue.Running.Count(r => r.Silo == address));
        }).OrderBy(s => s.Address, StringComparer.Ordinal).ToList();
        return new ClusterStatus(loads, queue.Running.Count, queue.Queued.Count, queue.Limits);
    }
}
