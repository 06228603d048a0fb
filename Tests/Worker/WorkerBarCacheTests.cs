using System.Text.Json;
using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Cache;
using Backtesting.Engine.Data.Lean;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Protocol;
using Backtesting.Tests.Data;
using Backtesting.Worker;
using static Backtesting.Tests.Worker.WorkerProcess;

namespace Backtesting.Tests.Worker;

/// <summary>
/// The worker's bar cache flags and --timings as a whole process on a month of synthetic minute bars: the same
/// results with the cache off, cold and warm; two workers racing on an empty cache both succeed alike; the timings
/// line is one diagnostic the silo accepts.
/// </summary>
public sealed class WorkerBarCacheTests : IDisposable
{
    private static readonly Guid Id = Guid.Parse("0b0b0b0b-1111-2222-3333-444444444444");

    private const string Config = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2020-02-03","endDate":"2020-02-28","instruments":["SPY"],"initialBalance":100000,
         "dataConfiguration":{"resolution":"minute","adjustment":"raw"},
         "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"none"}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    private readonly TempFolder _temp = new();
    private readonly string _data;

    public WorkerBarCacheTests()
    {
        _data = Path.Combine(_temp.Path, "lean");
        SyntheticLeanMinutes.Generate(TestPaths.LeanData, _data, new DateOnly(2020, 1, 27), new DateOnly(2020, 2, 28), seed: 11);
    }

    public void Dispose() => _temp.Dispose();

    private string[] Args(string output, params string[] extra)
    {
        var config = _temp.File("config.json");
        File.WriteAllText(config, Config);
        return [.. new[] { "--config", config, "--output", _temp.File(output), "--data", _data, "--backtest-id", Id.ToString() }, .. extra];
    }

    /// <summary>What must not depend on how the data was read: the content hash (config and data version), trades, equity.</summary>
    private string Results(string output)
    {
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(_temp.File(output), "results.json")));
        var root = results.RootElement;
        Assert.True(root.GetProperty("trades").GetArrayLength() > 0, "the run made no trades: the comparison would be weak");
        return string.Join("\n", new[] { "contentHash", "summary", "trades", "orders", "equityCurve" }.Select(k => root.GetProperty(k).GetRawText()));
    }

    [Fact]
    public void Off_cold_and_warm_give_the_same_results_and_the_default_folder_is_beside_the_data()
    {
        var (code, _, stderr) = Run(Args("off", "--bar-cache", "off"));
        Assert.True(code == 0, stderr);
        var defaultFolder = BarCache.DefaultDirectory(_data);
        Assert.Equal(Path.Combine(_temp.Path, "bar-cache", "lean"), defaultFolder);
        Assert.False(Directory.Exists(defaultFolder));

        (code, _, stderr) = Run(Args("cold"));
        Assert.True(code == 0, stderr);
        var entries = Directory.GetFiles(defaultFolder, "*" + BarCache.EntryExtension, SearchOption.AllDirectories);
        Assert.Single(entries);
        var built = File.GetLastWriteTimeUtc(entries[0]);

        (code, _, stderr) = Run(Args("warm"));
        Assert.True(code == 0, stderr);
        Assert.Equal(built, File.GetLastWriteTimeUtc(entries[0]));
        Assert.Equal(Results("off"), Results("cold"));
        Assert.Equal(Results("off"), Results("warm"));
    }

    [Fact]
    public void Read_only_with_an_empty_cache_writes_nothing_and_gives_the_same_results()
    {
        var cache = _temp.File("cache");
        var (code, _, stderr) = RunWith(new Dictionary<string, string> { [WorkerOptions.BarCacheEnvironmentVariable] = cache },
            Args("read-only", "--bar-cache-read-only"));
        Assert.True(code == 0, stderr);
        Assert.False(Directory.Exists(cache));
        (code, _, stderr) = RunWith(new Dictionary<string, string> { [WorkerOptions.BarCacheEnvironmentVariable] = cache }, Args("written"));
        Assert.True(code == 0, stderr);
        Assert.Single(Directory.GetFiles(cache, "*" + BarCache.EntryExtension, SearchOption.AllDirectories));
        Assert.Equal(Results("read-only"), Results("written"));
    }

    [Fact]
    public void Two_workers_started_together_on_an_empty_cache_both_succeed_alike()
    {
        var cache = _temp.File("shared-cache");
        using var first = Start(Args("first", "--bar-cache", cache));
        using var second = Start(Args("second", "--bar-cache", cache));
        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(3)) == 0, first.Stderr);
        Assert.True(second.WaitForExit(TimeSpan.FromMinutes(3)) == 0, second.Stderr);
        Assert.Equal(Results("first"), Results("second"));
        Assert.Single(Directory.GetFiles(cache, "*" + BarCache.EntryExtension, SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(cache, "*.tmp", SearchOption.AllDirectories));

        var provider = new LeanDataProvider(_data, new LeanDataProviderOptions(cache, BarCacheReadOnly: true));
        Assert.True(provider.Catalog.TryResolve("SPY", out var spy));
        var request = new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, new DateOnly(2020, 1, 1), new DateOnly(2020, 3, 1));
        BarCacheTestKit.AssertIdentical(BarCacheTestKit.Read(new LeanDataProvider(_data), spy, request),
            BarCacheTestKit.Read(provider, spy, request), "after the race");
    }

    [Fact]
    public void Timings_prints_one_diagnostic_line_the_silo_accepts()
    {
        var (code, lines, stderr) = Run(Args("timed", "--timings", "--bar-cache", _temp.File("timed-cache")));
        Assert.True(code == 0, stderr);
        var timings = lines.Where(l => l.Contains(MessageTypes.Timings, StringComparison.Ordinal)).ToList();
        Assert.Single(timings);
        Assert.Equal(MessageTypes.Complete, JsonDocument.Parse(lines[^1]).RootElement.GetProperty("type").GetString());

        var reader = new AttemptLines(Id, WorkerLineReader.DefaultMaxLineBytes);
        var diagnostic = Assert.IsType<WorkerEvent.Diagnostic>(reader.Read(timings[0], null));
        var t = diagnostic.Timings;
        Assert.All(new[] { t.StartupMs, t.DataMs, t.EngineMs, t.ResultsMs }, ms => Assert.InRange(ms, 0, t.TotalMs));
        Assert.True(t.DataMs > 0 && t.EngineMs > 0 && t.TotalMs > 0, timings[0]);
        Assert.True(t.StartupMs + t.DataMs + t.EngineMs + t.ResultsMs <= t.TotalMs + 1, timings[0]);
        // The JIT's figures are counted from the process's start: the whole run's include the start-up's.
        Assert.True(t.StartupJitMethods > 0 && t.JitMethods >= t.StartupJitMethods && t.JitMs >= t.StartupJitMs, timings[0]);
        Assert.Equal(0, reader.Reader.MalformedLines);

        // Without the flag there is no such line.
        (code, lines, stderr) = Run(Args("untimed", "--bar-cache", _temp.File("timed-cache")));
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain(lines, l => l.Contains(MessageTypes.Timings, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new string[0], null, "default", false)]
    [InlineData(new[] { "--bar-cache", "off" }, "/elsewhere", null, false)]
    [InlineData(new[] { "--bar-cache", "OFF" }, null, null, false)]
    [InlineData(new string[0], "off", null, false)]
    [InlineData(new string[0], "/from-env", "/from-env", false)]
    [InlineData(new[] { "--bar-cache", "/flag" }, "/from-env", "/flag", false)]
    [InlineData(new[] { "--bar-cache-read-only" }, null, "default", true)]
    [InlineData(new[] { "--strategy-source", "mine.cs" }, null, "default", true)]
    [InlineData(new[] { "--strategy-source", "mine.cs", "--bar-cache", "/flag" }, null, "/flag", true)]
    public void The_cache_folder_comes_from_the_flag_then_the_variable_then_beside_the_data(string[] flags, string? environment,
        string? folder, bool readOnly)
    {
        var (options, error) = WorkerOptions.Parse([.. new[] { "--config", "c.json", "--output", "out" }, .. flags]);
        Assert.True(options is not null, error);
        var data = Path.Combine(_temp.Path, "lean");
        var resolved = options.DataOptions(data, environment);
        Assert.Equal(folder == "default" ? BarCache.DefaultDirectory(data) : folder, resolved.BarCacheDirectory);
        if (folder is not null)
            Assert.Equal(readOnly, resolved.BarCacheReadOnly);
    }

    [Fact]
    public void Bar_cache_needs_a_value() =>
        Assert.Null(WorkerOptions.Parse(["--config", "c.json", "--output", "out", "--bar-cache"]).Options);
}
