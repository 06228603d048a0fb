using Backtesting.Engine.Protocol;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Docker;
using Backtesting.Tests.Worker;
using Backtesting.Worker;
using static Backtesting.Tests.Custom.StrategySources;

namespace Backtesting.Tests.Security;

/// <summary>
/// Strategies that compile (the sandbox allows every line of them) but misbehave at run time, each run in the real
/// worker image under the Docker runner's sandbox: the run must end by itself, within the limits it was given, with
/// the reason, and leave no results. The compile-time probes are in <see cref="HostileStrategyCompileTests"/>.
/// </summary>
[Collection("cluster")]
public sealed class HostileStrategyRuntimeTests
{
    private const string Config = """
        {"strategyClass":"Probe","strategyConfig":{},"startDate":"2015-01-01",
         "endDate":"2016-12-31","instruments":["SPY"],"initialBalance":100000}
        """;

    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(3);

    /// <summary>The run's overall limit: what ends a loop that starts before the engine reports anything.</summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(25);

    private const string NoProgress = "made no progress";
    private const string OverTime = "exceeded its timeout";

    private const string Spin = "while (After >= 0) { _spins++; }";

    /// <summary>
    /// An endless loop in each hook the engine calls and in the constructor: where it is, the probe's parts, and the
    /// limit that ends it. The stall limit watches the engine, so a loop before the engine starts (the constructor runs
    /// when the worker first creates the strategy) is ended by the run's overall limit, and in a cluster also by the
    /// silo's watchdog, which expects a first line within the stall and compile limits.
    /// </summary>
    public static TheoryData<string, string, string, string, string, string> EndlessLoops => new()
    {
        // hook, header, in OnStart, in OnBar, other members, the reason the run ends with
        { "OnStart", "", Spin, "", "", NoProgress },
        { "OnBar", "", "", $"if (_spins++ > After) {{ {Spin} }}", "", NoProgress },
        { "OnSliceEnd", "", "", "", $"    public override void OnSliceEnd(System.DateTime time) {{ if (_spins++ > After) {{ {Spin} }} }}", NoProgress },
        { "OnFill", "using Backtesting.Engine.Orders;", "", "if (_spins++ == After) { Buy(0, 1); }", $"    public override void OnFill(in Fill fill) {{ {Spin} }}", NoProgress },
        { "OnEnd", "", "", "", $"    public override void OnEnd() {{ {Spin} }}", NoProgress },
        { "the constructor", "", "", "", $"    public Probe() {{ {Spin} }}", OverTime },
    };

    [DockerTheory]
    [MemberData(nameof(EndlessLoops))]
    public async Task An_endless_loop_in_any_hook_ends_the_run_at_its_limit_with_the_reason(string hook, string header, string inOnStart,
        string inOnBar, string members, string reason)
    {
        using var temp = new TempFolder();
        using var runner = DockerTestEnvironment.Runner("hostile-runtime");
        var source = Probe(inOnStart: inOnStart, members: members, header: header, inOnBar: inOnBar);

        var (exit, lines) = await RunToEnd(runner, Request(temp, source));

        Assert.True(exit.ExitCode == ExitCodes.TimedOut, $"{hook}: exit {exit.ExitCode}: {string.Join("\n", lines.TakeLast(2))} {exit.Fatal}");
        var error = WorkerProcess.Parse(lines[^1]).GetProperty("data");
        Assert.Equal("timeout", error.GetProperty("errorType").GetString());
        Assert.Contains(reason, error.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File("run/results.json")), hook);
    }

    [DockerFact]
    public async Task A_huge_exception_message_reaches_the_silo_bounded()
    {
        using var temp = new TempFolder();
        using var runner = DockerTestEnvironment.Runner("hostile-runtime");
        var source = Probe(inOnBar: "if (_spins++ > After) { throw new System.InvalidOperationException(new string('x', 50_000_000)); }");

        var (exit, lines) = await RunToEnd(runner, Request(temp, source), lineLimitHit: true);

        // The run fails; what the silo was handed is either a bounded line or nothing past the line limit.
        Assert.NotEqual(ExitCodes.Completed, exit.ExitCode);
        Assert.All(lines, l => Assert.True(l.Length <= Grains.Protocol.WorkerLineReader.DefaultMaxLineBytes, $"a line of {l.Length} characters"));
        Assert.False(File.Exists(temp.File("run/results.json")));
    }

    private static RunRequest Request(TempFolder temp, string source) =>
        new(Guid.NewGuid(), 1, Config, temp.File("run"), TestPaths.LeanData, false, TimeSpan.FromSeconds(5), StrategySource: source,
            Timeout: RunLimit, StallTimeout: Stall);

    private static async Task<(RunExit Exit, List<string> Lines)> RunToEnd(IBacktestRunner runner, RunRequest request, bool lineLimitHit = false)
    {
        await using var run = await runner.StartAsync(request, CancellationToken.None);
        var lines = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await foreach (var line in run.Lines.ReadAllAsync(deadline.Token))
            {
                lines.Add(line);
            }
        }
        catch (Grains.Protocol.WorkerProtocolException) when (lineLimitHit)
        {
            // The runner refused a line over the limit without buffering it: contained.
        }

        return (await run.Exit.WaitAsync(deadline.Token), lines);
    }
}
