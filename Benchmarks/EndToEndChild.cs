using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Results;
using Backtesting.Engine;

namespace Backtesting.Benchmarks;

/// <summary>
/// One end-to-end scenario in a process of its own, so its peak memory (VmHWM) is its alone. Prints one
/// <c>RESULT key=value …</c> line that the parent reads.
/// </summary>
internal static class EndToEndChild
{
    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: e2e-child memory <bars> | disk <file> | multi <instruments> | ceiling <bars>");
            return 2;
        }

        var kind = args[0];
        if (kind == "ceiling")
        {
            return CeilingLoop.RunChild(long.Parse(args[1], CultureInfo.InvariantCulture));
        }

        List<IMarketDataSource> sources;
        IReadOnlyList<Instrument> instruments;
        long barsPerInstrument;
        switch (kind)
        {
            case "memory":
                barsPerInstrument = long.Parse(args[1], CultureInfo.InvariantCulture);
                instruments = [Workloads.SyntheticInstrument(0)];
                sources = [Workloads.MinuteBars(0, barsPerInstrument)];
                break;
            case "disk":
                var reader = BinaryBarFile.OpenRead(args[1], instrument: 0);
                barsPerInstrument = reader.Count;
                instruments = [Workloads.SyntheticInstrument(0)];
                sources = [reader];
                break;
            case "multi":
                var count = int.Parse(args[1], CultureInfo.InvariantCulture);
                barsPerInstrument = (long)Workloads.TradingDaysPerYear * Workloads.MinuteBarsPerDay;
                instruments = Enumerable.Range(0, count).Select(Workloads.SyntheticInstrument).ToList();
                sources = Enumerable.Range(0, count).Select(i => (IMarketDataSource)Workloads.MinuteBars(i, barsPerInstrument)).ToList();
                break;
            default:
                Console.Error.WriteLine($"unknown scenario kind '{kind}'");
                return 2;
        }

        var spec = Workloads.MaCrossSpec(instruments, Workloads.FirstDay, Workloads.LastDay(barsPerInstrument), Workloads.InitialBalance);
        var line = RunAndMeasure(spec, sources, out var liveWithResults);
        // The run's outcome is garbage now: what the live heap loses is the size of the results it held.
        var resultsMb = (liveWithResults - GC.GetTotalMemory(forceFullCollection: true)) / (double)ByteSize.MiB;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{line} resultsMb={resultsMb:F1} peakMb={PeakResidentMb():F1}"));
        return 0;
    }

    /// <summary>Runs and times the scenario; the outcome stays inside, so the caller can measure what it weighed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string RunAndMeasure(BacktestSpec spec, List<IMarketDataSource> sources, out long liveWithResults)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var pauseBefore = GC.GetTotalPauseDuration();
        var gen0Before = GC.CollectionCount(0);
        var gen2Before = GC.CollectionCount(2);
        var clock = new HeartbeatClock();
        var wall = Stopwatch.StartNew();
        var outcome = Workloads.RunMaCross(spec, sources, clock);
        var seconds = wall.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"RESULT bars={outcome.ProcessedPoints} seconds={seconds:R} firstTenthRate={clock.FirstTenthRate:R} secondHalfRate={clock.SecondHalfRate:R} cpuSeconds={cpu:R} " +
            $"trades={outcome.Portfolio.Trades.Count} orders={outcome.Orders.Count} allocatedMb={allocated / (double)ByteSize.MiB:F1} " +
            $"gen0={GC.CollectionCount(0) - gen0Before} gen2={GC.CollectionCount(2) - gen2Before} " +
            $"gcPauseMs={(GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds:F0}");
        liveWithResults = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(outcome);
        return line;
    }

    /// <summary>The process's peak resident set (VmHWM in /proc/self/status), MB; -1 where the kernel has no such file.</summary>
    public static double PeakResidentMb()
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status))
        {
            return -1;
        }

        foreach (var line in File.ReadLines(Status))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                var kb = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }

        return -1;
    }
}

/// <summary>
/// Times the run through the engine's heartbeats (every 4,096 points), so besides the whole run it can tell
/// the rate over the first tenth of the points (mostly code the JIT has not optimized yet) and over the second
/// half (the engine once the JIT has tiered its hot path up).
/// </summary>
internal sealed class HeartbeatClock : IBacktestObserver
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly List<(long Points, long Timestamp)> _beats = new();

    /// <summary>Points per second from the start to the heartbeat nearest a tenth of the run.</summary>
    public double FirstTenthRate
    {
        get
        {
            if (_beats.Count == 0)
            {
                return double.NaN;
            }

            var (points, time) = _beats.MinBy(b => Math.Abs(b.Points - (_beats[^1].Points / 10)));
            return points / Stopwatch.GetElapsedTime(_start, time).TotalSeconds;
        }
    }

    /// <summary>Points per second from the heartbeat nearest the middle of the run to the last one (the engine beats once more at the end).</summary>
    public double SecondHalfRate
    {
        get
        {
            if (_beats.Count < 2)
            {
                return double.NaN;
            }

            var (endPoints, endTime) = _beats[^1];
            var (midPoints, midTime) = _beats.MinBy(b => Math.Abs(b.Points - (endPoints / 2)));
            return endTime == midTime ? double.NaN : (endPoints - midPoints) / Stopwatch.GetElapsedTime(midTime, endTime).TotalSeconds;
        }
    }

    public void OnHeartbeat(in EngineProgress progress) => _beats.Add((progress.ProcessedPoints, Stopwatch.GetTimestamp()));

    public void OnTradeClosed(Trade trade)
    {
    }

    public void OnDailyEquity(DailyEquity point, double drawdown)
    {
    }
}
