using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Cluster;
using Docker.DotNet.Models;
using static Backtesting.Tests.Cluster.OptimizationClusterHost;

namespace Backtesting.Tests.Docker;

/// <summary>An optimization job on the Docker runner: each batch one container of the worker image, under the backtests' sandbox.</summary>
[Collection("cluster")]
public class DockerOptimizationTests
{
    [DockerFact]
    public async Task A_grid_job_in_containers_stores_the_same_trials_as_the_engine_and_leaves_no_container()
    {
        await using var host = await TestClusterHost.StartAsync(1, o =>
        {
            o.Runner = "docker";
            o.Docker = DockerTestEnvironment.Options();
            o.Optimization.BatchTrials = 6;
        });
        var job = Job(SmallGrid);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(job));
        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
        Assert.True(done.State == OptimizationState.Completed, done.ErrorMessage);

        var rows = await host.Rows(id);
        var direct = Direct(job, batchSize: 6);
        Assert.Equal(Enumerable.Range(0, 12), rows.Select(r => r.TrialNumber));
        foreach (var (row, trial) in rows.Zip(direct.Trials))
        {
            Assert.Equal(MetricsJson(trial),
                JsonSerializer.Serialize(JsonSerializer.Deserialize<PerformanceMetrics>(row.MetricsJson!, JsonDefaults.Options), JsonDefaults.Options));
            Assert.Equal(trial.ContentHash, row.ContentHash);
            Assert.Equal(trial.DailyReturns.Select(r => (float)r), row.DailyReturns!);
        }

        Assert.Equal(direct.Best!.Trial, done.Best!.Trial);
        using var client = DockerTestEnvironment.Client();
        for (var batch = 0; batch < 2; batch++)
        {
            var containers = await client.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{DockerRunner.BacktestLabel}={OptimizationBatchIds.Of(id, batch)}"] = true },
                },
            });
            Assert.Empty(containers);
        }
    }

    [DockerFact]
    public async Task A_custom_strategy_job_runs_its_batches_in_sandboxed_containers_and_each_trial_equals_that_version_run_alone_as_a_backtest()
    {
        await using var host = await TestClusterHost.StartAsync(1, o =>
        {
            o.Runner = "docker";
            o.Docker = DockerTestEnvironment.Options();
            o.Optimization.BatchTrials = 2;
        });
        var v1 = await CustomOptimizationClusterTests.Upload(host, "alice", Custom.StrategySources.SmaCross);
        var parameters = """{"fastPeriod":{"values":[10,20,30]},"slowPeriod":{"values":[60]}}""";
        var job = Job(CustomOptimizationClusterTests.CustomJob(parameters));
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(job));

        // Its batches run as containers of the worker image labelled with the batch's id, under the runner's sandbox.
        using var client = DockerTestEnvironment.Client();
        var seen = new HashSet<string>();
        OptimizationStatus done;
        while (!(done = await host.Optimization(id).GetStatus()).IsTerminal)
        {
            for (var batch = 0; batch < 2; batch++)
            {
                foreach (var container in await BatchContainers(client, id, batch))
                {
                    ContainerInspectResponse inspect;
                    try
                    {
                        inspect = await client.Containers.InspectContainerAsync(container.ID);
                    }
                    catch (global::Docker.DotNet.DockerContainerNotFoundException)
                    {
                        continue; // removed between the listing and the look
                    }

                    Assert.Equal("none", inspect.HostConfig!.NetworkMode);
                    Assert.True(inspect.HostConfig.ReadonlyRootfs);
                    Assert.Equal(DockerTestEnvironment.Options().Image, inspect.Config!.Image);
                    Assert.Contains("optimize-batch", inspect.Config.Cmd);
                    // The batch loads the version's one compile (a compile-only run's), handed over read-only; never the source.
                    Assert.Contains("--strategy-assembly", inspect.Config.Cmd);
                    Assert.DoesNotContain("--strategy-source", inspect.Config.Cmd);
                    var precompiled = Assert.Single(inspect.Mounts, m => m.Destination == DockerSandbox.PrecompiledMount);
                    Assert.False(precompiled.RW);
                    seen.Add(container.ID);
                }
            }

            await Task.Delay(100);
        }

        Assert.True(done.State == OptimizationState.Completed, done.ErrorMessage);
        Assert.NotEmpty(seen);
        var rows = await host.Rows(id);
        Assert.Equal([0, 1, 2], rows.Select(r => r.TrialNumber));
        var plan = Optimization.OptimizationFixtures.Plan(Job(SmallGrid, ("parameters", parameters)));
        foreach (var row in rows)
        {
            await host.AssertTrialEqualsCustomBacktest(plan, row, "alice", v1.Version);
        }

        for (var batch = 0; batch < 2; batch++)
        {
            Assert.Empty(await BatchContainers(client, id, batch));
        }
    }


    /// <summary>
    /// A silo that starts reaps its service's containers that no active run can use. A batch's container is its batch's,
    /// not a backtest's: it was once taken for an orphan (no backtest has the batch's id) and removed under the running
    /// batch at every silo start, costing the batch an attempt each time. Now it is kept while the batch runs, and a
    /// container of a batch that does not exist is still removed.
    /// </summary>
    [DockerFact]
    public async Task The_reaper_of_a_starting_silo_leaves_a_running_batch_its_container_and_removes_a_stray_batch_container()
    {
        await using var host = await TestClusterHost.StartAsync(1, o =>
        {
            o.Runner = "docker";
            o.Docker = DockerTestEnvironment.Options();
            o.Optimization.BatchTrials = 240;
        });
        using var runner = DockerTestEnvironment.Runner(host.Cluster.Options.ServiceId);
        using var output = new TempFolder();
        using var client = DockerTestEnvironment.Client();
        var stray = Guid.NewGuid();
        await client.Containers.CreateContainerAsync(runner.ContainerFor(
            new RunRequest(stray, 1, "{}", output.Path, TestPaths.LeanData, false, TimeSpan.FromSeconds(5), BatchJson: "{}"), ["strategies"]));

        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(LargeGrid)));
        var batch = OptimizationBatchIds.Of(id, 0);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        IList<ContainerListResponse> running;
        while ((running = await Containers(client, batch)).Count == 0 || running[0].State != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "the batch's container never ran");
            await Task.Delay(50);
        }

        var (removed, _) = await new DockerOrphanReaper(runner, host.Client,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DockerOrphanReaper>.Instance).ReapAsync(CancellationToken.None);

        Assert.Empty(await Containers(client, stray));
        Assert.Equal(1, removed);
        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
        Assert.True(done.State == OptimizationState.Completed, done.ErrorMessage);
        Assert.Equal(Enumerable.Range(0, 240), (await host.Rows(id)).Select(r => r.TrialNumber));
        Assert.Equal(1, (await host.Client.GetGrain<IOptimizationBatchGrain>(batch).Ensure()).Attempts);
    }

    private static Task<IList<ContainerListResponse>> Containers(global::Docker.DotNet.DockerClient client, Guid id) =>
        client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{DockerRunner.BacktestLabel}={id}"] = true },
            },
        });

    private static Task<IList<ContainerListResponse>> BatchContainers(global::Docker.DotNet.DockerClient client, Guid job, int batch) =>
        Containers(client, OptimizationBatchIds.Of(job, batch));
}