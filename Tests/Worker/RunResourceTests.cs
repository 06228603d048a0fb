using Backtesting.Engine.Data;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Cluster;
using Backtesting.Worker;
using Backtesting.Engine;

namespace Backtesting.Tests.Worker;

/// <summary>
/// The per-run figures of a run inside a host (the in-process runner): they must be the run's thread's, not the
/// host process's, which also carries other runs and the host's own work.
/// </summary>
public sealed class RunResourceTests
{
    [Fact]
    public async Task A_thread_scoped_sampler_counts_its_own_threads_cpu_and_allocations_only()
    {
        using var stop = new CancellationTokenSource();
        var ballast = new List<byte[]>();
        // Another thread of the process: busy and allocating the whole time.
        var busy = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                ballast.Add(new byte[1 << 20]);
                if (ballast.Count > 64)
                {
                    ballast.Clear();
                }
            }
        }, TaskCreationOptions.LongRunning);

        var (idle, idleProcess, working, kernel) = await RunOnOwnThread(() =>
        {
            var sampler = ResourceSampler.ForCurrentThread();
            var process = ResourceSampler.ForProcess();
            var processAtStart = KernelCpu("/proc/self/stat");
            var window = System.Diagnostics.Stopwatch.StartNew();
            Thread.Sleep(600);
            var whileIdle = sampler.Sample();
            var processWhileIdle = process.Sample();
            var processKernel = (KernelCpu("/proc/self/stat") - processAtStart) / window.Elapsed * 100;

            var threadAtStart = KernelCpu("/proc/thread-self/stat");
            window.Restart();
            var kept = new List<byte[]>();
            while (window.ElapsedMilliseconds < 600)
            {
                if (kept.Count < 16)
                {
                    kept.Add(new byte[1 << 20]);
                }
            }

            var whileWorking = sampler.Sample();
            var threadKernel = (KernelCpu("/proc/thread-self/stat") - threadAtStart) / window.Elapsed * 100;
            GC.KeepAlive(kept);
            return (whileIdle, processWhileIdle, whileWorking, (Process: processKernel, Thread: threadKernel));
        });
        await stop.CancelAsync();
        await busy;

        // Sleeping: nearly no CPU and nothing allocated, while the process ran a busy thread beside it. How much CPU
        // that thread got depends on the machine's load, so the process's figure is held to the kernel's own count
        // for the process over the same window (stat's clock ticks: a tick or two apart), never to a fixed level.
        Assert.InRange(idle.CpuUsage, 0, 10);
        Assert.InRange(idle.MemoryUsage, 0, 1);
        Assert.True(Math.Abs(idleProcess.CpuUsage - kernel.Process) <= 8,
            $"the process sampler read {idleProcess.CpuUsage}% where the kernel counted {kernel.Process:F1}%");
        Assert.True(idleProcess.CpuUsage > idle.CpuUsage,
            $"the process used {idleProcess.CpuUsage}% while its sleeping thread used {idle.CpuUsage}%");
        // Spinning and allocating 16 MB: the CPU the kernel counted for this thread (however little a loaded
        // machine gave it), and its 16 MB (plus the list), not the other thread's gigabytes.
        Assert.True(working.CpuUsage > 0 && Math.Abs(working.CpuUsage - kernel.Thread) <= 8,
            $"a spinning thread measured {working.CpuUsage}% of a core where the kernel counted {kernel.Thread:F1}%");
        Assert.InRange(working.MemoryUsage, 16, 17);
    }

    /// <summary>
    /// utime + stime of a /proc stat file (the process's or the calling thread's), in clock ticks of 10 ms: the
    /// kernel's own count, read independently of the sampler (which reads schedstat's nanoseconds).
    /// </summary>
    private static TimeSpan KernelCpu(string statFile)
    {
        var stat = File.ReadAllText(statFile);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromMilliseconds((long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
            + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) * 10);
    }

    [Fact]
    public async Task An_in_process_runs_progress_reports_its_own_cpu_and_memory_not_the_silos()
    {
        using var temp = new TempFolder();
        // Five years of daily SPY with a 1 ms sleep before every bar: the run's thread mostly sleeps, for over a second.
        var runner = new InProcessRunner(new ThrottledMarketData(new LeanDataProvider(TestPaths.LeanData), pointsPerPause: 1));
        var request = new RunRequest(Guid.NewGuid(), 1, """
            {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"startDate":"2015-01-02",
             "endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000}
            """, temp.File("run"), TestPaths.LeanData, false, TimeSpan.FromMinutes(5));

        // Meanwhile the host is busy (a spinning thread) and holds 256 MB: a process-wide figure would show both.
        using var stop = new CancellationTokenSource();
        var ballast = Enumerable.Range(0, 256).Select(_ => new byte[1 << 20]).ToList();
        foreach (var block in ballast)
        {
            Array.Fill(block, (byte)1); // resident, not just reserved
        }

        var busy = Task.Factory.StartNew(() =>
        {
            var x = 0L;
            while (!stop.IsCancellationRequested)
            {
                x++;
            }

            return x;
        }, TaskCreationOptions.LongRunning);

        var progress = new List<System.Text.Json.JsonElement>();
        await using (var run = await runner.StartAsync(request, CancellationToken.None))
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await foreach (var line in run.Lines.ReadAllAsync(deadline.Token))
            {
                if (WorkerProcess.TypeOf(line) == "backtest_progress")
                {
                    progress.Add(WorkerProcess.Parse(line).GetProperty("data").GetProperty("performance"));
                }
            }

            Assert.Equal(0, (await run.Exit.WaitAsync(deadline.Token)).ExitCode);
        }

        await stop.CancelAsync();
        await busy;
        var silo = System.Diagnostics.Process.GetCurrentProcess().WorkingSet64 / (double)ByteSize.MiB;
        GC.KeepAlive(ballast);

        Assert.True(progress.Count >= 5, $"only {progress.Count} progress lines");
        Assert.True(silo > 256, $"the host's working set is {silo:F0} MB");
        for (var i = 0; i < progress.Count; i++)
        {
            var performance = progress[i];
            var cpu = performance.GetProperty("cpuUsage").GetDouble();
            var memory = performance.GetProperty("memoryUsage").GetDouble();
            // While the run goes, its thread sleeps most of the time: under half a core. The first line covers the
            // start-up (opening and decoding five years of data, the JIT) and the last the wind-up (metrics, results.json),
            // when the thread really is busy; they are held to less than one core. The host had a core busy beside the
            // run all along, so a process-wide figure would exceed 100% on every line.
            var bound = i == 0 || i == progress.Count - 1 ? 100 : 50;
            Assert.True(cpu < bound, $"a mostly sleeping run reported {cpu}% of a core on progress line {i + 1}");
            // What the run's thread allocated: megabytes, far below the host's working set.
            Assert.True(memory < 64, $"the run reported {memory} MB while the host holds {silo:F0} MB");
        }

        Assert.True(progress[^1].GetProperty("memoryUsage").GetDouble() > 0, "the run allocated nothing?");
        Assert.Contains(progress, p => p.GetProperty("cpuUsage").GetDouble() > 0);
    }

    private static Task<T> RunOnOwnThread<T>(Func<T> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
