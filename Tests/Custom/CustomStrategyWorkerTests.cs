using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Compiler;
using static Backtesting.Tests.Custom.StrategySources;
using static Backtesting.Tests.Worker.WorkerProcess;
using Backtesting.Engine;

namespace Backtesting.Tests.Custom;

/// <summary>Custom strategies through the real worker process: compile verb, runs, runaway code.</summary>
public sealed class CustomStrategyWorkerTests
{
    // Generous for the heap the worker, the compiler and one year of daily bars need; small enough to hit fast.
    private static readonly Dictionary<string, string> HeapLimit = new() { ["DOTNET_GCHeapHardLimit"] = (384 * ByteSize.MiB).ToString("X") };

    private const string SpyConfig = """
        {"strategyClass":"NAME","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2010-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,
         "dataConfiguration":{"resolution":"daily","adjustment":"raw"},
         "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    private const string EmaShortConfig = """
        {"strategyClass":"NAME","strategyConfig":{"fastPeriod":12,"slowPeriod":26,"maType":"EMA","allowShort":true},
         "startDate":"2012-01-01","endDate":"2016-12-31","instruments":["SPY","AAPL","IBM"],"initialBalance":250000,
         "accountType":"margin","dataConfiguration":{"adjustment":"splitDividend"},
         "executionSettings":{"slippage":{"model":"fixedBps","bps":2},"commission":{"model":"perShare","perShare":0.005,"minimum":1}},
         "riskSettings":{"positionSizing":{"mode":"percentEquity","percent":0.3}}}
        """;

    private const string ProbeConfig = """
        {"strategyClass":"Probe","strategyConfig":{},"startDate":"2015-01-01","endDate":"2015-12-31","instruments":["SPY"],
         "initialBalance":100000}
        """;

    private static string Write(TempFolder temp, string name, string text)
    {
        var path = temp.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string[] RunArgs(TempFolder temp, string config, string output, string? source, params string[] extra)
    {
        var args = new List<string> { "--config", Write(temp, output + ".json", config), "--output", temp.File(output), "--data", TestPaths.LeanData };
        if (source is not null)
        {
            args.AddRange(["--strategy-source", Write(temp, output + ".cs", source)]);
        }

        return [.. args, .. extra];
    }

    [Theory]
    [InlineData(SpyConfig)]
    [InlineData(EmaShortConfig)]
    public void The_custom_sma_cross_gives_the_templates_results(string config)
    {
        using var temp = new TempFolder();
        var template = Run(RunArgs(temp, config.Replace("NAME", "MovingAverageCross", StringComparison.Ordinal), "template", null));
        var custom = Run(RunArgs(temp, config.Replace("NAME", "SmaCross", StringComparison.Ordinal), "custom", SmaCross));
        Assert.True(template.ExitCode == 0, template.Stderr);
        Assert.True(custom.ExitCode == 0, custom.Stderr);

        var expected = JsonNode.Parse(File.ReadAllText(temp.File("template/results.json")))!.AsObject();
        var actual = JsonNode.Parse(File.ReadAllText(temp.File("custom/results.json")))!.AsObject();
        Assert.True(actual["summary"]!["totalTrades"]!.GetValue<int>() > 5, "too few trades to compare");
        // The strategy's name and the content hash (which covers the custom source) are all that may differ.
        Assert.Equal("SmaCross", actual["summary"]!["strategy"]!.GetValue<string>());
        Assert.NotEqual(expected["contentHash"]!.GetValue<string>(), actual["contentHash"]!.GetValue<string>());
        foreach (var result in new[] { expected, actual })
        {
            result["config"]!["strategyClass"] = "X";
            result["summary"]!["strategy"] = "X";
            result.Remove("contentHash");
        }

        Assert.Equal(expected.ToJsonString(), actual.ToJsonString());
        // The streamed trades match too, trade for trade (the batches around them may be cut at other moments).
        static IEnumerable<string> Trades(IReadOnlyList<string> lines) =>
            Worker.WorkerEndToEndTests.Batched(lines, "backtest_trade", "trades").Select(t => t.GetRawText());
        Assert.Equal(Trades(template.Stdout), Trades(custom.Stdout));
    }

    [Fact]
    public void Compile_prints_the_schema_and_writes_the_assembly()
    {
        using var temp = new TempFolder();
        var (code, stdout, stderr) = Run("compile", "--source", SmaCrossPath, "--output", temp.File("compiled"));

        Assert.True(code == 0, stderr);
        var printed = JsonSerializer.Deserialize<JsonElement>(Assert.Single(stdout));
        Assert.True(printed.GetProperty("ok").GetBoolean());
        Assert.Equal("SmaCross", printed.GetProperty("strategy").GetProperty("name").GetString());
        Assert.Equal(["fastPeriod", "slowPeriod", "maType", "allowShort"],
            printed.GetProperty("strategy").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(stdout[0], File.ReadAllText(temp.File("compiled/compile.json")));
        // Deterministic across processes: the worker's bytes are the bytes this process compiles.
        var here = StrategyCompiler.Compile(SmaCross);
        Assert.Equal(here.SourceHash, printed.GetProperty("sourceHash").GetString());
        Assert.Equal(here.AssemblyHash, printed.GetProperty("assemblyHash").GetString());
        Assert.Equal(here.Assembly, File.ReadAllBytes(temp.File("compiled/strategy.dll")));
    }

    [Fact]
    public void Compile_reports_rejected_code_at_its_line_with_exit_code_6()
    {
        using var temp = new TempFolder();
        var source = Probe(inOnStart: "        var secret = System.IO.File.ReadAllText(\"/etc/passwd\"); " + Marker);

        var (code, stdout, stderr) = Run("compile", "--source", Write(temp, "strategy.cs", source), "--output", temp.File("compiled"));

        Assert.Equal(6, code);
        var printed = JsonSerializer.Deserialize<JsonElement>(Assert.Single(stdout));
        Assert.False(printed.GetProperty("ok").GetBoolean());
        var diagnostic = printed.GetProperty("diagnostics").EnumerateArray().First();
        Assert.Equal(SandboxRules.ForbiddenApi, diagnostic.GetProperty("id").GetString());
        Assert.Equal(MarkedLine(source), diagnostic.GetProperty("line").GetInt32());
        Assert.Contains("file system access is not allowed", diagnostic.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains($"strategy.cs({MarkedLine(source)},", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File("compiled/strategy.dll")));
    }

    [Fact]
    public void Compile_runs_no_strategy_code_so_a_constructor_that_never_returns_compiles()
    {
        using var temp = new TempFolder();
        var source = Probe(members: "    public Probe() { while (_spins >= 0) { _spins++; } }");

        // Were the constructor run, the worker would print the BT0204 timeout and exit with 7 instead.
        var (code, stdout, stderr) = Run("compile", "--source", Write(temp, "strategy.cs", source), "--timeout-seconds", "120");

        Assert.True(code == 0, stderr);
        var printed = JsonSerializer.Deserialize<JsonElement>(Assert.Single(stdout));
        Assert.True(printed.GetProperty("ok").GetBoolean());
        Assert.Equal(5, printed.GetProperty("strategy").GetProperty("parameters")[0].GetProperty("default").GetInt32());
    }

    [Theory]
    [InlineData("var secret = System.IO.File.ReadAllText(\"/etc/passwd\");", "file system access")]
    [InlineData("var socket = new System.Net.Sockets.TcpClient(\"127.0.0.1\", 5432);", "network access")]
    [InlineData("System.Diagnostics.Process.Start(\"/bin/touch\", \"/tmp/owned\");", "processes")]
    public void A_run_with_rejected_code_is_an_invalid_config_and_writes_nothing(string code, string reason)
    {
        using var temp = new TempFolder();
        var source = Probe(inOnStart: "        " + code + " " + Marker);

        var run = Run(RunArgs(temp, ProbeConfig, "out", source));

        Assert.Equal(2, run.ExitCode);
        var error = Parse(Assert.Single(run.Stdout)).GetProperty("data");
        Assert.Equal("validation", error.GetProperty("errorType").GetString());
        var first = error.GetProperty("errorDetails").GetProperty("validationErrors")[0];
        Assert.Equal("strategySource", first.GetProperty("field").GetString());
        Assert.StartsWith($"line {MarkedLine(source)}, column ", first.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(reason, first.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void An_exception_in_the_strategy_fails_the_run_naming_its_line()
    {
        using var temp = new TempFolder();
        var source = Probe(inOnBar: "        if (After-- <= 0) throw new System.InvalidOperationException(\"no more bars\"); " + Marker);

        var run = Run(RunArgs(temp, ProbeConfig, "out", source));

        Assert.True(run.ExitCode == 1, run.Stderr);
        var error = Parse(run.Stdout[^1]).GetProperty("data");
        Assert.Equal("execution", error.GetProperty("errorType").GetString());
        Assert.Equal($"InvalidOperationException: no more bars (strategy.cs line {MarkedLine(source)})", error.GetProperty("errorMessage").GetString());
    }

    [Fact]
    public void Unbounded_allocation_ends_with_a_memory_error_under_a_heap_limit()
    {
        using var temp = new TempFolder();
        var source = Probe(inOnBar: "        _hoard.Add(new double[8_000_000]);");

        var run = RunWith(HeapLimit, RunArgs(temp, ProbeConfig, "out", source));

        Assert.True(run.ExitCode == 1, run.Stderr);
        var error = Parse(run.Stdout[^1]);
        Assert.Equal("backtest_error", error.GetProperty("type").GetString());
        Assert.Equal("memory", error.GetProperty("data").GetProperty("errorType").GetString());
        Assert.Contains("ran out of memory (its heap is limited to", error.GetProperty("data").GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File("out/results.json")));
    }

    // The stall clock starts when the run starts; the timeout covers compiling too, so it is given room for a
    // slow machine's compile (if it ran out even then, the run would stop at once with the same timeout error).
    [Theory]
    [InlineData("--stall-seconds", "3", "made no progress for 3 s")]
    [InlineData("--timeout-seconds", "15", "exceeded its timeout of 15 s")]
    public void An_endless_loop_is_ended_by_the_watchdog_and_reported(string option, string seconds, string expected)
    {
        using var temp = new TempFolder();
        var source = Probe(inOnBar: "        if (After-- <= 0) { while (_spins >= 0) { _spins++; } }");

        var run = Run(RunArgs(temp, ProbeConfig, "out", source, option, seconds));

        Assert.True(run.ExitCode == 7, run.Stderr);
        var error = Parse(run.Stdout[^1]);
        Assert.Equal("backtest_error", error.GetProperty("type").GetString());
        Assert.Equal("timeout", error.GetProperty("data").GetProperty("errorType").GetString());
        var message = error.GetProperty("data").GetProperty("errorMessage").GetString()!;
        Assert.Contains(expected, message, StringComparison.Ordinal);
        if (option == "--stall-seconds")
        {
            Assert.Contains("did not return", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_endless_loop_in_parameter_validation_is_ended_at_the_timeout()
    {
        using var temp = new TempFolder();
        var source = Probe(members: """
                public override IEnumerable<ValidationError> ValidateParameters()
                {
                    while (_spins >= 0) { _spins++; }
                    yield break;
                }
            """);

        var run = Run(RunArgs(temp, ProbeConfig, "out", source, "--timeout-seconds", "3"));

        Assert.True(run.ExitCode == 7, run.Stderr);
        var error = Parse(run.Stdout[^1]).GetProperty("data");
        Assert.Equal("timeout", error.GetProperty("errorType").GetString());
        Assert.Contains("exceeded its timeout of 3 s", error.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }
}
