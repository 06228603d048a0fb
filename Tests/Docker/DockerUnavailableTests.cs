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
    public async Task Without_a_daemon_and_without_a_restart_grace_a_backtest_fails_at_once_with_a_clear_error()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.Runner = "docker";
            o.Docker.Endpoint = Nowhere;
            o.Docker.DaemonTimeout = TimeSpan.FromSeconds(2);
            o.Docker.DaemonRestartGrace = TimeSpan.Zero;
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

    /// <summary>
    /// A silo started while its daemon does not answer (the daemon restarting as the silo starts) waits for it for the
    /// restart grace, counted from the silo's start: the backtest is not failed within it, and fails with the same clear
    /// error once it has passed with the daemon still away.
    /// </summary>
    [Fact]
    public async Task Without_a_daemon_since_the_silo_started_a_backtest_waits_for_the_restart_grace_then_fails_with_a_clear_error()
    {
        var grace = TimeSpan.FromSeconds(12);
        var started = DateTime.UtcNow;
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.Runner = "docker";
            o.Docker.Endpoint = Nowhere;
            o.Docker.DaemonTimeout = TimeSpan.FromSeconds(1);
            o.Docker.DaemonRestartGrace = grace;
        });
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Daily));
        await Task.Delay(TimeSpan.FromSeconds(4));
        var during = await host.Backtest(id).GetStatus();
        if (DateTime.UtcNow - started < grace)
        {
            Assert.False(during.IsTerminal, $"the backtest ended within the grace: {during.State} {during.Error?.ErrorMessage}");
        }

        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(1));
        Assert.True(DateTime.UtcNow - started >= grace, "failed before the grace had passed");
        Assert.Equal(BacktestState.Failed, done.State);
        Assert.Contains("Docker daemon", done.Error!.ErrorMessage);
        Assert.Contains("unreachable", done.Error.ErrorMessage);
        Assert.Contains(Nowhere, done.Error.ErrorMessage);
        Assert.Equal("runner unavailable", done.Attempts[^1].Outcome);
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
