using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Data;
using Backtesting.Engine;

namespace Backtesting.Benchmarks;

/// <summary>
/// The end-to-end benchmark: each scenario runs in a child process of this program (or, for the worker
/// scenario, as a whole worker process), then one table of the figures, their ratios and the goals.
/// </summary>
internal static class EndToEnd
{
    public const string ChildMode = "e2e-child";

    private const double InMemoryGoal = 20_000_000;
    private const double FromDiskGoal = 5_000_000;
    private const double PeakMemoryGoalMb = 300;
    private const double WorkerGoalSeconds = 1;
    private const double CeilingShareGoal = 0.2;

    private sealed record Row(string Key, string Name, long Bars, double Seconds, double FirstRate, double SteadyRate, double PeakMb, double ResultsMb, string Trades, string Cpu, string Note = "", string Orders = "", double CpuSeconds = double.NaN)
    {
        public double BarsPerSecond => Bars / Seconds;
    }

    public static int Run(string[] args)
    {
        var bars = 10_000_000L;
        var smallBars = 1_000_000L;
        var instruments = 50;
        var workerRuns = 3;
        var repeat = 3;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--bars" when value is not null:
                    bars = long.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--small-bars" when value is not null:
                    smallBars = long.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--instruments" when value is not null:
                    instruments = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--repeat" when value is not null:
                    repeat = Math.Max(1, int.Parse(value, CultureInfo.InvariantCulture));
                    i++;
                    break;
                case "--worker-runs" when value is not null:
                    workerRuns = Math.Max(1, int.Parse(value, CultureInfo.InvariantCulture));
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"unknown or incomplete option '{args[i]}'");
                    return 2;
            }
        }

        var root = RepositoryRoot.Find();
        PrintMachine();
        var workerDll = EnsureWorkerBuilt(root);

        var temp = Path.Combine(Path.GetTempPath(), "backtesting-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var rows = new List<Row>();
            Console.WriteLine($"(a) {bars:N0} synthetic minute bars in memory, {repeat} run(s) ...");
            rows.Add(RunChildMedian(repeat, "a", $"a. MA cross, {Short(bars)} bars in memory", "memory", bars.ToString(CultureInfo.InvariantCulture)));
            Console.WriteLine($"(a') the same {bars:N0} bars through a bare hand-written cross over an array (the ceiling) ...");
            var ceiling = RunCeiling(bars);
            Console.WriteLine($"(a) {smallBars:N0} synthetic minute bars in memory ...");
            rows.Add(RunChild("a-small", $"a. MA cross, {Short(smallBars)} bars in memory", "memory", smallBars.ToString(CultureInfo.InvariantCulture)));

            var file = Path.Combine(temp, "bars.btbr");
            var writing = Stopwatch.StartNew();
            using (var source = Workloads.MinuteBars(0, bars))
            {
                BinaryBarFile.Write(file, source);
            }

            Console.WriteLine($"(b) wrote {bars:N0} bars to a binary bar file ({new FileInfo(file).Length / (double)ByteSize.MiB:F0} MB, {writing.Elapsed.TotalSeconds:F1} s, not timed) ...");
            rows.Add(RunChildMedian(repeat, "b", $"b. MA cross, {Short(bars)} bars from disk", "disk", file));
            File.Delete(file);

            Console.WriteLine($"(c) {instruments} instruments x one year of minute bars, merged ...");
            rows.Add(RunChild("c", $"c. MA cross, {instruments} instr. x 1y minute", "multi", instruments.ToString(CultureInfo.InvariantCulture)));

            Console.WriteLine($"(d) the worker on one year of daily SPY, {workerRuns} run(s) ...");
            rows.Add(RunWorker(root, workerDll, temp, workerRuns));

            PrintTable(rows);
            PrintRatios(rows);
            PrintCeiling(rows[0], ceiling);
            return 0;
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    private static string Short(long bars) => bars % 1_000_000 == 0 ? $"{bars / 1_000_000}M" : bars.ToString("N0", CultureInfo.InvariantCulture);

    private static void PrintMachine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        Console.WriteLine("Backtesting end-to-end benchmark");
        Console.WriteLine($"  date      {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"  machine   {Environment.ProcessorCount} logical cores{(cpu is null ? "" : $", {cpu}")}, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}");
        var optimized = typeof(Engine.Core.BacktestEngine).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        Console.WriteLine($"  runtime   {RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, " +
            $"engine built {(optimized ? "optimized (Release)" : "WITHOUT optimizations (Debug): figures are meaningless, use -c Release")}");
        Console.WriteLine($"  load      {LoadAverage()} (1, 5, 15 min) at the start");
        Console.WriteLine("  note      figures on a shared machine are noisy: compare the ratios within one run, not single figures across runs.");
        Console.WriteLine("            The engine is single-threaded: each scenario runs on one core (cpu% = CPU time / wall time of the run;");
        Console.WriteLine("            above 100% is the runtime's background JIT and GC threads).");
        Console.WriteLine();
    }

    /// <summary>
    /// Runs a scenario several times, each in a fresh process, and keeps the median run by wall time; the note gives
    /// the range, so one run disturbed by a neighbour on a shared machine neither sets nor hides the figure.
    /// </summary>
    private static Row RunChildMedian(int runs, string key, string name, params string[] childArgs)
    {
        var all = Enumerable.Range(0, runs).Select(_ => RunChild(key, name, childArgs)).ToList();
        if (runs == 1)
        {
            return all[0];
        }

        var median = all.OrderBy(r => r.Seconds).ElementAt(runs / 2);
        return median with
        {
            Note = string.Create(CultureInfo.InvariantCulture,
                $"median of {runs} runs by wall time; whole run {all.Min(r => r.BarsPerSecond) / 1e6:F1}–{all.Max(r => r.BarsPerSecond) / 1e6:F1}M bars/s, " +
                $"2nd half {all.Min(r => r.SteadyRate) / 1e6:F1}–{all.Max(r => r.SteadyRate) / 1e6:F1}M"),
        };
    }

    private static Row RunChild(string key, string name, params string[] childArgs)
    {
        var start = SelfStart.Info();
        start.ArgumentList.Add(ChildMode);
        foreach (var arg in childArgs)
        {
            start.ArgumentList.Add(arg);
        }

        var (exit, output, error) = RunToEnd(start);
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (exit != 0 || line is null)
        {
            throw new InvalidOperationException($"scenario {key} failed (exit {exit}):\n{output}\n{error}");
        }

        var values = line["RESULT ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);
        double Number(string k) => double.Parse(values[k], CultureInfo.InvariantCulture);
        var seconds = Number("seconds");
        var bars = long.Parse(values["bars"], CultureInfo.InvariantCulture);
        Console.WriteLine($"    {bars:N0} bars in {seconds:F3} s; {values["trades"]} trades, {values["orders"]} orders; " +
            $"allocated {values["allocatedMb"]} MB, GCs gen0 {values["gen0"]} gen2 {values["gen2"]} ({values["gcPauseMs"]} ms paused); " +
            $"results {values["resultsMb"]} MB live; peak {values["peakMb"]} MB");
        return new Row(key, name, bars, seconds, Number("firstTenthRate"), Number("secondHalfRate"), Number("peakMb"), Number("resultsMb"), values["trades"],
            $"{100 * Number("cpuSeconds") / seconds:F0}%", Orders: values["orders"], CpuSeconds: Number("cpuSeconds"));
    }

    /// <summary>The bare loop (<see cref="CeilingLoop"/>) in a child of its own, so its array of closes weighs on no other figure.</summary>
    private static CeilingLoop.Outcome RunCeiling(long bars)
    {
        var start = SelfStart.Info();
        start.ArgumentList.Add(ChildMode);
        start.ArgumentList.Add("ceiling");
        start.ArgumentList.Add(bars.ToString(CultureInfo.InvariantCulture));
        var (exit, output, error) = RunToEnd(start);
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("CEILING ", StringComparison.Ordinal));
        if (exit != 0 || line is null)
        {
            throw new InvalidOperationException($"the ceiling loop failed (exit {exit}):\n{output}\n{error}");
        }

        var values = line["CEILING ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);
        var outcome = new CeilingLoop.Outcome(long.Parse(values["bars"], CultureInfo.InvariantCulture),
            long.Parse(values["orders"], CultureInfo.InvariantCulture), long.Parse(values["trades"], CultureInfo.InvariantCulture),
            double.Parse(values["seconds"], CultureInfo.InvariantCulture), double.Parse(values["cpuSeconds"], CultureInfo.InvariantCulture));
        Console.WriteLine($"    {outcome.Bars:N0} bars (five passes) in {outcome.Seconds:F3} s; {outcome.Trades} trades, {outcome.Orders} orders a pass");
        return outcome;
    }

    private static void PrintCeiling(Row engine, CeilingLoop.Outcome ceiling)
    {
        var same = engine.Orders == ceiling.Orders.ToString(CultureInfo.InvariantCulture)
            && engine.Trades == ceiling.Trades.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine($"the engine's share of the ceiling ({Short(engine.Bars)} bars in memory; the ceiling is a bare SMA-cross loop over an array of closes)");
        Console.WriteLine($"  same work      engine {engine.Orders} orders, {engine.Trades} trades; ceiling {ceiling.Orders} orders, {ceiling.Trades} trades: " +
            (same ? "equal" : "NOT EQUAL (the share below compares different work)"));
        Console.WriteLine($"  engine         {engine.BarsPerSecond / 1e6,8:F1}M bars/s whole run, {engine.SteadyRate / 1e6:F1}M 2nd half, " +
            $"{engine.Bars / engine.CpuSeconds / 1e6:F1}M bars per CPU second");
        Console.WriteLine($"  ceiling        {ceiling.BarsPerSecond / 1e6,8:F1}M bars/s, {ceiling.BarsPerCpuSecond / 1e6:F1}M bars per CPU second");
        // On a loaded machine a process gets part of a core: per CPU second, the share does not depend on the neighbours.
        Console.WriteLine($"  share by CPU   {engine.Bars / engine.CpuSeconds / ceiling.BarsPerCpuSecond:P1} (the engine's bars per CPU second, its JIT threads included, over the ceiling's)");
        Goal($"engine >= {CeilingShareGoal:P0} of the ceiling", $"{engine.BarsPerSecond / ceiling.BarsPerSecond:P1} whole run",
            same && engine.BarsPerSecond >= CeilingShareGoal * ceiling.BarsPerSecond, $"2nd half {engine.SteadyRate / ceiling.BarsPerSecond:P1}");
        Console.WriteLine($"  load average   {LoadAverage()}");
    }

    /// <summary>The machine's load average (1, 5, 15 minutes) from /proc/loadavg, printed with every figure.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Runs a child process to its end and returns its exit code, standard output and standard error.</summary>
    internal static (int Exit, string Output, string Error) RunToEnd(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    private static Row RunWorker(string root, string workerDll, string temp, int runs)
    {
        // The seed's example config, narrowed to one year.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "examples", "spy-sma-cross.json")))!.AsObject();
        config["startDate"] = "2019-01-01";
        config["endDate"] = "2019-12-31";
        var configPath = Path.Combine(temp, "spy-2019.json");
        File.WriteAllText(configPath, config.ToJsonString());

        var timings = new List<(double Seconds, long Bars, double MemoryMb, string Trades)>();
        for (var run = 0; run < runs; run++)
        {
            var start = new ProcessStartInfo("dotnet");
            foreach (var arg in new[] { workerDll, "--config", configPath, "--output", Path.Combine(temp, $"worker-{run}"), "--data", Path.Combine(root, "data", "lean") })
            {
                start.ArgumentList.Add(arg);
            }

            var clock = Stopwatch.StartNew();
            var (exit, output, error) = RunToEnd(start);
            clock.Stop();
            if (exit != 0)
            {
                throw new InvalidOperationException($"the worker failed (exit {exit}):\n{output}\n{error}");
            }

            var progress = output.Split('\n').LastOrDefault(l => l.Contains("\"type\":\"backtest_progress\"", StringComparison.Ordinal))
                ?? throw new InvalidOperationException("the worker printed no progress line");
            using var json = JsonDocument.Parse(progress);
            var data = json.RootElement.GetProperty("data");
            var bars = data.GetProperty("progress").GetProperty("processedBars").GetInt64();
            var memory = data.GetProperty("performance").GetProperty("memoryUsage").GetDouble();
            var trades = data.GetProperty("statistics").GetProperty("tradesExecuted").GetInt32();
            timings.Add((clock.Elapsed.TotalSeconds, bars, memory, trades.ToString(CultureInfo.InvariantCulture)));
            Console.WriteLine($"    run {run + 1}: {clock.Elapsed.TotalSeconds:F3} s wall, {bars} bars, {trades} trades, memoryUsage {memory:F1} MB");
        }

        var median = timings.OrderBy(t => t.Seconds).ElementAt(timings.Count / 2);
        return new Row("d", "d. worker process, SPY daily 2019", median.Bars, median.Seconds, double.NaN, double.NaN, median.MemoryMb, double.NaN, median.Trades, "-",
            runs > 1 ? $"median of {runs} runs; peak MB is the worker's memoryUsage on its last progress line" : "peak MB is the worker's memoryUsage on its last progress line");
    }

    /// <summary>Builds the worker (Release) when its dll is missing or older than the worker's or engine's sources.</summary>
    private static string EnsureWorkerBuilt(string root)
    {
        var project = Path.Combine(root, "Worker", "Worker.csproj");
        var dll = Path.Combine(root, "Worker", "bin", "Release", "net10.0", "Backtesting.Worker.dll");
        var newestSource = new[] { "Worker", "Engine" }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal))
            .Select(File.GetLastWriteTimeUtc)
            .DefaultIfEmpty(DateTime.MinValue)
            .Max();
        if (File.Exists(dll) && File.GetLastWriteTimeUtc(dll) >= newestSource)
        {
            return dll;
        }

        Console.WriteLine("building the worker (Release) ...");
        var start = new ProcessStartInfo("dotnet");
        foreach (var arg in new[] { "build", project, "-c", "Release", "-nologo", "-v", "quiet" })
        {
            start.ArgumentList.Add(arg);
        }

        var (exit, output, error) = RunToEnd(start);
        if (exit != 0 || !File.Exists(dll))
        {
            throw new InvalidOperationException($"building the worker failed (exit {exit}):\n{output}\n{error}");
        }

        return dll;
    }

    private static void PrintTable(List<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"{"scenario",-38} {"bars",11} {"seconds",8} {"bars/s",11} {"1st 10%/s",11} {"2nd half/s",11} {"peak MB",8} {"results",8} {"trades",7} {"cpu",5}");
        Console.WriteLine(new string('-', 128));
        foreach (var row in rows)
        {
            var first = double.IsNaN(row.FirstRate) ? "-" : row.FirstRate.ToString("N0", CultureInfo.InvariantCulture);
            var steady = double.IsNaN(row.SteadyRate) ? "-" : row.SteadyRate.ToString("N0", CultureInfo.InvariantCulture);
            var results = double.IsNaN(row.ResultsMb) ? "-" : row.ResultsMb.ToString("F1", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Name,-38} {row.Bars,11:N0} {row.Seconds,8:F3} {row.BarsPerSecond,11:N0} {first,11} {steady,11} {row.PeakMb,8:F1} {results,8} {row.Trades,7} {row.Cpu,5}"));
        }

        Console.WriteLine("  bars/s is the whole run in a fresh process, JIT warm-up included; 1st 10%/s is the rate over the first");
        Console.WriteLine("  tenth of the bars (mostly not yet optimized code), 2nd half/s over the second half, once the JIT has");
        Console.WriteLine("  tiered the hot path up. peak MB is the process's VmHWM;");
        Console.WriteLine("  results is the live size of what the run returns (trades, orders, fills, equity curves), which grows");
        Console.WriteLine("  with the number of trades, not of bars.");

        foreach (var row in rows.Where(r => r.Note.Length > 0))
        {
            Console.WriteLine($"  {row.Key}: {row.Note}");
        }
    }

    private static void PrintRatios(List<Row> rows)
    {
        var byKey = rows.ToDictionary(r => r.Key);
        var memory = byKey["a"];
        var small = byKey["a-small"];
        var disk = byKey["b"];
        var multi = byKey["c"];
        var worker = byKey["d"];
        Console.WriteLine();
        Console.WriteLine("ratios (same run)                                   whole run   2nd half");
        Ratio("from disk (b) / in memory (a), bars/s", disk.BarsPerSecond / memory.BarsPerSecond, disk.SteadyRate / memory.SteadyRate);
        Ratio("merged instruments (c) / in memory (a), bars/s", multi.BarsPerSecond / memory.BarsPerSecond, multi.SteadyRate / memory.SteadyRate);
        Ratio($"in memory, {Short(memory.Bars)} / {Short(small.Bars)} bars, bars/s", memory.BarsPerSecond / small.BarsPerSecond, memory.SteadyRate / small.SteadyRate);
        Ratio($"peak MB, {Short(memory.Bars)} / {Short(small.Bars)} bars", memory.PeakMb / small.PeakMb, double.NaN);
        Ratio($"peak MB less results, {Short(memory.Bars)} / {Short(small.Bars)} bars", (memory.PeakMb - memory.ResultsMb) / (small.PeakMb - small.ResultsMb), double.NaN);
        Console.WriteLine();
        Console.WriteLine("goals");
        Goal($"in memory >= {InMemoryGoal / 1e6:F0}M bars/s, one core", $"{memory.BarsPerSecond / 1e6:F1}M whole run", memory.BarsPerSecond >= InMemoryGoal);
        Goal("", $"{memory.SteadyRate / 1e6:F1}M 2nd half", memory.SteadyRate >= InMemoryGoal);
        Goal($"from disk >= {FromDiskGoal / 1e6:F0}M bars/s, one core", $"{disk.BarsPerSecond / 1e6:F1}M whole run", disk.BarsPerSecond >= FromDiskGoal);
        Goal("", $"{disk.SteadyRate / 1e6:F1}M 2nd half", disk.SteadyRate >= FromDiskGoal);
        Goal($"peak < {PeakMemoryGoalMb:F0} MB for {Short(memory.Bars)} bars", $"{memory.PeakMb:F0} MB", memory.PeakMb < PeakMemoryGoalMb);
        var smallBase = small.PeakMb - small.ResultsMb;
        var memoryBase = memory.PeakMb - memory.ResultsMb;
        Goal("peak less results flat in the bar count", $"{smallBase:F0} MB at {Short(small.Bars)}, {memoryBase:F0} MB at {Short(memory.Bars)}",
            memoryBase < smallBase * 1.25, $"with results: {small.PeakMb:F0} / {memory.PeakMb:F0} MB; they hold {small.Trades} / {memory.Trades} trades");
        Goal($"worker, daily SPY 2019, well under {WorkerGoalSeconds:F0} s", $"{worker.Seconds:F3} s wall", worker.Seconds < WorkerGoalSeconds / 2);
    }

    private static void Ratio(string name, double whole, double steady) =>
        Console.WriteLine($"  {name,-48} {whole,9:F2} {(double.IsNaN(steady) ? "" : steady.ToString("F2", CultureInfo.InvariantCulture)),10}");

    private static void Goal(string goal, string measured, bool met, string note = "") =>
        Console.WriteLine($"  {goal,-40} {measured,-30} {(met ? "met" : "NOT met")}{(note.Length > 0 ? $"  ({note})" : "")}");
}

/// <summary>Finds the repository: the nearest folder above the program that holds Backtesting.sln.</summary>
internal static class RepositoryRoot
{
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Backtesting.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException($"no folder holding Backtesting.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Removes a benchmark's temporary folder; a folder that will not go is said, not thrown (the figures are printed already).</summary>
    public static void RemoveTemp(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"could not remove {folder}: {e.Message}");
        }
    }
}
