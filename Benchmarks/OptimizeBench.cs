using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using Backtesting.Engine.Data.Lean;
using Backtesting.Grains;
using Backtesting.Grains.Runners;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>optimize [--trials N] [--rounds N] [--bare-runs N]</c>: the issue-15 grid, MovingAverageCross fastPeriod 1-50 x
/// slowPeriod 51-250 (SMA) on SPY daily 2016-01-01..2020-12-31, run through the TrialRunner in this process and through the
/// worker's optimize-batch as a process, against a bare engine run (BacktestRun over the same cached bars). Rounds alternate
/// bare runs and trials so both see the same machine. Figures are printed, never asserted, each with the load average.
/// <c>--through api</c> runs the grid as a job through the API and the cluster instead (<see cref="OptimizeThroughApi"/>);
/// <c>--minutes N</c> runs N trials over a year of synthetic minute bars in the worker (<see cref="RunMinutes"/>).
/// </summary>
internal static class OptimizeBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--trials", "--rounds", "--bare-runs", "--through", "--runner", "--batch-trials", "--batch-cpus", "--minutes") is not { } options)
        {
            return 2;
        }

        var trials = Math.Min(10_000, options.Count("--trials", 10_000));
        var rounds = options.Count("--rounds", 2);
        var bareRuns = options.Count("--bare-runs", 300);
        if (options.Text("--minutes", "") is { Length: > 0 })
        {
            return RunMinutes(options.Count("--minutes", 1_000), rounds);
        }

        if (options.Text("--through", "") is { Length: > 0 } through)
        {
            if (through != "api")
            {
                Console.Error.WriteLine($"--through takes 'api', not '{through}'");
                return 2;
            }

            var runners = options.Text("--runner", "docker,process,inProcess").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (runners.FirstOrDefault(r => r is not ("docker" or "process" or "inProcess")) is { } unknown)
            {
                Console.Error.WriteLine($"--runner takes docker, process and inProcess (comma-separated), not '{unknown}'");
                return 2;
            }

            // "auto": the setting left unset, so the silo's defaults decide (the batch sizing rule, the batch's CPU grant).
            var batchSizes = options.Text("--batch-trials", "auto").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(b => b == "auto" ? (int?)null : Math.Max(1, int.Parse(b, CultureInfo.InvariantCulture))).ToArray();
            var batchCpus = options.Text("--batch-cpus", "auto").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => c == "auto" ? (double?)null : double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            Console.WriteLine($"optimize through the API: MovingAverageCross grid fast 1-50 x slow 51-250 (SMA), SPY daily 2016-2020, {trials:N0} trials; " +
                              $"runners {string.Join(", ", runners)}; batches of {string.Join(" / ", batchSizes.Select(b => b?.ToString(CultureInfo.InvariantCulture) ?? "auto"))} trials; " +
                              $"a batch's CPU grant {string.Join(" / ", batchCpus.Select(c => c?.ToString(CultureInfo.InvariantCulture) ?? "auto"))}; {rounds} job(s) each");
            Console.WriteLine($"host: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  (load {Load()})");
            var figures = await OptimizeThroughApi.RunAsync(JobJson(trials), trials, runners, batchSizes, batchCpus, rounds);
            Console.WriteLine();
            foreach (var figure in figures)
            {
                Console.WriteLine(OptimizeThroughApi.Row(figure));
            }

            return 0;
        }

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

            var (processSeconds, rate, peakMb, _) = RunWorker(job, points, dataRoot);
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

    private const string Grid = """
        {"name":"issue 15 grid","baseConfig":{"strategyClass":"MovingAverageCross","strategyConfig":{"maType":"SMA"},
          "startDate":"2016-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,
          "dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
          "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}},
         "parameters":{"fastPeriod":{"min":1,"max":50,"step":1},"slowPeriod":{"min":51,"max":250,"step":1}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"}}
        """;

    // The same grid over one year of synthetic minute bars (the real benchmark's series, 2020 only): 252 sessions x 390.
    private const string MinuteGrid = """
        {"name":"issue 15 minute grid","baseConfig":{"strategyClass":"MovingAverageCross","strategyConfig":{"maType":"SMA"},
          "startDate":"2020-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":1000000,
          "dataConfiguration":{"resolution":"minute","adjustment":"raw"},
          "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}},
          "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}},
         "parameters":{"fastPeriod":{"min":1,"max":50,"step":1},"slowPeriod":{"min":51,"max":250,"step":1}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"}}
        """;

    private static OptimizationConfig Job() => OptimizationValidator.Parse(Grid).Config!;

    /// <summary>The grid as a request body, bounded to its first <paramref name="trials"/> points (grid order) when fewer than all.</summary>
    internal static string JobJson(int trials)
    {
        var job = JsonNode.Parse(Grid)!.AsObject();
        if (trials < 10_000)
        {
            job["maxTrials"] = trials;
        }

        return job.ToJsonString();
    }

    /// <summary>
    /// <c>--minutes N</c>: the first N points of the grid over one year (2020) of synthetic SPY minute bars
    /// (<see cref="SyntheticLeanMinutes"/>, seed 42, as the real benchmark's), as one <c>worker optimize-batch</c> process
    /// per round: trials per second, and the worker's peak resident set as its trial lines pass 100, 500, 1,000 ... trials
    /// (VmHWM read when that line arrives), which must not grow with the trials.
    /// </summary>
    private static int RunMinutes(int trials, int rounds)
    {
        var root = RepositoryRoot.Find();
        var temp = Path.Combine(Path.GetTempPath(), "backtesting-optimize-minutes-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var clock = Stopwatch.StartNew();
            var summary = SyntheticLeanMinutes.Generate(Path.Combine(root, "data", "lean"), Path.Combine(temp, "lean"),
                new DateOnly(2020, 1, 1), new DateOnly(2020, 12, 31), seed: 42);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"generated {summary.Days} sessions, {summary.Bars:N0} minute bars ({summary.First:yyyy-MM-dd}..{summary.Last:yyyy-MM-dd}) in {clock.Elapsed.TotalSeconds:F1} s"));
            var job = OptimizationValidator.Parse(MinuteGrid).Config!;
            var (errors, plan) = OptimizationValidator.Validate(job, new LeanDataProvider(summary.DataRoot), StrategyCatalog.Templates, ValidationPolicy.Service,
                DateOnly.FromDateTime(DateTime.UtcNow));
            if (plan is null)
            {
                Console.Error.WriteLine(string.Join("\n", errors.Select(e => $"{e.Field}: {e.Message}")));
                return 1;
            }

            var points = plan.CreateMethod().Propose([], [], (int)Math.Min(trials, plan.PlannedTrials));
            var marks = new[] { 100, 500, 1_000, 2_000, 5_000, 10_000 }.Where(m => m < points.Count).Append(points.Count).ToArray();
            Console.WriteLine($"optimize --minutes: MovingAverageCross grid (SMA), first {points.Count:N0} points in grid order (fast 1.., slow 51-250), " +
                              $"one worker optimize-batch per round over {summary.Bars:N0} bars each");
            Console.WriteLine($"host: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  (load {Load()})");
            for (var round = 1; round <= rounds; round++)
            {
                var (seconds, rate, peakMb, atMarks) = RunWorker(job, points, summary.DataRoot, marks);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round} worker optimize-batch, minute bars: {points.Count / seconds:F1} trials/s start to exit ({seconds:F1} s for {points.Count:N0}), " +
                    $"{rate:F1} trials/s as it reports = {rate * summary.Bars / 1e6:F1}M bars/s; peak {peakMb:F0} MB  (load {Load()})"));
                Console.WriteLine("        peak resident set by trials done: " + string.Join(", ", atMarks.Select(m =>
                    string.Create(CultureInfo.InvariantCulture, $"{m.Trials:N0} trials {m.PeakMb:F0} MB (at {m.Seconds:F1} s)"))));
            }

            return 0;
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    /// <summary>
    /// Runs the points as one batch in a worker process; wall seconds, its reported rate, its peak resident MB, and its peak
    /// (VmHWM) and elapsed seconds as the trial line of each of <paramref name="marks"/> trials done arrives.
    /// </summary>
    private static (double Seconds, double Rate, double PeakMb, IReadOnlyList<(int Trials, double PeakMb, double Seconds)> Marks) RunWorker(
        OptimizationConfig job, IReadOnlyList<TrialPoint> points, string dataRoot, IReadOnlyList<int>? marks = null)
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

            // As the silo's runners start a batch.
            foreach (var (name, value) in Backtesting.Grains.Runners.WorkerRuntimeSettings.For(batch: true))
            {
                start.Environment[name] = value;
            }

            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            var peak = 0.0;
            var rate = 0.0;
            var trialLines = 0;
            var atMarks = new List<(int Trials, double PeakMb, double Seconds)>();
            var stderr = process.StandardError.ReadToEndAsync();
            using var sampler = new Timer(_ => peak = Math.Max(peak, PeakMb(process.Id)), null, 0, 100);
            while (process.StandardOutput.ReadLine() is { } line)
            {
                if (line.Contains("\"optimization_trial\"", StringComparison.Ordinal) && marks is not null && marks.Contains(++trialLines))
                {
                    atMarks.Add((trialLines, PeakMb(process.Id), clock.Elapsed.TotalSeconds));
                }

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

            return (seconds, rate, peak, atMarks);
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
