using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Docker;
using Backtesting.Tests.Worker;
using Docker.DotNet.Models;
using static Backtesting.Tests.Custom.StrategySources;

namespace Backtesting.Tests.Custom;

/// <summary>Custom strategies in the worker image, under the Docker runner's sandbox (real daemon).</summary>
[Collection("cluster")]
public sealed class CustomStrategyDockerTests
{
    private const string Config = """
        {"strategyClass":"SmaCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"startDate":"2015-01-01",
         "endDate":"2016-12-31","instruments":["SPY"],"initialBalance":100000}
        """;

    private static RunRequest Request(TempFolder temp, string config, string? source) =>
        new(Guid.NewGuid(), 1, config, temp.File("run"), TestPaths.LeanData, false, TimeSpan.FromSeconds(5), StrategySource: source);

    [DockerFact]
    public async Task The_docker_runner_runs_a_custom_strategy_in_its_container()
    {
        using var temp = new TempFolder();
        using var runner = DockerTestEnvironment.Runner("custom-test");

        var (exit, lines) = await RunToEnd(runner, Request(temp, Config, SmaCross));

        Assert.True(exit.ExitCode == 0, string.Join("\n", lines.TakeLast(3)));
        Assert.Equal("backtest_complete", WorkerProcess.TypeOf(lines[^1]));
        using var results = JsonDocument.Parse(await File.ReadAllTextAsync(temp.File("run/results.json")));
        Assert.Equal("SmaCross", results.RootElement.GetProperty("summary").GetProperty("strategy").GetString());
    }

    [DockerFact]
    public async Task Unbounded_allocation_in_a_container_fails_cleanly()
    {
        using var temp = new TempFolder();
        using var runner = DockerTestEnvironment.Runner("custom-test");
        var source = Probe(inOnBar: "        _hoard.Add(new double[8_000_000]);");
        var config = Config.Replace("SmaCross", "Probe", StringComparison.Ordinal)
            .Replace("\"fastPeriod\":10,\"slowPeriod\":30", "", StringComparison.Ordinal);

        var (exit, lines) = await RunToEnd(runner, Request(temp, config, source));

        // The runtime keeps its heap under the container's limit, so the worker reports the error itself; should the
        // process outgrow the limit anyway, the runner reports the container's OOM kill. Either way the run ends.
        if (!exit.OutOfMemory)
        {
            Assert.Equal(1, exit.ExitCode);
            var error = WorkerProcess.Parse(lines[^1]).GetProperty("data");
            Assert.Equal("memory", error.GetProperty("errorType").GetString());
        }

        Assert.False(File.Exists(temp.File("run/results.json")));
    }

    [DockerFact]
    public async Task Compile_runs_in_the_sandbox_and_reports_rejected_code_at_its_line()
    {
        using var temp = new TempFolder();
        using var runner = DockerTestEnvironment.Runner("custom-test");
        var source = Probe(inOnStart: "        var socket = new System.Net.Sockets.TcpClient(\"10.0.0.1\", 80); " + Marker);
        var request = Request(temp, "{}", null);
        DockerTestEnvironment.PrepareFolder(request.OutputDirectory); // as the runner opens an attempt's folder

        await File.WriteAllTextAsync(temp.File("run/strategy.cs"), source);
        var parameters = runner.ContainerFor(request, ["compile", "--source", "/output/strategy.cs", "--timeout-seconds", "60"]);

        using var client = DockerTestEnvironment.Client();
        var container = await client.Containers.CreateContainerAsync(parameters);
        try
        {
            await client.Containers.StartContainerAsync(container.ID, new ContainerStartParameters());
            var exit = await client.Containers.WaitContainerAsync(container.ID);
            using var logs = await client.Containers.GetContainerLogsAsync(container.ID, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true });
            var (stdout, stderr) = await logs.ReadOutputToEndAsync(CancellationToken.None);

            Assert.True(exit.StatusCode == 6, $"compile exited {exit.StatusCode}: {stderr}");
            var result = JsonSerializer.Deserialize<CompileResult>(stdout.Trim(), Backtesting.Engine.Configuration.JsonDefaults.Options)!;
            Assert.False(result.Ok);
            Assert.Contains(result.Diagnostics, d => d.Id == SandboxRules.ForbiddenApi && d.Line == MarkedLine(source)
                && d.Message.Contains("network access", StringComparison.Ordinal));
            Assert.Equal(StrategyCompiler.HashSource(source), result.SourceHash);
        }
        finally
        {
            await runner.RemoveAsync(container.ID, CancellationToken.None);
        }
    }

    [DockerFact]
    public async Task Unbounded_recursion_in_a_container_is_reported_as_fatal()
    {
        using var temp = new TempFolder();
        using var runner = DockerTestEnvironment.Runner("custom-test");
        var source = Probe(inOnBar: "        _spins += Recurse(1);",
            members: "    private static long Recurse(long depth) => depth + Recurse(depth + 1) + 1;");
        var config = Config.Replace("SmaCross", "Probe", StringComparison.Ordinal)
            .Replace("\"fastPeriod\":10,\"slowPeriod\":30", "", StringComparison.Ordinal);

        var (exit, _) = await RunToEnd(runner, Request(temp, config, source));

        // The runtime aborts (SIGABRT, 134); as the container's first process the worker ends with SIGSEGV (139) instead.
        Assert.Contains(exit.ExitCode, new[] { 134, 139 });
        Assert.Contains("overflowed its stack in Probe.Recurse(Int64)", exit.Fatal, StringComparison.Ordinal);
    }

    private static async Task<(RunExit Exit, List<string> Lines)> RunToEnd(IBacktestRunner runner, RunRequest request)
    {
        await using var run = await runner.StartAsync(request, CancellationToken.None);
        var lines = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await foreach (var line in run.Lines.ReadAllAsync(deadline.Token))
        {
            lines.Add(line);
        }

        return (await run.Exit.WaitAsync(deadline.Token), lines);
    }
}
