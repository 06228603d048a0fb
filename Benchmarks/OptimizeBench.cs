using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backtesting.Engine;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>optimize [--trials N] [--rounds N] [--bare-runs N]</c>: the issue-15 grid, MovingAverageCross fastPeriod 1-50 x
/// slowPeriod 51-250 (SMA) on SPY daily 2016-01-01..2020-12-31, run through the TrialRunner in this process and through the
/// worker's optimize-batch as a process, against a bare engine run (BacktestRun over the same cached bars). Rounds alternate
/// bare runs and trials so both see the same machine. Figures are printed, never asserted, each with the load average.
/// </summary>
internal static class OptimizeBench
{
    public static int Run(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--trials", "--rounds", "--bare-runs") is not { } options)
        {
            return 2;
        }

        var trials = Math.Min(10_000, options.Count("--trials", 10_000));
        var rounds = options.Count("--rounds", 2);
        var bareRuns = options.Count("--bare-runs", 300);

        var root = RepositoryRoot.Find();
        var dataRoot = Path.Combine(root, "data", "lean");
        var lean = new LeanDataProvider(dataRoot);
        var job = Job();
        var (errors, plan) = OptimizationValidator.Validate(job, lean, StrategyCatalog.Templates, ValidationPolicy.Service, DateOnly.FromDateTime(DateTime.UtcNow));
        if (plan is null)
        {
            Console.Error.WriteLine(string.Join("\n", errors.Select(e => $"{e.Field}: {e.Message}")));
            return 1;
        }

        var points = plan.CreateMethod().Propose([], [], trials);
        Console.WriteLine($"optimize: MovingAverageCross grid {plan.PlannedTrials:N0} points (fast 1-50 x slow 51-250, SMA), SPY daily 2016-2020; running {points.Count:N0}");
        Console.WriteLine($"host: {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        // A bare run: the same config through BacktestRun, over the provider's cached daily bars.
        var bareSpec = ConfigValidator.Validate(plan.TrialConfig(points[0].Parameters) with { StrategyConfig = plan.StrategyConfig(Point(10, 100)) },
            lean, StrategyCatalog.Templates, ValidationPolicy.Service, DateOnly.FromDateTime(DateTime.UtcNow)).Spec!;
        // The bare run reads the same bars the trials read: the preloaded arrays. The standalone run is a backtest as the
        // worker runs one today, over the data folder's provider (its data versions and windowing per run), for context.
        var bareData = new PreloadedMarketData(lean);
        new BacktestRun(bareSpec, bareData, StrategyCatalog.Templates).Execute(); // warm: read the bars, tier up
        new BacktestRun(bareSpec, lean, StrategyCatalog.Templates).Execute();

        for (var round = 1; round <= rounds; round++)
        {
            // Wall time on a shared machine measures the neighbours too; CPU time of this process is the cost itself.
            var bare = Stopwatch.StartNew();
            var bareCpu = Cpu();
            for (var r = 0; r < bareRuns; r++)
            {
                new BacktestRun(bareSpec, bareData, StrategyCatalog.Templates).Execute();
            }

            var bareMs = bare.Elapsed.TotalMilliseconds / bareRuns;
            var bareCpuMs = (Cpu() - bareCpu).TotalMilliseconds / bareRuns;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round} bare engine run      : {bareMs:F3} ms/run wall, {bareCpuMs:F3} ms/run CPU over {bareRuns} runs, same bars in memory  (load {Load()})"));

            var standalone = Stopwatch.StartNew();
            var standaloneCpu = Cpu();
            for (var r = 0; r < bareRuns; r++)
            {
                new BacktestRun(bareSpec, lean, StrategyCatalog.Templates).Execute();
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round} standalone backtest  : {standalone.Elapsed.TotalMilliseconds / bareRuns:F3} ms/run wall, {(Cpu() - standaloneCpu).TotalMilliseconds / bareRuns:F3} ms/run CPU, over the data folder's provider  (load {Load()})"));

            var runner = new TrialRunner(plan, new PreloadedMarketData(lean), StrategyCatalog.Templates);
            var clock = Stopwatch.StartNew();
            var cpu = Cpu();
            var feasible = 0;
            foreach (var point in points)
            {
                feasible += runner.Run(point).Feasible ? 1 : 0;
            }

            var seconds = clock.Elapsed.TotalSeconds;
            var perTrialMs = seconds * 1000 / points.Count;
            var perTrialCpuMs = (Cpu() - cpu).TotalMilliseconds / points.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round} in-process, 1 thread : {points.Count / seconds:F0} trials/s, {seconds:F2} s for {points.Count:N0} ({feasible:N0} feasible), " +
                $"{perTrialMs:F3} ms/trial wall = {perTrialMs / bareMs:F2}x bare, {perTrialCpuMs:F3} ms/trial CPU = {perTrialCpuMs / bareCpuMs:F2}x bare  (load {Load()})"));

            var parallel = Stopwatch.StartNew();
            var parallelRunner = new TrialRunner(plan, new PreloadedMarketData(lean), StrategyCatalog.Templates);
            points.AsParallel().WithDegreeOfParallelism(Environment.ProcessorCount).ForAll(p => parallelRunner.Run(p));
            var parallelSeconds = parallel.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round} in-process, {Environment.ProcessorCount} threads: {points.Count / parallelSeconds:F0} trials/s, {parallelSeconds:F2} s  (load {Load()})"));

            var (processSeconds, rate, peakMb) = RunWorker(job, points, dataRoot);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round} worker optimize-batch: {points.Count / processSeconds:F0} trials/s start to exit ({processSeconds:F2} s), {rate:F0} trials/s as it reports, peak {peakMb:F0} MB  (load {Load()})"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"this process: peak {PeakMb(Environment.ProcessId):F0} MB  (load {Load()})"));
        return 0;
    }

    private static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static IReadOnlyDictionary<string, JsonElement> Point(int fast, int slow) => new Dictionary<string, JsonElement>
    {
        ["fastPeriod"] = JsonSerializer.SerializeToElement(fast),
        ["slowPeriod"] = JsonSerializer.SerializeToElement(slow),
    };

    private static OptimizationConfig Job() => OptimizationValidator.Parse("""
        {"name":"issue 15 grid","baseConfig":{"strategyClass":"MovingAverageCross","strategyConfig":{"maType":"SMA"},
          "startDate":"2016-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,
          "dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
          "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}},
         "parameters":{"fastPeriod":{"min":1,"max":50,"step":1},"slowPeriod":{"min":51,"max":250,"step":1}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"}}
        """).Config!;

    /// <summary>Runs the points as one batch in a worker process; wall seconds, its reported rate, and its peak resident MB.</summary>
    private static (double Seconds, double Rate, double PeakMb) RunWorker(OptimizationConfig job, IReadOnlyList<TrialPoint> points, string dataRoot)
    {
        var temp = Path.Combine(Path.GetTempPath(), "backtesting-optimize-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var batch = new OptimizationBatch
            {
                OptimizationId = "bench",
                Config = job,
                Trials = points.Select(p => new BatchTrial { Trial = p.Trial, Parameters = new(p.Parameters) }).ToList(),
            };
            var batchPath = Path.Combine(temp, "batch.json");
            File.WriteAllText(batchPath, JsonSerializer.Serialize(batch, JsonDefaults.Options));
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Backtesting.Worker.dll"), "optimize-batch", "--batch", batchPath,
                         "--output", Path.Combine(temp, "run"), "--data", dataRoot })
            {
                start.ArgumentList.Add(arg);
            }

            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            var peak = 0.0;
            var rate = 0.0;
            var lines = 0;
            var stderr = process.StandardError.ReadToEndAsync();
            using var sampler = new Timer(_ => peak = Math.Max(peak, PeakMb(process.Id)), null, 0, 100);
            while (process.StandardOutput.ReadLine() is { } line)
            {
                lines++;
                if (line.Contains("\"optimization_batch_complete\"", StringComparison.Ordinal))
                {
                    rate = JsonDocument.Parse(line).RootElement.GetProperty("data").GetProperty("trialsPerSecond").GetDouble();
                    peak = Math.Max(peak, PeakMb(process.Id));
                }
            }

            process.WaitForExit();
            var seconds = clock.Elapsed.TotalSeconds;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"optimize-batch failed (exit {process.ExitCode}): {stderr.Result}");
            }

            return (seconds, rate, peak);
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    /// <summary>A process's peak resident set (VmHWM) in MB; 0 once it is gone.</summary>
    private static double PeakMb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
