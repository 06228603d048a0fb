using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backtesting.Engine;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Worker;

namespace Backtesting.Benchmarks;

/// <summary>
/// results.json written the old way (the whole document serialized into one byte array, with the orders and fills
/// held as lists of records) against the streaming writer, on a big run: a 2/3 moving-average cross over ten years
/// of minute bars. Each way runs in a child process of its own, alternately, so each peak (VmHWM) is its alone.
/// </summary>
internal static class ResultsWriting
{
    public const string ChildMode = "results-child";
    private static readonly int FirstYear = RealData.First.Year;
    private static readonly int LastYear = RealData.Last.Year;

    public static int Run(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--data", "--rounds") is not { } options)
        {
            return 2;
        }

        var data = options.FullPath("--data");
        var rounds = options.Count("--rounds", 3);

        var temp = Path.Combine(Path.GetTempPath(), "backtesting-results-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            Console.WriteLine($"results.json, old writer against the streaming one ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {EndToEnd.LoadAverage()})");
            if (data is null)
            {
                // As in the real and jit benchmarks: synthetic SPY minutes over 2011-2020.
                data = RealData.GenerateMinutes(RepositoryRoot.Find(), temp);
            }

            foreach (var round in Enumerable.Range(1, rounds))
            {
                foreach (var way in new[] { "old", "stream" })
                {
                    var start = SelfStart.Info();
                    foreach (var arg in new[] { ChildMode, way, data, Path.Combine(temp, "out-" + way) })
                    {
                        start.ArgumentList.Add(arg);
                    }

                    start.RedirectStandardOutput = true;
                    using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the child");
                    var output = process.StandardOutput.ReadToEnd();
                    process.WaitForExit();
                    if (process.ExitCode != 0)
                    {
                        throw new InvalidOperationException($"the {way} child failed (exit {process.ExitCode}):\n{output}");
                    }

                    Console.Write($"  round {round} {way,-6} {output.Trim()}  load {EndToEnd.LoadAverage()}\n");
                }
            }

            return 0;
        }
        finally
        {
            RepositoryRoot.RemoveTemp(temp);
        }
    }

    /// <summary>The child: runs the backtest, then writes its results one way and prints the figures.</summary>
    public static int RunChild(string[] args)
    {
        var (way, data, output) = (args[0], args[1], args[2]);
        Directory.CreateDirectory(output);
        var provider = new LeanDataProvider(data);
        var json = "{\"strategyClass\":\"MovingAverageCross\",\"strategyConfig\":{\"fastPeriod\":2,\"slowPeriod\":3}," +
            $"\"startDate\":\"{FirstYear}-01-01\",\"endDate\":\"{LastYear}-12-31\",\"instruments\":[\"SPY\"],\"initialBalance\":100000000," +
            "\"dataConfiguration\":{\"resolution\":\"minute\",\"adjustment\":\"raw\"}," +
            "\"riskSettings\":{\"positionSizing\":{\"mode\":\"fixedQuantity\",\"quantity\":100}}}";
        var validation = ConfigValidator.Validate(ConfigValidator.Parse(json).Config!, provider, StrategyCatalog.Templates,
            ValidationPolicy.Local, DateOnly.FromDateTime(DateTime.UtcNow));
        if (!validation.IsValid)
        {
            Console.WriteLine(string.Join("; ", validation.Errors.Select(e => $"{e.Field}: {e.Message}")));
            return 1;
        }

        var result = new BacktestRun(validation.Spec!, provider, StrategyCatalog.Templates).Execute();
        var path = Path.Combine(output, "results.json");
        var liveBefore = GC.GetTotalMemory(forceFullCollection: true);
        double heldMb;
        var peakBefore = EndToEndChild.PeakResidentMb();
        var clock = Stopwatch.StartNew();
        if (way == "old")
        {
            // What the packager held before: the orders and fills as lists of records, beside the engine's own.
            result = result with { Orders = result.Orders.ToList(), Fills = result.Fills.ToList() };
            heldMb = (GC.GetTotalMemory(forceFullCollection: false) - liveBefore) / (double)ByteSize.MiB;
            clock.Restart();
            AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(result, JsonDefaults.Options));
        }
        else
        {
            heldMb = 0;
            ResultsWriter.Write(path, result);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var orders = result.Orders.Count;
        Console.Write(string.Create(CultureInfo.InvariantCulture,
            $"write {seconds:F3} s, {new FileInfo(path).Length / (double)ByteSize.MiB:F1} MB file, {orders:N0} orders {result.Fills.Count:N0} fills, " +
            $"record copies held {heldMb:F1} MB ({heldMb * 10_000 / Math.Max(1, orders):F2} MB per 10,000 orders), " +
            $"peak RSS {peakBefore:F0} MB before the write, {EndToEndChild.PeakResidentMb():F0} MB after"));
        return 0;
    }
}
