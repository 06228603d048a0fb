using System.Diagnostics;
using Backtesting.Engine.Protocol;

namespace Backtesting.Worker;

/// <summary>
/// Measures this process: resident memory (MB), CPU (% of one core) and I/O (MB/s of bytes read and
/// written through system calls, from /proc/self/io; 0 where the kernel does not offer it) since the
/// previous sample.
/// </summary>
public sealed class ResourceSampler
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastCpu;
    private double _lastSeconds;
    private long _lastIoBytes;

    public ResourceSampler()
    {
        _lastCpu = _process.TotalProcessorTime;
        _lastIoBytes = ReadIoBytes();
    }

    public PerformanceInfo Sample()
    {
        _process.Refresh();
        var now = _clock.Elapsed.TotalSeconds;
        var cpu = _process.TotalProcessorTime;
        var io = ReadIoBytes();
        var elapsed = Math.Max(1e-6, now - _lastSeconds);
        var cpuPercent = (cpu - _lastCpu).TotalSeconds / elapsed * 100;
        var ioRate = Math.Max(0, io - _lastIoBytes) / 1_048_576.0 / elapsed;
        _lastCpu = cpu;
        _lastSeconds = now;
        _lastIoBytes = io;
        return new PerformanceInfo(
            Math.Round(_process.WorkingSet64 / 1_048_576.0, 1),
            Math.Round(cpuPercent, 1),
            Math.Round(ioRate, 2));
    }

    private static long ReadIoBytes()
    {
        try
        {
            long total = 0;
            foreach (var line in File.ReadLines("/proc/self/io"))
            {
                if (line.StartsWith("rchar:", StringComparison.Ordinal) || line.StartsWith("wchar:", StringComparison.Ordinal))
                {
                    total += long.Parse(line.AsSpan(6).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            return total;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
