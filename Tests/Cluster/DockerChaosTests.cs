using System.Diagnostics;
using System.Globalization;
using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Backtesting.Tests.Docker;
using Backtesting.Tests.Optimization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// The small chaos run of issue 18 on the Docker runner: three Silo processes on a PostgreSQL of the test's own, a burst of
/// backtests from three owners at mixed priorities under the cluster and per-owner limits plus one grid optimization job,
/// and, while they run, a worker container killed, a silo killed (kill -9) and replaced with PostgreSQL restarted, the Docker
/// daemon restarted, and another silo killed. Once the faults stop everything must drain within a bound, and the chaos
/// checks (<see cref="ChaosInvariants"/>, the benchmark's too) must hold: every backtest ended once and completed with the
/// results of a run without faults, every row agrees with its grain, every trial is stored once and the job completed, the
/// queue is empty, no container or worker is left, and start order follows submission order.
/// </summary>
/// <remarks>
/// It restarts this checkout's daemon (scripts/docker.sh), which every Docker test uses: it is in the "cluster" collection,
/// which runs alone, and ./test.sh runs one test assembly at a time, so no other test uses Docker meanwhile. Sizes come from
/// BACKTESTING_CHAOS_DOCKER_BACKTESTS and BACKTESTING_CHAOS_DOCKER_TRIALS.
/// </remarks>
[Collection("cluster")]
public sealed class DockerChaosTests
{
    private static readonly TimeSpan RecoveryReminder = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FaultGap = TimeSpan.FromSeconds(5);
    /// <summary>How long the cluster may take to finish everything once the faults stop (the remaining work included).</summary>
    private static readonly TimeSpan DrainBound = TimeSpan.FromMinutes(4);
    private static readonly string[] Owners = ["alice", "bob", "carol"];
    private const int BatchTrials = 100;

    /// <summary>A grid of 20 x 20 = 400 trials (or fewer, by maxTrials) of MovingAverageCross on SPY daily 2016-2020.</summary>
    private static string Grid(int trials) => $$$"""
        {"name":"chaos grid","baseConfig":{{{OptimizationFixtures.BaseConfig}}},
         "parameters":{"fastPeriod":{"min":2,"max":40,"step":2},"slowPeriod":{"min":50,"max":240,"step":10}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"},"seed":7,"maxTrials":{{{trials}}}}
        """;

    [ChaosDockerFact]
    public async Task Backtests_and_a_job_in_containers_survive_silo_kills_a_database_restart_a_daemon_restart_and_a_container_kill()
    {
        var took = Stopwatch.StartNew();
        var count = ChaosTests.Setting("BACKTESTING_CHAOS_DOCKER_BACKTESTS", 12);
        var trials = Math.Min(400, ChaosTests.Setting("BACKTESTING_CHAOS_DOCKER_TRIALS", 400));
        var random = new Random(20261206);
        using var logs = new TempFolder();
        using var work = new TempFolder();
        using var postgres = await OwnPostgres.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("chaos");
        await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
        var clusterId = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string>
        {
            ["Backtesting__MaxConcurrent"] = "4",
            ["Backtesting__MaxConcurrentPerOwner"] = "2",
            ["Backtesting__Runner"] = "docker",
            ["Backtesting__Docker__Endpoint"] = DockerTestEnvironment.Host,
            ["Backtesting__Optimization__BatchTrials"] = BatchTrials.ToString(CultureInfo.InvariantCulture),
        };
        var silos = new List<SiloProcess>();
        SiloProcess Start() => SiloProcesses.Start(connectionString, clusterId, work.Path, logs, RecoveryReminder, settings);
        for (var i = 0; i < 3; i++)
        {
            silos.Add(Start());
        }

        var plan = Enumerable.Range(0, count).Select(i => (Id: Guid.NewGuid(), Owner: Owners[i % Owners.Length], Priority: (BacktestPriority)(i * 7 / 3 % 4),
            Json: ChaosTests.Daily(i))).ToList();
        var backtests = plan.Select(p => new ChaosBacktest(p.Id, p.Owner, p.Priority, p.Json,
            plan.TakeWhile(q => q.Id != p.Id).Count(q => q.Owner == p.Owner && q.Priority == p.Priority))).ToList();
        var references = backtests.Select(b => b.Json).Distinct().AsParallel().ToDictionary(json => json, ClusterTests.Direct);
        var job = (Id: Guid.NewGuid(), Trials: trials);
        var clientHost = await SiloProcesses.ConnectClient(connectionString, clusterId);
        var faults = _faults;
        var passed = false;
        try
        {
            var client = clientHost.Services.GetRequiredService<IClusterClient>();
            foreach (var b in backtests)
            {
                await ChaosHarness.Retry(() => ChaosHarness.Submit(client, b.Id, ClusterTests.Submission(b.Json, b.Priority, b.Owner)));
            }

            await ChaosHarness.Retry(() => ChaosHarness.SubmitJob(client, job.Id, new OptimizationSubmission(OptimizationFixtures.Job(Grid(trials)), "dave")));

            // The faults, one every few seconds while the work runs.
            await Task.Delay(FaultGap);
            faults.Add(await KillContainer(random));
            await Task.Delay(FaultGap);
            await ChaosHarness.KillAndReplace(silos, silos[random.Next(silos.Count)], Start);
            await postgres.RestartAsync("fast");
            faults.Add("silo kill -9, PostgreSQL restart -m fast");
            await Task.Delay(FaultGap);
            await ChaosHarness.RestartDocker(TestPaths.RepositoryRoot);
            faults.Add("Docker daemon restart");
            await Task.Delay(FaultGap);
            await ChaosHarness.KillAndReplace(silos, silos[random.Next(silos.Count)], Start);
            faults.Add("silo kill -9");

            var faultsStopped = Stopwatch.StartNew();
            var pending = backtests.Select(b => b.Id).ToHashSet();
            var jobEnded = false;
            while (pending.Count > 0 || !jobEnded)
            {
                Assert.True(faultsStopped.Elapsed < DrainBound,
                    $"{pending.Count} backtests unfinished and the job {(jobEnded ? "ended" : "not ended")} {DrainBound.TotalMinutes} minutes after the faults " +
                    $"({string.Join("; ", faults)}) stopped\n" + string.Join("\n", silos.Select(s => s.Log[^Math.Min(s.Log.Length, 4000)..])));
                foreach (var id in pending.ToList())
                {
                    try
                    {
                        if ((await client.GetGrain<IBacktestGrain>(id).GetStatus().WaitAsync(TimeSpan.FromSeconds(10))).IsTerminal)
                        {
                            pending.Remove(id);
                        }
                    }
                    catch (Exception e) when (e is not KeyNotFoundException)
                    {
                        // A silo killed a moment ago may still be in the directory: ask again.
                    }
                }

                try
                {
                    jobEnded = jobEnded || (await client.GetGrain<IOptimizationGrain>(job.Id).GetStatus().WaitAsync(TimeSpan.FromSeconds(10))).IsTerminal;
                }
                catch (Exception e) when (e is not KeyNotFoundException)
                {
                }

                await Task.Delay(500);
            }

            var drained = faultsStopped.Elapsed;
            NpgsqlConnection.ClearAllPools();
            var statuses = await ChaosInvariants.Statuses(client, backtests);
            None("every backtest ended once, completed", ChaosInvariants.EndedOnceCompleted(statuses.Values));
            None("results equal the fault-free runs", await ChaosInvariants.ResultsEqualFaultFree(client, connectionString, backtests, statuses, json => references[json]));
            None("rows agree with grains", await ChaosInvariants.RowsAgree(connectionString, backtests, statuses));
            None("every trial stored once, the job completed", await ChaosInvariants.TrialsOnceJobsCompleted(connectionString, [job]));
            None("the queue drained", ChaosInvariants.QueueDrained(await ChaosHarness.Retry(() => client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot())));
            var ours = backtests.Select(b => b.Id).Concat(Enumerable.Range(0, (trials + BatchTrials - 1) / BatchTrials)
                .Select(batch => OptimizationBatchIds.Of(job.Id, batch))).ToHashSet();
            None("no orphan container or worker", await ChaosInvariants.Orphans(work.Path, docker: true, TimeSpan.FromMinutes(1), ours));
            None("start order follows submission order", ChaosInvariants.StartOrder(backtests, statuses));
            None("every attempt granted between its enqueue and its start", ChaosInvariants.GrantedBetweenEnqueueAndStart(statuses.Values));
            var extra = statuses.Values.Sum(s => s.Attempts.Count - 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"docker chaos: {count} backtests and a {trials}-trial job; faults: {string.Join("; ", faults)}; drained {drained.TotalSeconds:F0} s after the last; " +
                $"{extra} attempts beyond the first; the whole test took {took.Elapsed.TotalSeconds:F0} s"));
            passed = true;
        }
        finally
        {
            if (!passed)
            {
                KeepLogs(logs.Path, clusterId);
            }

            await clientHost.StopAsync();
            clientHost.Dispose();
            foreach (var silo in silos)
            {
                silo.Dispose();
            }

            // A daemon left down by a failed restart would fail every later Docker test: start it (a no-op when it runs).
            await ChaosHarness.StartDocker(TestPaths.RepositoryRoot);
        }
    }

    /// <summary>Fails with the check's name, every offender and the faults when <paramref name="offenders"/> is not empty.</summary>
    private void None(string check, List<string> offenders) =>
        Assert.True(offenders.Count == 0, $"{check}: {offenders.Count} offenders after the faults ({string.Join("; ", _faults)}):\n" + string.Join("\n", offenders));

    private readonly List<string> _faults = [];

    /// <summary>
    /// A failed run's silo logs (the killed silos' too) outlive the test's temp folder: copied to a folder of their own
    /// under the temp path, which the test's output names.
    /// </summary>
    private static void KeepLogs(string from, string clusterId)
    {
        var kept = Path.Combine(Path.GetTempPath(), "backtesting-chaos-logs-" + clusterId);
        Directory.CreateDirectory(kept);
        foreach (var log in Directory.EnumerateFiles(from))
        {
            File.Copy(log, Path.Combine(kept, Path.GetFileName(log)), overwrite: true);
        }

        Console.WriteLine($"docker chaos failed: the silo logs are kept in {kept}");
    }

    /// <summary>docker kill of one random running worker container; says which backtest or batch it ran.</summary>
    private static async Task<string> KillContainer(Random random)
    {
        var containers = (await ChaosHarness.Docker("ps", "-q", "--filter", $"label={DockerRunner.BacktestLabel}"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (containers.Length == 0)
        {
            return "no container was running to kill";
        }

        var container = containers[random.Next(containers.Length)];
        var label = (await ChaosHarness.Docker("inspect", "-f", $"{{{{index .Config.Labels \"{DockerRunner.BacktestLabel}\"}}}}", container)).Trim();
        await ChaosHarness.Docker("kill", container);
        return $"container of {label} killed";
    }
}

/// <summary>
/// A test that restarts this checkout's Docker daemon: skipped like a <see cref="DockerFactAttribute"/>, and also when the
/// daemon in use is not one scripts/docker.sh started for this checkout (DOCKER_HOST named another), which it cannot restart.
/// </summary>
public sealed class ChaosDockerFactAttribute : FactAttribute
{
    public ChaosDockerFactAttribute()
    {
        if (new DockerFactAttribute().Skip is { } skip)
        {
            Skip = skip;
        }
        else if (!File.Exists(ChaosHarness.DockerPidFile(TestPaths.RepositoryRoot)))
        {
            Skip = "the Docker daemon in use was not started by scripts/docker.sh for this checkout: this test restarts it";
        }
    }
}
