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
}
