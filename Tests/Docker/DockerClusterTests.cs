using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Cluster;
using Docker.DotNet.Models;
using static Backtesting.Tests.Cluster.ClusterTests;
using Backtesting.Engine;

namespace Backtesting.Tests.Docker;

/// <summary>Backtests through the cluster on the Docker runner: real daemon, real containers, real PostgreSQL.</summary>
[Collection("cluster")]
public class DockerClusterTests
{
    private static Task<TestClusterHost> Start(int silos = 1, Action<BacktestClusterOptions>? configure = null) =>
        TestClusterHost.StartAsync(silos, o =>
        {
            o.Runner = "docker";
            o.Docker = DockerTestEnvironment.Options();
            configure?.Invoke(o);
        });

    private static async Task<IList<ContainerListResponse>> Containers(Guid backtest)
    {
        using var client = DockerTestEnvironment.Client();
        return await client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{DockerRunner.BacktestLabel}={backtest}"] = true },
            },
        });
    }

    private static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("still waiting for " + what);
            }

            await Task.Delay(50);
        }
    }

    [DockerFact]
    public async Task A_backtest_in_a_container_stores_the_same_results_as_the_in_process_runner()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Daily));
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(2));
        Assert.Equal(BacktestState.Completed, done.State);
        var attempt = Assert.Single(done.Attempts);
        Assert.Equal("docker", attempt.Runner);
        Assert.NotNull(attempt.Container);
        Assert.Equal(256 * ByteSize.MiB, attempt.MemoryLimitBytes);
        AssertSameResult(Direct(Daily), (await host.Backtest(id).GetResults())!);
        Assert.Empty(await Containers(id)); // removed once its results were collected
    }

    [DockerFact]
    public async Task Pause_freezes_the_container_and_resume_completes_with_unchanged_results()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running && s.Progress!.Progress.ProcessedBars > 0, TimeSpan.FromMinutes(2));
        // The stats stream reaches the status while the container runs.
        var measured = await host.WaitFor(id, s => s.Resources is not null || s.IsTerminal, TimeSpan.FromMinutes(1));
        Assert.False(measured.IsTerminal, "the run ended before a stats sample arrived");
        Assert.True(measured.Resources!.MemoryMb > 0 && measured.Resources.MemoryLimitMb == 256);

        await host.Backtest(id).Pause();
        var container = Assert.Single(await Containers(id));
        Assert.Equal("paused", container.State);
        await Task.Delay(500); // lines already in flight land
        var before = (await host.Backtest(id).GetStatus()).Progress!.Progress.ProcessedBars;
        await Task.Delay(1500);
        var still = await host.Backtest(id).GetStatus();
        Assert.Equal(BacktestState.Paused, still.State);
        Assert.Equal(before, still.Progress!.Progress.ProcessedBars);

        await host.Backtest(id).Resume();
        await host.WaitFor(id, s => s.IsTerminal || s.Progress!.Progress.ProcessedBars > before, TimeSpan.FromMinutes(1));
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        Assert.Equal(BacktestState.Completed, done.State);
        Assert.Single(done.Attempts);
        AssertSameResult(Direct(Ticks), (await host.Backtest(id).GetResults())!);
    }

    [DockerFact]
    public async Task A_pause_the_daemon_refuses_is_a_refused_transition_with_the_reason_and_changes_nothing()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running && s.Progress!.Progress.ProcessedBars > 0, TimeSpan.FromMinutes(2));
        var container = Assert.Single(await Containers(id));
        using var client = DockerTestEnvironment.Client();
        // Frozen behind the grain's back: the daemon refuses the grain's own pause (the container is already paused).
        await client.Containers.PauseContainerAsync(container.ID);

        var refused = await Assert.ThrowsAsync<IllegalTransitionException>(() => host.Backtest(id).Pause());

        Assert.Equal(BacktestState.Running, refused.Current);
        Assert.Contains("the runner refused", refused.Message, StringComparison.Ordinal);
        Assert.Equal(BacktestState.Running, (await host.Backtest(id).GetStatus()).State);
        await client.Containers.UnpauseContainerAsync(container.ID);
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        Assert.Equal(BacktestState.Completed, done.State);
        AssertSameResult(Direct(Ticks), (await host.Backtest(id).GetResults())!);
    }

    [DockerFact]
    public async Task Cancel_removes_the_container_within_five_seconds()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running, TimeSpan.FromMinutes(2));
        Assert.Single(await Containers(id));
        var cancelling = System.Diagnostics.Stopwatch.StartNew();
        var cancelled = await host.Backtest(id).Cancel();
        Assert.Equal(BacktestState.Cancelled, cancelled.State);
        await WaitUntil(async () => (await Containers(id)).Count == 0, TimeSpan.FromSeconds(30), "the container to go");
        Assert.True(cancelling.Elapsed < TimeSpan.FromSeconds(5), $"the container went after {cancelling.Elapsed.TotalSeconds:F1} s");
        Assert.Equal("cancelled", (await host.Store.GetAsync(id))!.Status);
    }

    [DockerFact]
    public async Task A_container_killed_for_memory_is_retried_with_twice_the_memory_and_completes()
    {
        // 12 MB is far below what the .NET runtime and the engine need for this run (a ReadyToRun worker needs less
        // than a JIT-only one, so the margin must not depend on how the worker is compiled): the first attempt is
        // OOM-killed.
        await using var host = await Start(configure: o =>
        {
            o.Docker.MemoryBytes = 12 * ByteSize.MiB;
            o.Docker.MaxMemoryBytes = 1024 * ByteSize.MiB;
        });
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Daily));
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        var attempts = string.Join("; ", done.Attempts.Select(a => $"{a.MemoryLimitBytes / ByteSize.MiB} MB: {a.Outcome} ({a.ExitCode})"));
        Assert.True(done.State == BacktestState.Completed, attempts);
        Assert.Equal("out of memory", done.Attempts[0].Outcome);
        Assert.Equal(12 * ByteSize.MiB, done.Attempts[0].MemoryLimitBytes);
        for (var i = 1; i < done.Attempts.Count; i++)
        {
            Assert.True(done.Attempts[i - 1].MemoryLimitBytes * 2 == done.Attempts[i].MemoryLimitBytes, attempts);
        }

        Assert.Equal("completed", done.Attempts[^1].Outcome);
        AssertSameResult(Direct(Daily), (await host.Backtest(id).GetResults())!);
    }

    [DockerFact]
    public async Task Out_of_memory_at_the_cap_fails_the_backtest_with_error_type_memory()
    {
        await using var host = await Start(configure: o =>
        {
            // 6 MB is the smallest limit Docker accepts; both attempts are far below the runtime's need.
            o.Docker.MemoryBytes = 6 * ByteSize.MiB;
            o.Docker.MaxMemoryBytes = 12 * ByteSize.MiB;
        });
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Daily));
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        var attempts = string.Join("; ", done.Attempts.Select(a => $"{a.MemoryLimitBytes / ByteSize.MiB} MB: {a.Outcome} ({a.ExitCode})"));
        Assert.True(done.State == BacktestState.Failed, attempts);
        Assert.True(done.Error!.ErrorType == "memory", attempts);
        Assert.True(done.Attempts.Count == 2, attempts);
        Assert.Equal([6 * ByteSize.MiB, 12 * ByteSize.MiB], done.Attempts.Select(a => a.MemoryLimitBytes!.Value));
        Assert.All(done.Attempts, a => Assert.Equal("out of memory", a.Outcome));
        Assert.Empty(await Containers(id));
    }

    [DockerFact]
    public async Task A_killed_container_is_retried_from_its_checkpoint_with_identical_results()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running, TimeSpan.FromMinutes(2));
        await WaitUntil(async () => await host.Store.LoadCheckpointAsync(id) is not null, TimeSpan.FromMinutes(1), "a checkpoint in PostgreSQL");
        var container = Assert.Single(await Containers(id));
        using (var client = DockerTestEnvironment.Client())
        {
            await client.Containers.KillContainerAsync(container.ID, new ContainerKillParameters());
        }

        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        Assert.Equal(BacktestState.Completed, done.State);
        Assert.True(done.Attempts.Count >= 2);
        Assert.StartsWith("died", done.Attempts[0].Outcome);
        Assert.Equal(137, done.Attempts[0].ExitCode);
        Assert.True(done.Attempts[1].ResumedFromPoint > 0, "the retry resumed from the checkpoint");
        AssertSameResult(Direct(Ticks), (await host.Backtest(id).GetResults())!);
        Assert.Empty(await Containers(id));
    }

    [DockerFact]
    public async Task After_a_silo_restart_orphans_are_removed_and_a_live_container_is_reattached()
    {
        await using var host = await Start();
        // A leftover of this service whose backtest does not exist: reaped when the silo starts.
        var stray = Guid.NewGuid();
        using var runner = DockerTestEnvironment.Runner(host.Cluster.Options.ServiceId);
        using var output = new TempFolder();
        using (var client = DockerTestEnvironment.Client())
        {
            await client.Containers.CreateContainerAsync(runner.ContainerFor(
                new RunRequest(stray, 1, "{}", output.Path, TestPaths.LeanData, false, TimeSpan.FromSeconds(5)), ["strategies"]));
        }

        Assert.Single(await Containers(stray));

        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running, TimeSpan.FromMinutes(2));
        await WaitUntil(async () => await host.Store.LoadCheckpointAsync(id) is not null, TimeSpan.FromMinutes(1), "a checkpoint in PostgreSQL");
        // Paused, so the container is certain to outlive the restart; its silo goes away without stopping it.
        await host.Backtest(id).Pause();
        var container = Assert.Single(await Containers(id));

        await host.Cluster.RestartSiloAsync(host.Cluster.Silos[0]);
        await host.Cluster.WaitForLivenessToStabilizeAsync();
        await WaitUntil(async () => (await Containers(stray)).Count == 0, TimeSpan.FromMinutes(1), "the stray container to be reaped");
        Assert.Equal(container.ID, Assert.Single(await Containers(id)).ID); // the live one was kept

        await host.Retry(() => host.Backtest(id).Resume());
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        Assert.Equal(BacktestState.Completed, done.State);
        Assert.True(done.Attempts[^1].Reattached, "the new attempt followed the container that was still there");
        Assert.Equal(container.ID, done.Attempts[^1].Container);
        AssertSameResult(Direct(Ticks), (await host.Backtest(id).GetResults())!);
        Assert.Empty(await Containers(id));
    }
}
