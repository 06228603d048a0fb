using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>precompile [--batches N] [--trials-per-batch N] [--rounds N]</c>: what compiling a custom strategy once per job saves.
/// The example SmaCross upload over the grid (SPY daily 2016-2020), split into N batches of the given size, each
/// run by the worker's <c>optimize-batch</c> as a process: before, each batch compiles the source itself
/// (<c>--strategy-source</c>); after, one compile-only run (<c>compile --output</c>) and every batch loads its assembly
/// after verifying it (<c>--strategy-assembly</c>). Rounds alternate before and after; the figures are the workers' CPU
/// seconds (user + system, as this process reaps them) and the wall time, each with the load average.
/// </summary>
internal static class PrecompileBench
{
    public static int Run(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--batches", "--trials-per-batch", "--rounds") is not { } options)
        {
            return 2;
        }

        var batches = options.Count("--batches", 4);
        var perBatch = options.Count("--trials-per-batch", 50);
        var rounds = options.Count("--rounds", 2);
        var root = RepositoryRoot.Find();
        var dataRoot = Path.Combine(root, "data", "lean");
        var source = File.ReadAllText(Path.Combine(root, "examples", "strategies", "SmaCross.cs"));
        var compiled = StrategyCompiler.Compile(source);
        if (!compiled.Ok)
        {
            Console.Error.WriteLine("examples/strategies/SmaCross.cs does not compile: " + string.Join("; ", compiled.Diagnostics));
            return 1;
        }

        var catalog = StrategyCatalog.Templates.With([compiled.Strategy!.ToDescriptor(compiled.SourceHash)]);
        var job = OptimizationValidator.Parse(Grid).Config!;
        var (errors, plan) = OptimizationValidator.Validate(job, new LeanDataProvider(dataRoot), catalog, ValidationPolicy.Service,
            DateOnly.FromDateTime(DateTime.UtcNow));
        if (plan is null)
        {
            Console.Error.WriteLine(string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
            return 1;
        }

        var points = plan.CreateMethod().Propose([], [], batches * perBatch);
        var temp = Path.Combine(Path.GetTempPath(), "backtesting-precompile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var sourcePath = Path.Combine(temp, "strategy.cs");
            File.WriteAllText(sourcePath, source);
            var batchPaths = Enumerable.Range(0, batches).Select(b =>
            {
                var path = Path.Combine(temp, $"batch-{b}.json");
                File.WriteAllText(path, JsonSerializer.Serialize(new OptimizationBatch
                {
                    OptimizationId = "bench",
                    Batch = b,
                    Config = job,
                    Trials = points.Skip(b * perBatch).Take(perBatch).Select(p => new BatchTrial { Trial = p.Trial, Parameters = new(p.Parameters) }).ToList(),
                }, JsonDefaults.Options));
                return path;
            }).ToList();

            Console.WriteLine($"precompile: the SmaCross upload over SPY daily 2016-2020, {batches} batch(es) of {perBatch} trials, worker processes; " +
                              $"{rounds} round(s) alternating before (each batch compiles) and after (one compile-only run, batches load it)");
            Console.WriteLine($"host: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  (load {Load()})");
            for (var round = 1; round <= rounds; round++)
            {
                var run = Path.Combine(temp, $"round-{round}");
                var (beforeCpu, beforeWall) = Measure(() =>
                {
                    for (var b = 0; b < batches; b++)
                    {
                        Worker("optimize-batch", "--batch", batchPaths[b], "--output", Path.Combine(run, $"before-{b}"), "--data", dataRoot,
                            "--strategy-source", sourcePath);
                    }
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round} before: {batches} batches each compiling: {beforeCpu:F2} CPU-s of the workers, {beforeWall:F2} s wall  (load {Load()})"));

                var folder = Path.Combine(run, "compiled");
                var (compileCpu, compileWall) = Measure(() => Worker("compile", "--source", sourcePath, "--output", folder));
                var (afterCpu, afterWall) = Measure(() =>
                {
                    for (var b = 0; b < batches; b++)
                    {
                        Worker("optimize-batch", "--batch", batchPaths[b], "--output", Path.Combine(run, $"after-{b}"), "--data", dataRoot,
                            "--strategy-assembly", folder);
                    }
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round} after : one compile {compileCpu:F2} CPU-s ({compileWall:F2} s) + {batches} batches loading it {afterCpu:F2} CPU-s ({afterWall:F2} s) " +
                    $"= {compileCpu + afterCpu:F2} CPU-s, {compileWall + afterWall:F2} s wall; saved {beforeCpu - compileCpu - afterCpu:F2} CPU-s  (load {Load()})"));
            }

            return 0;
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    /// <summary>The CPU seconds of the worker processes <paramref name="work"/> ran and waited for, and its wall seconds.</summary>
    private static (double Cpu, double Wall) Measure(Action work)
    {
        var before = ProcCpu.Of(Environment.ProcessId).Children;
        var clock = Stopwatch.StartNew();
        work();
        return (ProcCpu.Of(Environment.ProcessId).Children - before, clock.Elapsed.TotalSeconds);
    }

    private static void Worker(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Backtesting.Worker.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // As the silo's runners start a batch or a compile.
        foreach (var (name, value) in Backtesting.Grains.Runners.WorkerRuntimeSettings.For(batch: args[0] == "optimize-batch"))
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != ExitCodes.Completed)
        {
            throw new InvalidOperationException($"worker {args[0]} failed (exit {process.ExitCode}): {stderr.Result}{stdout.Result}");
        }
    }

    private const string Grid = """
        {"name":"precompile grid","baseConfig":{"strategyClass":"SmaCross","strategyConfig":{"maType":"SMA"},
          "startDate":"2016-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,
          "dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
          "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}},
         "parameters":{"fastPeriod":{"min":1,"max":50,"step":1},"slowPeriod":{"min":51,"max":250,"step":1}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"}}
        """;

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
