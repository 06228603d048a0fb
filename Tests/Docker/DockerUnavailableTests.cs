using Backtesting.Grains.Interfaces;
using Backtesting.Tests.Cluster;
using static Backtesting.Tests.Cluster.ClusterTests;

namespace Backtesting.Tests.Docker;

/// <summary>What happens when the Docker daemon cannot be reached (no daemon needed for these).</summary>
[Collection("cluster")]
public class DockerUnavailableTests
{
    private const string Nowhere = "unix:///nonexistent/backtesting-docker.sock";

    [Fact]
    public async Task Without_a_daemon_a_backtest_fails_at_once_with_a_clear_error()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.Runner = "docker";
            o.Docker.Endpoint = Nowhere;
            o.Docker.DaemonTimeout = TimeSpan.FromSeconds(2);
        });
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Daily));
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(1));
        Assert.Equal(BacktestState.Failed, done.State);
        Assert.Contains("Docker daemon", done.Error!.ErrorMessage);
        Assert.Contains("unreachable", done.Error.ErrorMessage);
        Assert.Contains(Nowhere, done.Error.ErrorMessage);
        Assert.Equal("runner unavailable", Assert.Single(done.Attempts).Outcome);
        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task With_the_fallback_configured_backtests_run_as_local_processes()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.Runner = "docker";
            o.Docker.Endpoint = Nowhere;
            o.Docker.DaemonTimeout = TimeSpan.FromSeconds(2);
            o.Docker.FallbackToProcess = true;
        });
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Daily));
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(1));
        Assert.Equal(BacktestState.Completed, done.State);
        Assert.Equal("process", Assert.Single(done.Attempts).Runner);
        AssertSameResult(Direct(Daily), (await host.Backtest(id).GetResults())!);
    }
}
