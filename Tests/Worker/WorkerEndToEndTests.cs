using System.Text.Json;
using Backtesting.Tests.Configuration;
using Backtesting.Worker;
using static Backtesting.Tests.Worker.WorkerProcess;

namespace Backtesting.Tests.Worker;

/// <summary>The worker as a whole process: protocol lines, results.json, every exit code, checkpoints and resume.</summary>
public class WorkerEndToEndTests
{
    private const string TickConfig = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":50,"slowPeriod":400},
         "startDate":"2013-10-07","endDate":"2013-10-11","instruments":["SPY"],"initialBalance":100000,
         "dataConfiguration":{"resolution":"tick","dataType":"ticks","adjustment":"raw"},
         "executionSettings":{"fillModel":"nextTick","commission":{"model":"perShare","perShare":0.005,"minimum":1}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    private static string[] Args(TempFolder temp, string config, string output = "out", params string[] extra)
    {
        var path = temp.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, config);
        return [.. new[] { "--config", path, "--output", temp.File(output), "--data", TestPaths.LeanData }, .. extra];
    }

    [Fact]
    public void Seed_example_completes_with_progress_trades_equity_and_results()
    {
        using var temp = new TempFolder();
        var (code, lines, stderr) = Run(Args(temp, ValidationTests.SeedExample));
        Assert.True(code == 0, stderr);
        var types = lines.Select(TypeOf).ToList();
        Assert.Contains("backtest_progress", types);
        Assert.Contains("backtest_trade", types);
        Assert.Contains("backtest_equity", types);
        Assert.Equal("backtest_complete", types[^1]);

        var complete = Parse(lines[^1]).GetProperty("data");
        Assert.Equal("completed", complete.GetProperty("status").GetString());
        var progress = lines.Where(l => TypeOf(l) == "backtest_progress").Select(l => Parse(l).GetProperty("data")).ToList();
        Assert.Equal(100, progress[^1].GetProperty("progress").GetProperty("percentage").GetDouble());
        Assert.True(progress[^1].GetProperty("performance").GetProperty("memoryUsage").GetDouble() > 0);

        using var results = JsonDocument.Parse(File.ReadAllText(temp.File("out/results.json")));
        var root = results.RootElement;
        foreach (var key in new[] { "config", "summary", "metrics", "trades", "equityCurve", "benchmark", "monthlyReturns", "orders", "dataQuality", "engineVersion", "contentHash" })
        {
            Assert.True(root.TryGetProperty(key, out _), $"results.json lacks {key}");
        }

        var trades = root.GetProperty("trades").GetArrayLength();
        Assert.Equal(trades, complete.GetProperty("summary").GetProperty("totalTrades").GetInt32());
        // Every trade and every end-of-day point was streamed once, in order, in batches of at most the batch size.
        var streamedTrades = Batched(lines, "backtest_trade", "trades");
        Assert.Equal(root.GetProperty("trades").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()),
            streamedTrades.Select(t => t.GetProperty("id").GetInt32()));
        // Equity comes in columns of equal length: point i is (dates[i], equity[i], drawdown[i]).
        foreach (var batch in lines.Where(l => TypeOf(l) == "backtest_equity").Select(l => Parse(l).GetProperty("data")))
        {
            var length = batch.GetProperty("dates").GetArrayLength();
            Assert.InRange(length, 1, ProgressReporter.LiveBatchSize);
            Assert.Equal(length, batch.GetProperty("equity").GetArrayLength());
            Assert.Equal(length, batch.GetProperty("drawdown").GetArrayLength());
        }

        Assert.Equal(root.GetProperty("dailyEquity").EnumerateArray().Select(p => p.GetProperty("date").GetString()),
            Batched(lines, "backtest_equity", "dates").Select(d => d.GetString()));
        // Live points are the results' end-of-day equity to the cent, and drawdown to a millionth.
        Assert.Equal(root.GetProperty("dailyEquity").EnumerateArray().Select(p => Math.Round(p.GetProperty("equity").GetDouble(), 2)),
            Batched(lines, "backtest_equity", "equity").Select(e => e.GetDouble()));
        Assert.All(Batched(lines, "backtest_equity", "drawdown"), d => Assert.Equal(Math.Round(d.GetDouble(), 6), d.GetDouble()));
        Assert.All(lines.Where(l => TypeOf(l) is "backtest_trade"), l =>
            Assert.InRange(Parse(l).GetProperty("data").GetProperty("trades").GetArrayLength(), 1, ProgressReporter.LiveBatchSize));
        Assert.False(root.GetProperty("partial").GetBoolean());
        Assert.False(File.Exists(temp.File("out/checkpoint.json")));
        Assert.Contains("total return", stderr);
    }

    [Fact]
    public void The_last_progress_line_carries_the_equity_curves_final_equity_cash_and_drawdown()
    {
        // Bought in February 2020 and held into the March crash: the run ends far below its peak.
        const string config = """
            {"strategyClass":"BuyAndHold","strategyConfig":{},"startDate":"2020-02-18","endDate":"2020-03-23",
             "instruments":["SPY"],"initialBalance":100000,"dataConfiguration":{"resolution":"daily","adjustment":"raw"},
             "riskSettings":{"positionSizing":{"mode":"percentEquity","percent":0.95}}}
            """;
        using var temp = new TempFolder();
        var (code, lines, stderr) = Run(Args(temp, config));
        Assert.True(code == 0, stderr);
        using var results = JsonDocument.Parse(File.ReadAllText(temp.File("out/results.json")));
        var last = results.RootElement.GetProperty("equityCurve").EnumerateArray().Last();
        var statistics = lines.Where(l => TypeOf(l) == "backtest_progress").Select(Parse).Last()
            .GetProperty("data").GetProperty("statistics");

        Assert.True(last.GetProperty("drawdown").GetDouble() < -0.2, $"the run was meant to end in a deep drawdown: {last}");
        Assert.Equal(last.GetProperty("drawdown").GetDouble(), statistics.GetProperty("drawdown").GetDouble());
        Assert.Equal(last.GetProperty("equity").GetDouble(), statistics.GetProperty("currentBalance").GetDouble());
        Assert.Equal(results.RootElement.GetProperty("summary").GetProperty("finalBalance").GetDouble(), statistics.GetProperty("currentBalance").GetDouble());
    }

    [Fact]
    public void Progress_comes_at_least_every_percent_or_second_and_at_most_about_ten_a_second()
    {
        using var temp = new TempFolder();
        var (code, lines, stderr) = Run(Args(temp, TickConfig));
        Assert.True(code == 0, stderr);
        var progress = lines.Where(l => TypeOf(l) == "backtest_progress").Select(Parse).Select(e => (
            At: e.GetProperty("timestamp").GetDateTime(),
            Percent: e.GetProperty("data").GetProperty("progress").GetProperty("percentage").GetDouble())).ToList();
        Assert.True(progress.Count >= 3, $"only {progress.Count} progress lines");
        Assert.Equal(100, progress[^1].Percent);
        for (var i = 1; i < progress.Count; i++)
        {
            var gap = progress[i].At - progress[i - 1].At;
            var step = progress[i].Percent - progress[i - 1].Percent;
            // Every 1% (a heartbeat's worth of slack) or every second (scheduling slack on a busy machine).
            Assert.True(step <= 1.5 || gap <= TimeSpan.FromSeconds(1.5), $"line {i}: {step:F2}% after {gap.TotalMilliseconds:F0} ms");
            if (i < progress.Count - 1)
            {
                // At most about ten a second; the closing 100% line may follow at once.
                Assert.True(gap >= TimeSpan.FromMilliseconds(95), $"line {i} came {gap.TotalMilliseconds:F0} ms after the previous one");
            }
        }
    }

    [Fact]
    public void Same_config_and_data_give_byte_identical_results()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, Run(Args(temp, ValidationTests.SeedExample, "a")).ExitCode);
        Assert.Equal(0, Run(Args(temp, ValidationTests.SeedExample, "b")).ExitCode);
        Assert.Equal(File.ReadAllBytes(temp.File("a/results.json")), File.ReadAllBytes(temp.File("b/results.json")));
    }

    [Fact]
    public void Invalid_config_exits_2_reports_every_error_and_writes_nothing()
    {
        using var temp = new TempFolder();
        var config = ValidationTests.SeedExample.Replace("\"SPY\"", "\"spy\"").Replace("100000", "5").Replace("\"USD\"", "\"AUD\"");
        var (code, lines, stderr) = Run(Args(temp, config));
        Assert.Equal(2, code);
        var error = Parse(Assert.Single(lines));
        Assert.Equal("backtest_error", error.GetProperty("type").GetString());
        Assert.Equal("validation", error.GetProperty("data").GetProperty("errorType").GetString());
        var fields = error.GetProperty("data").GetProperty("errorDetails").GetProperty("validationErrors")
            .EnumerateArray().Select(e => e.GetProperty("field").GetString()).Order().ToArray();
        Assert.Equal(new[] { "baseCurrency", "initialBalance", "instruments[0]" }, fields);
        Assert.Contains("initialBalance", stderr);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void Malformed_json_exits_2()
    {
        using var temp = new TempFolder();
        Assert.Equal(2, Run(Args(temp, "{\"strategyClass\": ")).ExitCode);
    }

    [Theory]
    [InlineData("--output", "x")]
    [InlineData("--config")]
    [InlineData("--bogus", "1")]
    public void Wrong_command_lines_exit_3(params string[] args)
    {
        var (code, lines, stderr) = Run(args);
        Assert.Equal(3, code);
        Assert.Empty(lines);
        Assert.Contains("usage:", stderr);
    }

    [Fact]
    public void Unreadable_data_exits_1_with_a_data_error()
    {
        using var temp = new TempFolder();
        var root = temp.File("data");
        CopyTree(TestPaths.LeanData, root, skip: ["equity"]);
        Directory.CreateDirectory(Path.Combine(root, "equity", "usa", "daily"));
        File.Copy(TestPaths.Lean("equity", "usa", "primary-listings.csv"), Path.Combine(root, "equity", "usa", "primary-listings.csv"));
        // A real first line, then garbage: the catalog sees a valid range, the run meets the corruption.
        var zip = Path.Combine(root, "equity", "usa", "daily", "spy.zip");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
        using (var writer = new StreamWriter(archive.CreateEntry("spy.csv").Open()))
        {
            writer.WriteLine("20100104 00:00,1126300,1132800,1122300,1131200,118944600");
            writer.WriteLine("20100105 00:00,oops,1134800,1128700,1134300,111579900");
            writer.WriteLine("20201231 00:00,3710000,3750000,3700000,3738000,80000000");
        }

        var args = Args(temp, ValidationTests.SeedExample);
        args[Array.IndexOf(args, "--data") + 1] = root;
        var (code, lines, stderr) = Run(args);
        Assert.True(code == 1, stderr);
        var error = Parse(lines[^1]).GetProperty("data");
        Assert.Equal("data", error.GetProperty("errorType").GetString());
        // Where it failed: the instrument whose file is broken (daily series are decoded when opened, so before any
        // bar was processed: no date yet), and that a retry may help once the file is fixed.
        var details = error.GetProperty("errorDetails");
        Assert.Equal("SPY.ARCA", details.GetProperty("failedInstrument").GetString());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("failedAtDate").ValueKind);
        Assert.Contains("SPY.ARCA", error.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.True(details.GetProperty("recoverable").GetBoolean());
        Assert.False(File.Exists(temp.File("out/results.json")));
    }

    [Fact]
    public void Sigterm_writes_partial_results_and_exits_4()
    {
        using var temp = new TempFolder();
        using var worker = Start(Args(temp, TickConfig));
        Assert.True(worker.WaitForLine(l => TypeOf(l) == "backtest_progress", TimeSpan.FromMinutes(1)), worker.Stderr);
        // Freeze the process, queue SIGTERM, thaw: the signal lands mid-run, whatever the machine's speed.
        worker.Signal("STOP");
        worker.Signal("TERM");
        worker.Signal("CONT");
        Assert.Equal(4, worker.WaitForExit(TimeSpan.FromMinutes(1)));
        using var results = JsonDocument.Parse(File.ReadAllText(temp.File("out/results.json")));
        Assert.True(results.RootElement.GetProperty("partial").GetBoolean());
        var complete = Parse(worker.Lines[^1]).GetProperty("data");
        Assert.Equal("cancelled", complete.GetProperty("status").GetString());
        Assert.True(complete.GetProperty("partial").GetBoolean());
        Assert.True(results.RootElement.GetProperty("summary").GetProperty("processedBars").GetInt64() < 1_887_455);
    }

    [Fact]
    public void A_worker_whose_supervisor_dies_stops_with_partial_results()
    {
        using var temp = new TempFolder();
        using var worker = Start(Args(temp, TickConfig, "out", "--stop-on-stdin-close"));
        Assert.True(worker.WaitForLine(l => TypeOf(l) == "backtest_progress", TimeSpan.FromMinutes(1)), worker.Stderr);
        worker.Signal("STOP");
        worker.CloseStdin();
        worker.Signal("CONT");
        Assert.Equal(4, worker.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.True(File.Exists(temp.File("out/results.json")));
    }

    [Fact]
    public void Resume_after_a_kill_ends_with_results_identical_to_an_uninterrupted_run()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, Run(Args(temp, TickConfig, "whole")).ExitCode);

        var args = Args(temp, TickConfig, "broken", "--checkpoint-seconds", "0.05");
        using (var worker = Start(args))
        {
            var checkpoint = temp.File("broken/checkpoint.json");
            Assert.True(worker.WaitForLine(_ => File.Exists(checkpoint), TimeSpan.FromMinutes(1)), worker.Stderr);
            worker.Signal("KILL");
            worker.WaitForExit(TimeSpan.FromMinutes(1));
        }

        Assert.False(File.Exists(temp.File("broken/results.json")));
        var resumedAt = JsonDocument.Parse(File.ReadAllText(temp.File("broken/checkpoint.json"))).RootElement;
        var tradesBefore = resumedAt.GetProperty("tradesClosed").GetInt32();

        var (code, lines, stderr) = Run([.. args, "--resume"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(temp.File("whole/results.json")), File.ReadAllBytes(temp.File("broken/results.json")));
        // Trades closed before the checkpoint were reported by the first process, not again.
        var reported = Batched(lines, "backtest_trade", "trades").Select(t => t.GetProperty("id").GetInt32()).ToList();
        Assert.All(reported, id => Assert.True(id > tradesBefore, $"trade {id} was reported again after resuming past trade {tradesBefore}"));
    }

    [Fact]
    public void Resume_refuses_a_checkpoint_of_another_config()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("out"));
        File.WriteAllText(temp.File("out/checkpoint.json"),
            """{"contentHash":"0000","processedPoints":256,"tradesClosed":0,"equity":100000,"cash":100000}""");
        var (code, lines, _) = Run([.. Args(temp, ValidationTests.SeedExample), "--resume"]);
        Assert.Equal(5, code);
        Assert.Equal("backtest_error", TypeOf(Assert.Single(lines)));
    }

    [Fact]
    public void Import_command_adds_a_csv_instrument_that_a_backtest_can_use()
    {
        using var temp = new TempFolder();
        var root = temp.File("data");
        CopyTree(TestPaths.LeanData, root, skip: []);
        var csv = temp.File("acme.csv");
        using (var writer = new StreamWriter(csv))
        {
            writer.WriteLine("Date,Open,High,Low,Close,Adj Close,Volume");
            var price = 50.0;
            for (var day = new DateOnly(2019, 1, 1); day <= new DateOnly(2019, 12, 31); day = day.AddDays(1))
            {
                if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
                {
                    continue;
                }

                price *= 1 + 0.01 * Math.Sin(day.DayNumber / 7.0);
                writer.WriteLine(FormattableString.Invariant($"{day:yyyy-MM-dd},{price},{price * 1.01},{price * 0.99},{price},{price},100000"));
            }
        }

        var (importCode, importOut, importErr) = Run("import", "--file", csv, "--symbol", "ACME", "--venue", "NYSE", "--data", root);
        Assert.True(importCode == 0, importErr);
        Assert.Contains("ACME.NYSE", Assert.Single(importOut));

        var config = ValidationTests.SeedExample.Replace("\"SPY\"", "\"ACME.NYSE\"")
            .Replace("2010-01-01", "2019-01-01").Replace("2020-12-31", "2019-12-31");
        var args = Args(temp, config);
        args[Array.IndexOf(args, "--data") + 1] = root;
        var (code, _, stderr) = Run(args);
        Assert.True(code == 0, stderr);
        using var results = JsonDocument.Parse(File.ReadAllText(temp.File("out/results.json")));
        Assert.True(results.RootElement.GetProperty("trades").GetArrayLength() > 0);
    }

    [Fact]
    public void Import_command_reports_a_bad_row_with_its_line()
    {
        using var temp = new TempFolder();
        var root = temp.File("data");
        CopyTree(TestPaths.LeanData, root, skip: ["equity", "forex", "crypto"]);
        var csv = temp.File("bad.csv");
        File.WriteAllLines(csv, ["timestamp,open,high,low,close,volume", "2019-01-02T14:30:00Z,1,2,0.5,1.5,100", "2019-01-03T14:30:00Z,1,two,0.5,1.5,100"]);
        var (code, _, stderr) = Run("import", "--file", csv, "--symbol", "BAD", "--venue", "NYSE", "--data", root);
        Assert.Equal(2, code);
        Assert.Contains("line 3", stderr);
    }

    /// <summary>Copies a folder (small files) so a test can change it without touching the bundled data.</summary>
    private static void CopyTree(string from, string to, string[] skip)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.GetDirectories(from))
        {
            var name = Path.GetFileName(directory);
            if (!skip.Contains(name))
            {
                CopyTree(directory, Path.Combine(to, name), []);
            }
        }

        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    /// <summary>The items of every batch line of a type, in the order written.</summary>
    internal static List<JsonElement> Batched(IEnumerable<string> lines, string type, string items) =>
        lines.Where(l => TypeOf(l) == type).SelectMany(l => Parse(l).GetProperty("data").GetProperty(items).EnumerateArray()).ToList();
}
