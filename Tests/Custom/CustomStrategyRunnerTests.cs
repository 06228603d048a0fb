using Backtesting.Engine.Data;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Worker;

namespace Backtesting.Tests.Custom;

/// <summary>The runners' side: who may run a custom strategy, and the process runner running one for real.</summary>
public sealed class CustomStrategyRunnerTests
{
    private const string Config = """
        {"strategyClass":"SmaCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"startDate":"2015-01-01",
         "endDate":"2016-12-31","instruments":["SPY"],"initialBalance":100000}
        """;

    private static readonly WorkerCommand Worker = new("dotnet", [WorkerProcess.WorkerDll]);

    private static RunRequest Request(TempFolder temp, string config, string? source) =>
        new(Guid.NewGuid(), 1, config, temp.File("run"), TestPaths.LeanData, false, TimeSpan.FromSeconds(5), StrategySource: source);

    [Fact]
    public async Task The_process_runner_refuses_custom_strategies_unless_allowed_and_writes_nothing()
    {
        using var temp = new TempFolder();

        var refused = await Assert.ThrowsAsync<CustomStrategyRefusedException>(() =>
            new ProcessRunner(Worker).StartAsync(Request(temp, Config, StrategySources.SmaCross), CancellationToken.None));

        Assert.Contains("AllowCustomStrategiesInProcessRunner", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.File("run")));
    }

    [Fact]
    public async Task The_in_process_runner_never_runs_custom_strategies()
    {
        using var temp = new TempFolder();
        var runner = new InProcessRunner(new LeanDataProvider(TestPaths.LeanData));

        var refused = await Assert.ThrowsAsync<CustomStrategyRefusedException>(() =>
            runner.StartAsync(Request(temp, Config, StrategySources.SmaCross), CancellationToken.None));

        Assert.Contains("docker runner", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.File("run")));
    }

    [Fact]
    public async Task An_allowed_process_runner_runs_the_source_next_to_its_config()
    {
        using var temp = new TempFolder();
        var runner = new ProcessRunner(Worker, new ProcessRunnerSettings(AllowCustomStrategies: true, HeapLimitMegabytes: 512));

        var exit = await RunToEnd(runner, Request(temp, Config, StrategySources.SmaCross));

        Assert.Equal(0, exit.Code);
        Assert.Equal("backtest_complete", WorkerProcess.TypeOf(exit.Lines[^1]));
        Assert.Equal(StrategySources.SmaCross, await File.ReadAllTextAsync(temp.File("run/strategy.cs")));
        Assert.True(File.Exists(temp.File("run/results.json")));
    }

    [Fact]
    public async Task A_process_runner_heap_limit_turns_unbounded_allocation_into_a_memory_error()
    {
        using var temp = new TempFolder();
        var runner = new ProcessRunner(Worker, new ProcessRunnerSettings(AllowCustomStrategies: true, HeapLimitMegabytes: 384));
        var source = StrategySources.Probe(inOnBar: "        _hoard.Add(new double[8_000_000]);");
        var config = Config.Replace("SmaCross", "Probe", StringComparison.Ordinal)
            .Replace("\"fastPeriod\":10,\"slowPeriod\":30", "", StringComparison.Ordinal);

        var exit = await RunToEnd(runner, Request(temp, config, source));

        Assert.Equal(1, exit.Code);
        var error = WorkerProcess.Parse(exit.Lines[^1]).GetProperty("data");
        Assert.Equal("memory", error.GetProperty("errorType").GetString());
        Assert.Contains("limited to 384 MB", error.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unbounded_recursion_kills_the_worker_and_the_process_runner_reports_it_as_fatal()
    {
        using var temp = new TempFolder();
        var runner = new ProcessRunner(Worker, new ProcessRunnerSettings(AllowCustomStrategies: true, HeapLimitMegabytes: 512));
        var source = StrategySources.Probe(inOnBar: "        _spins += Recurse(1);",
            members: "    private static long Recurse(long depth) => depth + Recurse(depth + 1) + 1;");
        var config = Config.Replace("SmaCross", "Probe", StringComparison.Ordinal)
            .Replace("\"fastPeriod\":10,\"slowPeriod\":30", "", StringComparison.Ordinal);

        await using var run = await runner.StartAsync(Request(temp, config, source), CancellationToken.None);
        await foreach (var _ in run.Lines.ReadAllAsync())
        {
        }

        var exit = await run.Exit.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.Equal(134, exit.ExitCode); // SIGABRT: the runtime aborts on a stack overflow
        Assert.Contains("overflowed its stack in Probe.Recurse(Int64)", exit.Fatal, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File("run/results.json")));
    }

    [Fact]
    public async Task The_process_runner_ends_the_lines_at_a_line_over_the_limit_without_holding_it()
    {
        using var temp = new TempFolder();
        // A "worker" that prints 8 MB without a newline, then a line, and lingers: the reader must not wait for either.
        var shell = new WorkerCommand("sh", ["-c", "head -c 8000000 /dev/zero | tr '\\0' x; echo; echo after; sleep 60", "worker"]);
        var request = Request(temp, Config, null) with { MaxLineBytes = 64 * 1024 };

        await using var run = await new ProcessRunner(shell).StartAsync(request, CancellationToken.None);
        var lines = new List<string>();
        var refused = await Assert.ThrowsAsync<Grains.Protocol.WorkerProtocolException>(async () =>
        {
            await foreach (var line in run.Lines.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token))
            {
                lines.Add(line);
            }
        });

        Assert.Empty(lines);
        Assert.Contains("longer than 65536 bytes", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<(int Code, List<string> Lines)> RunToEnd(IBacktestRunner runner, RunRequest request)
    {
        await using var run = await runner.StartAsync(request, CancellationToken.None);
        var lines = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await foreach (var line in run.Lines.ReadAllAsync(deadline.Token))
        {
            lines.Add(line);
        }

        return ((await run.Exit.WaitAsync(deadline.Token)).ExitCode, lines);
    }
}
