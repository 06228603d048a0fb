using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Backtesting.Benchmarks;

/// <summary>
/// Which JIT and runtime settings the worker should ship with. Each setting is a way of publishing the worker (IL,
/// or ahead of time with ReadyToRun) and a set of runtime switches (DOTNET_ environment variables). For each it
/// measures the whole worker process (wall time, and CPU time from this process's cutime and cstime in
/// /proc/self/stat after the child is reaped) on a one-year and a ten-year minute SMA-cross run, and the engine's
/// steady-state rate on the in-memory scenario (the e2e child, with the ReadyToRun engine swapped in for the
/// ReadyToRun settings). Settings alternate within each round, so a neighbour's load falls on all of them alike.
/// The choice: the best whole-process time (CPU time, which a neighbour's load does not inflate as it does the wall
/// time) among the settings that keep at least 95% of the current worker's steady-state rate.
/// </summary>
internal static class JitSettings
{
    private const double SteadyStateFloor = 0.95;

    /// <summary>A publish of the worker and the environment its process gets.</summary>
    private sealed record Setting(string Name, bool ReadyToRun, IReadOnlyDictionary<string, string> Environment, string What);

    // Every setting names its call counting delay: the e2e child that measures the engine has its own runtimeconfig
    // (delay 0), and the worker and that child must run under the same switches.
    private const string Delay = "DOTNET_TC_CallCountingDelayMs";

    private static readonly Setting[] Settings =
    [
        new("il delay-0", false, Env((Delay, "0")), "IL publish, call counting at once: the worker before ReadyToRun"),
        new("il", false, Env((Delay, "100")), "IL, the runtime's default call counting delay (100 ms)"),
        new("il tc-off", false, Env((Delay, "100"), ("DOTNET_TieredCompilation", "0")), "IL, tiered compilation off: every method fully optimized at once"),
        new("r2r delay-0", true, Env((Delay, "0")), "ReadyToRun publish, call counting at once"),
        new("r2r", true, Env((Delay, "100")), "ReadyToRun, the runtime's default delay: the worker's setting now"),
        new("r2r tc-off", true, Env((Delay, "100"), ("DOTNET_TieredCompilation", "0")), "ReadyToRun, tiered compilation off (precompiled code is final)"),
        new("r2r no-quickjit-loops", true, Env((Delay, "100"), ("DOTNET_TC_QuickJitForLoops", "0")), "ReadyToRun, methods with loops JIT-ed fully optimized at once"),
        new("r2r pgo-off", true, Env((Delay, "100"), ("DOTNET_TieredPGO", "0")), "ReadyToRun, no profile-guided tier 1"),
    ];

    private static Dictionary<string, string> Env(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private sealed class Figures
    {
        public List<double> OneYearWall { get; } = [];
        public List<double> OneYearCpu { get; } = [];
        public List<double> TenYearWall { get; } = [];
        public List<double> TenYearCpu { get; } = [];
        public List<double> Steady { get; } = [];
        public List<double> Whole { get; } = [];
    }

    public static int Run(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--data", "--rounds", "--bars") is not { } options)
        {
            return 2;
        }

        var data = options.FullPath("--data");
        var rounds = options.Count("--rounds", 3);
        var bars = options.LongCount("--bars", 10_000_000L);

        var root = RepositoryRoot.Find();
        var temp = Path.Combine(Path.GetTempPath(), "backtesting-jit-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            Console.WriteLine("Backtesting JIT and runtime settings of the worker");
            Console.WriteLine($"  date      {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} logical cores, load {EndToEnd.LoadAverage()}");
            var il = Path.Combine(temp, "worker-il");
            var r2r = Path.Combine(temp, "worker-r2r");
            Publish(root, il, readyToRun: false);
            Publish(root, r2r, readyToRun: true);
            var engineR2r = EngineWithReadyToRun(temp, r2r);

            if (data is null)
            {
                // The real benchmark's data (synthetic SPY minutes over 2011-2020, same seed), so both measure the same
                // workload; --data DIR takes any LEAN data root with SPY minute bars over the same years instead.
                Console.Write("  data      ");
                data = RealData.GenerateMinutes(root, temp);
            }
            else
            {
                Console.WriteLine($"  data      {data}");
            }

            var oneYear = WriteConfig(temp, "one-year", $"{LastYear}-01-01", $"{LastYear}-12-31");
            var tenYears = WriteConfig(temp, "ten-years", $"{FirstYear}-01-01", $"{LastYear}-12-31");
            var figures = Settings.ToDictionary(s => s, _ => new Figures());
            for (var round = 1; round <= rounds; round++)
            {
                Console.WriteLine($"round {round} of {rounds} (load {EndToEnd.LoadAverage()})");
                foreach (var setting in Settings)
                {
                    var worker = Path.Combine(setting.ReadyToRun ? r2r : il, "Backtesting.Worker");
                    var f = figures[setting];
                    var (wall1, cpu1) = RunWorker(worker, setting, oneYear, data, Path.Combine(temp, "out"));
                    var (wall10, cpu10) = RunWorker(worker, setting, tenYears, data, Path.Combine(temp, "out"));
                    var (whole, steady) = RunEngine(setting.ReadyToRun ? engineR2r : null, setting, bars);
                    f.OneYearWall.Add(wall1);
                    f.OneYearCpu.Add(cpu1);
                    f.TenYearWall.Add(wall10);
                    f.TenYearCpu.Add(cpu10);
                    f.Whole.Add(whole);
                    f.Steady.Add(steady);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {setting.Name,-22} 1y {wall1,6:F3} s wall {cpu1,6:F2} s cpu   10y {wall10,6:F3} s wall {cpu10,6:F2} s cpu   engine {whole / 1e6,5:F1}M whole {steady / 1e6,5:F1}M 2nd half"));
                }
            }

            PrintTable(figures, rounds, bars);
            return 0;
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    private static readonly int FirstYear = RealData.First.Year;
    private static readonly int LastYear = RealData.Last.Year;

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static void PrintTable(Dictionary<Setting, Figures> figures, int rounds, long bars)
    {
        var baseline = figures[Settings[0]];
        var baselineSteady = Median(baseline.Steady);
        var eligible = figures.Where(p => Median(p.Value.Steady) >= SteadyStateFloor * baselineSteady).ToList();
        // By CPU time: on a shared machine the wall time of a process measures its neighbours as much as itself,
        // while its CPU time (the JIT's threads included) is its own work.
        var chosen = eligible.Count == 0 ? null : eligible.MinBy(p => Median(p.Value.OneYearCpu) + Median(p.Value.TenYearCpu)).Key;
        Console.WriteLine();
        Console.WriteLine($"medians of {rounds} round(s); wall and cpu are the whole worker process; engine: {bars / 1e6:F0}M bars in memory, in a fresh process");
        Console.WriteLine($"{"setting",-22} {"1y wall",8} {"1y cpu",7} {"10y wall",9} {"10y cpu",8} {"engine",8} {"2nd half",9} {"vs il d-0",9}");
        Console.WriteLine(new string('-', 88));
        foreach (var setting in Settings)
        {
            var f = figures[setting];
            var steady = Median(f.Steady);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{setting.Name,-22} {Median(f.OneYearWall),8:F3} {Median(f.OneYearCpu),7:F2} {Median(f.TenYearWall),9:F3} {Median(f.TenYearCpu),8:F2} " +
                $"{Median(f.Whole) / 1e6,7:F1}M {steady / 1e6,8:F1}M {steady / baselineSteady,9:P0}{(setting == chosen ? "  <- chosen" : "")}"));
        }

        Console.WriteLine();
        foreach (var setting in Settings)
        {
            Console.WriteLine($"  {setting.Name,-22} {setting.What}");
        }

        Console.WriteLine(chosen is null
            ? "no setting keeps 95% of the old worker's steady-state rate"
            : $"chosen: {chosen.Name}, the least 1y + 10y CPU time of a whole worker process among the settings within {1 - SteadyStateFloor:P0} of the old worker's (il delay-0) steady-state rate");
        Console.WriteLine($"load average at the end {EndToEnd.LoadAverage()}");
    }

    private static void Publish(string root, string directory, bool readyToRun)
    {
        Console.WriteLine($"  publishing the worker ({(readyToRun ? "ReadyToRun" : "IL")}) ...");
        // The one way the worker is published (scripts/lib.sh); the IL build only turns ReadyToRun off.
        var start = new ProcessStartInfo("bash") { WorkingDirectory = root };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("source scripts/lib.sh && publish_worker \"$1\" \"\" -p:PublishReadyToRun=$2");
        start.ArgumentList.Add("publish");
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(readyToRun ? "true" : "false");
        var (exit, output, error) = EndToEnd.RunToEnd(start);
        if (exit != 0)
        {
            throw new InvalidOperationException($"publishing the worker failed (exit {exit}):\n{output}\n{error}");
        }
    }

    /// <summary>
    /// A copy of this program whose engine is the ReadyToRun-compiled one from the published worker, so the in-memory
    /// scenario measures the engine's code as the ReadyToRun worker runs it.
    /// </summary>
    private static string EngineWithReadyToRun(string temp, string published)
    {
        var copy = Path.Combine(temp, "bench-r2r");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        File.Copy(Path.Combine(published, "Backtesting.Engine.dll"), Path.Combine(copy, "Backtesting.Engine.dll"), overwrite: true);
        return Path.Combine(copy, Path.GetFileName(typeof(JitSettings).Assembly.Location));
    }

    private static string WriteConfig(string temp, string name, string start, string end)
    {
        var config = new JsonObject
        {
            ["strategyClass"] = "MovingAverageCross",
            ["strategyConfig"] = new JsonObject { ["fastPeriod"] = 10, ["slowPeriod"] = 30 },
            ["startDate"] = start,
            ["endDate"] = end,
            ["instruments"] = new JsonArray("SPY"),
            ["initialBalance"] = 100_000,
            ["dataConfiguration"] = new JsonObject { ["resolution"] = "minute", ["adjustment"] = "raw" },
            ["executionSettings"] = new JsonObject { ["fillModel"] = "nextBarOpen" },
            ["riskSettings"] = new JsonObject { ["positionSizing"] = new JsonObject { ["mode"] = "fixedQuantity", ["quantity"] = 100 } },
        };
        var path = Path.Combine(temp, name + ".json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static (double Wall, double Cpu) RunWorker(string worker, Setting setting, string config, string data, string output)
    {
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var start = new ProcessStartInfo(worker);
        foreach (var arg in new[] { "--config", config, "--output", output, "--data", data })
        {
            start.ArgumentList.Add(arg);
        }

        Apply(start, setting);
        var cpuBefore = ChildrenCpuSeconds();
        var clock = Stopwatch.StartNew();
        var (exit, stdout, error) = EndToEnd.RunToEnd(start);
        var wall = clock.Elapsed.TotalSeconds;
        var cpu = ChildrenCpuSeconds() - cpuBefore;
        if (exit != 0)
        {
            throw new InvalidOperationException($"the worker ({setting.Name}) failed (exit {exit}):\n{Tail(stdout)}\n{Tail(error)}");
        }

        return (wall, cpu);
    }

    private static (double Whole, double Steady) RunEngine(string? benchmarkCopy, Setting setting, long bars)
    {
        var start = SelfStart.Info();
        if (benchmarkCopy is not null)
        {
            start = new ProcessStartInfo("dotnet");
            start.ArgumentList.Add(benchmarkCopy);
        }

        start.ArgumentList.Add(EndToEnd.ChildMode);
        start.ArgumentList.Add("memory");
        start.ArgumentList.Add(bars.ToString(CultureInfo.InvariantCulture));
        Apply(start, setting);
        var (exit, output, error) = EndToEnd.RunToEnd(start);
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (exit != 0 || line is null)
        {
            throw new InvalidOperationException($"the engine scenario ({setting.Name}) failed (exit {exit}):\n{output}\n{error}");
        }

        var values = line["RESULT ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => double.Parse(pair[1], CultureInfo.InvariantCulture));
        return (values["bars"] / values["seconds"], values["secondHalfRate"]);
    }

    private static void Apply(ProcessStartInfo start, Setting setting)
    {
        // Nothing inherited from this process's own runtime settings: each child gets exactly its setting.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("DOTNET_T", StringComparison.Ordinal) || k.StartsWith("DOTNET_ReadyToRun", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in setting.Environment)
        {
            start.Environment[key] = value;
        }
    }

    /// <summary>CPU seconds of this process's reaped children (cutime + cstime, fields 16 and 17 of /proc/self/stat).</summary>
    private static double ChildrenCpuSeconds()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        // The command name (field 2) may hold spaces: the fields after it start past its closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): cutime is field 16, cstime field 17.
        var ticks = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return ticks / (double)ClockTicksPerSecond;
    }

    // USER_HZ: 100 on every Linux architecture .NET runs on.
    private const int ClockTicksPerSecond = 100;

    private static string Tail(string text) => text.Length <= 4_000 ? text : text[^4_000..];
}
