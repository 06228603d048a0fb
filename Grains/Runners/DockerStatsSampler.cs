using System.Threading.Channels;
using Backtesting.Engine;
using Backtesting.Grains.Interfaces;
using Docker.DotNet.Models;

namespace Backtesting.Grains.Runners;

/// <summary>
/// Turns Docker's stats samples into <see cref="ResourceUsage"/> on a channel. Runs on the library's threads:
/// it touches nothing but its own fields and the channel.
/// </summary>
internal sealed class DockerStatsSampler(ChannelWriter<ResourceUsage> output) : IProgress<ContainerStatsResponse>
{
    private const double BytesPerMiB = ByteSize.MiB;

    private ulong _lastIoBytes;
    private DateTime _lastAt;

    public void Report(ContainerStatsResponse value)
    {
        if (value.Read == default || value.CPUStats?.CPUUsage is null)
        {
            return; // a stopped container's last sample is empty
        }

        var cpu = 0.0;
        if (value.PreCPUStats?.CPUUsage is { } before && value.CPUStats.SystemUsage is { } system
            && value.PreCPUStats.SystemUsage is { } systemBefore && system > systemBefore)
        {
            var cores = value.CPUStats.OnlineCPUs is { } online and > 0 ? online : (uint)(value.CPUStats.CPUUsage.PercpuUsage?.Count ?? 1);
            // Share of the whole machine's CPU time, scaled to "percent of one core" like the worker reports it.
            cpu = (double)(value.CPUStats.CPUUsage.TotalUsage - before.TotalUsage) / (system - systemBefore) * cores * 100;
        }

        var memory = value.MemoryStats;
        var cache = memory?.Stats is { } stats
            ? stats.TryGetValue("total_inactive_file", out var v1) ? v1 : stats.TryGetValue("inactive_file", out var v2) ? v2 : 0
            : 0;
        var used = (memory?.Usage ?? 0) > cache ? memory!.Usage!.Value - cache : memory?.Usage ?? 0;
        ulong read = 0, written = 0;
        foreach (var entry in value.BlkioStats?.IoServiceBytesRecursive ?? [])
        {
            if (string.Equals(entry.Op, "read", StringComparison.OrdinalIgnoreCase))
            {
                read += entry.Value;
            }
            else if (string.Equals(entry.Op, "write", StringComparison.OrdinalIgnoreCase))
            {
                written += entry.Value;
            }
        }

        var io = read + written;
        var rate = _lastAt != default && value.Read > _lastAt && io >= _lastIoBytes
            ? (io - _lastIoBytes) / BytesPerMiB / (value.Read - _lastAt).TotalSeconds
            : 0;
        _lastIoBytes = io;
        _lastAt = value.Read;
        output.TryWrite(new ResourceUsage(value.Read.ToUniversalTime(), Math.Round(cpu, 1), Math.Round(used / BytesPerMiB, 1),
            Math.Round((memory?.Limit ?? 0) / BytesPerMiB, 1), Math.Round(read / BytesPerMiB, 2), Math.Round(written / BytesPerMiB, 2),
            Math.Round(rate, 2), (int)(value.PidsStats?.Current ?? 0)));
    }
}
