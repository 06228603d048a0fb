using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Lean;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>real</c>: the same work as the issue's comparison, as a whole worker process over LEAN-format zips. Ten years
/// (2011-2020) of synthetic minute bars are generated once into a temp folder (<see cref="SyntheticLeanMinutes"/>),
/// the worker is published for this machine's runtime, and the SMA 10/30 cross (100 shares, no fees, next-open fills)
/// runs for one year and for ten, in three phases per round, alternated: no cache, a cold (empty) cache, a warm one.
/// Each run prints its wall time, bars/s, peak RSS (the child's VmHWM, read from /proc when its completion line
/// arrives) and the split from <c>--timings</c>, with the load average. <c>bar-cache</c>: in-process figures of
/// building an entry and reading it against reading the zips.
/// </summary>
internal static class RealData
{
    internal static readonly DateOnly First = new(2011, 1, 1);
    internal static readonly DateOnly Last = new(2020, 12, 31);

    private const string ConfigTemplate = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30,"maType":"SMA"},
         "startDate":"START","endDate":"END","instruments":["SPY"],"initialBalance":1000000,
         "dataConfiguration":{"resolution":"minute","adjustment":"raw"},
         "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"none"}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    private sealed record RunFigures(int Years, string Phase, int Round, double WallMs, double CpuMs, long Bars, double PeakMb, string Timings, string Load);

    public static int Run(IReadOnlyList<string> args)
    {
        if (BenchmarkOptions.Parse(args, "--rounds") is not { } options)
        {
            return 2;
        }

        var rounds = options.Count("--rounds", 3);
        var root = RepositoryRoot.Find();
        var temp = Path.Combine(Path.GetTempPath(), "backtesting-real-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var data = GenerateMinutes(root, temp);
            var worker = Publish(root, temp);
            var figures = new List<RunFigures>();
            foreach (var years in new[] { 1, 10 })
            {
                var config = Path.Combine(temp, $"config-{years}y.json");
                File.WriteAllText(config, ConfigTemplate
                    .Replace("START", (years == 10 ? First : new DateOnly(2020, 1, 1)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), StringComparison.Ordinal)
                    .Replace("END", Last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), StringComparison.Ordinal));
                for (var round = 1; round <= rounds; round++)
                {
                    var cache = Path.Combine(temp, $"cache-{years}y-{round}");
                    foreach (var (phase, cacheArgument) in new[] { ("no cache", "off"), ("cold", cache), ("warm", cache) })
                    {
                        var run = RunWorker(worker, config, data, cacheArgument, Path.Combine(temp, "out"), years, phase, round);
                        figures.Add(run);
                        Console.WriteLine(Row(run));
                    }
                }
            }

            Summarise(figures);
            return 0;
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    /// <summary><c>bar-cache</c>: build one ten-year entry, then read it warm and read the zips, alternated.</summary>
    public static int RunCacheMicro(IReadOnlyList<string> args)
    {
        if (BenchmarkOptions.Parse(args, "--rounds") is not { } options)
        {
            return 2;
        }

        var rounds = options.Count("--rounds", 3);
        var root = RepositoryRoot.Find();
        var temp = Path.Combine(Path.GetTempPath(), "backtesting-barcache-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var data = GenerateMinutes(root, temp);
            var request = new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, First, Last, ExtendedHours: true);
            Console.WriteLine("round  what                       ms      bars   bars/s    load");
            for (var round = 1; round <= rounds; round++)
            {
                var cache = Path.Combine(temp, $"cache-{round}");
                var cold = new LeanDataProvider(data, new LeanDataProviderOptions(cache));
                Assert(cold.Catalog.TryResolve("SPY", out var spy));
                Measure(round, "build (cold open + read)", () => ReadAll(cold, spy, request));
                Measure(round, "warm open + read", () => ReadAll(new LeanDataProvider(data, new LeanDataProviderOptions(cache)), spy, request));
                Measure(round, "zips read", () => ReadAll(new LeanDataProvider(data), spy, request));
                Measure(round, "data version, cached", () =>
                {
                    new LeanDataProvider(data, new LeanDataProviderOptions(cache, BarCacheReadOnly: true)).DataVersion(spy, request);
                    return 0;
                });
            }

            return 0;
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    private static void Measure(int round, string what, Func<long> action)
    {
        var watch = Stopwatch.StartNew();
        var bars = action();
        var ms = watch.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{round,5}  {what,-24} {ms,7:0.0} {bars,9} {(bars > 0 ? bars / (ms / 1000) : 0),8:0.00e0}  {LoadAverage()}"));
    }

    private static long ReadAll(LeanDataProvider provider, Instrument instrument, DataRequest request)
    {
        using var source = provider.Open(instrument, 0, request);
        var buffer = new MarketData[4096];
        long count = 0;
        int n;
        while ((n = source.Read(buffer)) > 0)
            count += n;
        return count;
    }

    /// <summary>Ten years (2011-2020) of synthetic SPY minute bars, seed 42, in <c>lean</c> under <paramref name="temp"/>:
    /// the data of the real, jit and results benchmarks. Prints what it wrote; returns the data root.</summary>
    internal static string GenerateMinutes(string root, string temp)
    {
        var watch = Stopwatch.StartNew();
        var summary = SyntheticLeanMinutes.Generate(Path.Combine(root, "data", "lean"), Path.Combine(temp, "lean"), First, Last, seed: 42);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generated {summary.Days} sessions, {summary.Bars:N0} minute bars ({summary.First:yyyy-MM-dd}..{summary.Last:yyyy-MM-dd}) in {watch.Elapsed.TotalSeconds:0.0} s"));
        return summary.DataRoot;
    }

    private static string Publish(string root, string temp)
    {
        var output = Path.Combine(temp, "worker");
        var rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        var watch = Stopwatch.StartNew();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "publish", Path.Combine(root, "Worker", "Worker.csproj"), "-c", "Release", "-r", rid, "--self-contained", "-o", output,
                     // Its own build folders: a publish for a runtime must not race a build of the checkout for its obj/.
                     "--artifacts-path", Path.Combine(temp, "artifacts") })
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet publish did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet publish failed:\n{stdout.Result}\n{stderr}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published the worker for {rid} in {watch.Elapsed.TotalSeconds:0.0} s"));
        return Path.Combine(output, "Backtesting.Worker");
    }

    private static RunFigures RunWorker(string worker, string config, string data, string cache, string output, int years, string phase, int round)
    {
        if (Directory.Exists(output))
            Directory.Delete(output, recursive: true);
        var info = new ProcessStartInfo(worker) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--config", config, "--output", output, "--data", data, "--bar-cache", cache, "--timings" })
            info.ArgumentList.Add(arg);
        var peakMb = 0.0;
        string? timings = null;
        long bars = 0;
        // The child's CPU (user + system) lands in this process's children's time once it is reaped: less bent by a
        // neighbour's load than wall time.
        var cpuBefore = ProcCpu.Of(Environment.ProcessId).Children;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("the worker did not start");
        var errors = process.StandardError.ReadToEndAsync();
        // VmHWM only grows: sampled while the worker runs and once more when its last lines arrive.
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            var peak = 0.0;
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, PeakMb(process.Id));
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
            }

            return peak;
        });
        while (process.StandardOutput.ReadLine() is { } line)
        {
            using var message = JsonDocument.Parse(line);
            var type = message.RootElement.GetProperty("type").GetString();
            var body = message.RootElement.GetProperty("data");
            if (type == "backtest_timings")
                timings = body.GetRawText();
            // The completion line is the worker's last act: its peak resident set is final by now.
            if (type is "backtest_timings" or "backtest_complete")
                peakMb = Math.Max(peakMb, PeakMb(process.Id));
        }

        process.WaitForExit();
        var wall = watch.Elapsed.TotalMilliseconds;
        var cpu = (ProcCpu.Of(Environment.ProcessId).Children - cpuBefore) * 1000;
        sampling.Cancel();
        peakMb = Math.Max(peakMb, sampler.Result);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"the worker failed ({process.ExitCode}): {errors.Result}");
        using (var results = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "results.json"))))
        {
            bars = results.RootElement.GetProperty("summary").GetProperty("processedBars").GetInt64();
        }

        return new RunFigures(years, phase, round, wall, cpu, bars, peakMb, timings ?? "", LoadAverage());
    }

    private static double PeakMb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        catch (IOException)
        {
            // The process is gone already.
        }

        return 0;
    }

    private static string Row(RunFigures f)
    {
        JsonElement? t = f.Timings.Length == 0 ? null : JsonSerializer.Deserialize<JsonElement>(f.Timings);
        string Part(string name) => t is { } e && e.TryGetProperty(name, out var value) ? value.GetDouble().ToString("0", CultureInfo.InvariantCulture) : "-";
        return string.Create(CultureInfo.InvariantCulture,
            $"{f.Years,2}y  {f.Phase,-8} r{f.Round}  wall {f.WallMs,6:0} ms  cpu {f.CpuMs,6:0} ms  {f.Bars,8} bars  {f.Bars / (f.WallMs / 1000),9:N0} bars/s  peak {f.PeakMb,5:0} MB  " +
            $"start-up {Part("startupMs")} data {Part("dataMs")} engine {Part("engineMs")} results {Part("resultsMs")} total {Part("totalMs")} ms  " +
            $"jit {Part("startupJitMethods")}/{Part("jitMethods")} methods {Part("startupJitMs")}/{Part("jitMs")} ms (start-up/all)  load {f.Load}");
    }

    private static void Summarise(List<RunFigures> figures)
    {
        Console.WriteLine();
        Console.WriteLine("median per phase (wall ms, peak MB):");
        double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        }

        foreach (var group in figures.GroupBy(f => (f.Years, f.Phase)))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {group.Key.Years,2}y {group.Key.Phase,-8} wall {Median(group.Select(f => f.WallMs)),6:0} ms  peak {Median(group.Select(f => f.PeakMb)),4:0} MB"));
        }

        double Wall(int years, string phase) => Median(figures.Where(f => f.Years == years && f.Phase == phase).Select(f => f.WallMs));
        var peak10 = Median(figures.Where(f => f.Years == 10).Select(f => f.PeakMb));
        Console.WriteLine("goals (issue 17):");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  10y warm <= 500 ms:  {Wall(10, "warm"),6:0} ms  {(Wall(10, "warm") <= 500 ? "met" : "missed")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  1y warm  <= 200 ms:  {Wall(1, "warm"),6:0} ms  {(Wall(1, "warm") <= 200 ? "met" : "missed")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  10y cold <= 1500 ms: {Wall(10, "cold"),6:0} ms  {(Wall(10, "cold") <= 1500 ? "met" : "missed")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  10y peak < 150 MB:   {peak10,6:0} MB  {(peak10 < 150 ? "met" : "missed")}"));
        Console.WriteLine($"  load average at the end: {LoadAverage()}");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static void Assert(bool condition)
    {
        if (!condition)
            throw new InvalidOperationException("SPY is not in the generated data");
    }
}
