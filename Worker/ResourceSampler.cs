using System.Diagnostics;
using System.Globalization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine;

namespace Backtesting.Worker;

/// <summary>
/// Measures the run, for its progress lines. Each sample gives CPU (% of one core) and I/O (MB/s of bytes read
/// and written through system calls, rchar + wchar; 0 where the kernel does not offer them) since the previous
/// sample, and a memory figure whose meaning depends on the scope:
/// <list type="bullet">
/// <item><see cref="ForProcess"/>: the worker is its own process: CPU and I/O of the whole process, memory its resident set.</item>
/// <item><see cref="ForCurrentThread"/>: the worker runs inside a host (the silo's in-process runner), whose
/// process figures would be every run's and the host's own. CPU and I/O are then the calling thread's, the one
/// that runs the engine (Linux's per-thread /proc/self/task/&lt;tid&gt; accounting). The host's heap is shared, so
/// a run's live share of it cannot be measured: memory is the MB that thread has allocated since the run began,
/// an upper bound of what the run holds (all of it was allocated there).</item>
/// </list>
/// </summary>
public sealed class ResourceSampler
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Process? _process;
    /// <summary>The run's thread: its OS id (for /proc) and managed id (allocations are counted per thread).</summary>
    private readonly int? _osThread;
    private readonly int _managedThread;
    private readonly long _allocatedAtStart;
    private readonly string _ioFile;
    private TimeSpan _lastCpu;
    private double _lastSeconds;
    private long _lastIoBytes;
    private double _memoryMb;

    private ResourceSampler(Process? process, int? osThread)
    {
        _process = process;
        _osThread = osThread;
        _managedThread = Environment.CurrentManagedThreadId;
        _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        _ioFile = osThread is { } tid ? $"/proc/self/task/{tid}/io" : "/proc/self/io";
        _lastCpu = Cpu();
        _lastIoBytes = ReadIoBytes();
    }

    /// <summary>Figures of this whole process: the worker runs as its own process (or container).</summary>
    public static ResourceSampler ForProcess() => new(Process.GetCurrentProcess(), null);

    /// <summary>
    /// Figures of the calling thread, which must be the one that runs the engine and calls <see cref="Sample"/>.
    /// Where the OS has no per-thread accounting (not Linux), CPU and I/O read 0.
    /// </summary>
    public static ResourceSampler ForCurrentThread() => new(null, CurrentOsThread() ?? -1);

    /// <summary>Whether figures are the calling thread's (<see cref="ForCurrentThread"/>).</summary>
    public bool ThreadScoped => _process is null;

    public PerformanceInfo Sample()
    {
        _process?.Refresh();
        var now = _clock.Elapsed.TotalSeconds;
        var cpu = Cpu();
        var io = ReadIoBytes();
        var elapsed = Math.Max(1e-6, now - _lastSeconds);
        var cpuPercent = (cpu - _lastCpu).TotalSeconds / elapsed * 100;
        var ioRate = Math.Max(0, io - _lastIoBytes) / (double)ByteSize.MiB / elapsed;
        _lastCpu = cpu;
        _lastSeconds = now;
        _lastIoBytes = io;
        if (_process is not null)
        {
            _memoryMb = _process.WorkingSet64 / (double)ByteSize.MiB;
        }
        else if (Environment.CurrentManagedThreadId == _managedThread)
        {
            // Allocations are counted per thread; from another thread the last figure stands.
            _memoryMb = (GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart) / (double)ByteSize.MiB;
        }

        return new PerformanceInfo(Math.Round(_memoryMb, 1), Math.Round(cpuPercent, 1), Math.Round(ioRate, 2));
    }

    private TimeSpan Cpu() => _process is not null ? _process.TotalProcessorTime : ThreadCpu(_osThread!.Value);

    /// <summary>
    /// The thread's CPU time: schedstat's first field (nanoseconds on the CPU), else stat's utime + stime
    /// (clock ticks, 100 a second on Linux).
    /// </summary>
    private static TimeSpan ThreadCpu(int tid)
    {
        if (tid < 0)
        {
            return TimeSpan.Zero;
        }

        try
        {
            var schedstat = File.ReadAllText($"/proc/self/task/{tid}/schedstat");
            var first = schedstat.AsSpan(0, Math.Max(0, schedstat.IndexOf(' ')));
            if (long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var nanoseconds) && nanoseconds > 0)
            {
                return TimeSpan.FromTicks(nanoseconds / 100);
            }

            // The name (field 2) may hold spaces: count fields after its closing parenthesis. utime and stime are fields 14, 15.
            var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>The calling thread's OS id, from the /proc/thread-self link ("&lt;pid&gt;/task/&lt;tid&gt;"); null off Linux.</summary>
    private static int? CurrentOsThread()
    {
        try
        {
            var target = new DirectoryInfo("/proc/thread-self").LinkTarget;
            return target is not null && int.TryParse(Path.GetFileName(target), NumberStyles.None, CultureInfo.InvariantCulture, out var tid)
                ? tid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private long ReadIoBytes()
    {
        if (_osThread is < 0)
        {
            return 0;
        }

        try
        {
            long total = 0;
            foreach (var line in File.ReadLines(_ioFile))
            {
                if (line.StartsWith("rchar:", StringComparison.Ordinal) || line.StartsWith("wchar:", StringComparison.Ordinal))
                {
                    total += long.Parse(line.AsSpan(6).Trim(), CultureInfo.InvariantCulture);
                }
            }

            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
