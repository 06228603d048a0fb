using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Orleans.Streams;
using static Backtesting.Tests.Cluster.OptimizationClusterHost;

namespace Backtesting.Tests.Cluster;

/// <summary>Optimization jobs through the cluster: the job grain, its batches in the queue, the runners, real PostgreSQL.</summary>
[Collection("cluster")]
public class OptimizationClusterTests
{
    private static Task<TestClusterHost> Start(string runner = "inProcess", int batchTrials = 5, int silos = 1,
        Action<Grains.BacktestClusterOptions>? configure = null) =>
        TestClusterHost.StartAsync(silos, o =>
        {
            o.Runner = runner;
            o.Optimization.BatchTrials = batchTrials;
            o.Optimization.TpeBatchTrials = batchTrials;
            o.Optimization.ProgressInterval = TimeSpan.FromMilliseconds(200);
            configure?.Invoke(o);
        });

    private static PerformanceMetrics Metrics(string json) => JsonSerializer.Deserialize<PerformanceMetrics>(json, JsonDefaults.Options)!;

    [Theory]
    [InlineData("inProcess")]
    [InlineData("process")]
    public async Task A_grid_job_stores_every_trial_once_equal_to_the_engine_and_its_best_is_the_best_stored_row(string runner)
    {
        await using var host = await Start(runner);
        var job = Job(SmallGrid);
        var id = Guid.NewGuid();
        var submitted = await host.Optimization(id).Submit(Submission(job));
        Assert.Equal(OptimizationState.Queued, submitted.State);
        Assert.Equal(12, submitted.Progress.TrialsPlanned);
        Assert.Equal(3, submitted.Batches.Total);

        var done = await host.WaitForJob(id, s => s.IsTerminal);
        Assert.Equal(OptimizationState.Completed, done.State);
        Assert.Equal([OptimizationState.Created, OptimizationState.Queued, OptimizationState.Running, OptimizationState.Completed],
            done.History.Select(h => h.State));
        Assert.Equal(new OptimizationBatchCounts(0, 0, 3, 3), done.Batches);

        var rows = await host.Rows(id);
        Assert.Equal(Enumerable.Range(0, 12), rows.Select(r => r.TrialNumber));
        var direct = Direct(job, batchSize: 5);
        foreach (var (row, trial) in rows.Zip(direct.Trials))
        {
            AssertSameParameters(trial.Parameters, row.ParametersJson);
            Assert.Equal(MetricsJson(trial), JsonSerializer.Serialize(Metrics(row.MetricsJson!), JsonDefaults.Options));
            Assert.Equal(trial.ContentHash, row.ContentHash);
            Assert.Equal(trial.TradeCount, row.TotalTrades);
            Assert.Equal(trial.Feasible, row.Feasible);
            Assert.Equal(trial.DailyReturns.Select(r => (float)r), row.DailyReturns!);
        }

        var best = ScanBest(rows, maximize: true)!;
        Assert.Equal(direct.Best!.Trial, best.TrialNumber);
        Assert.Equal(best.TrialNumber, done.Best!.Trial);
        Assert.Equal(best.Objective, done.Best.Objective);
        Assert.Equal(12, done.Progress.TrialsCompleted);
        Assert.Equal(rows.Count(r => r.Feasible), done.Progress.TrialsFeasible);
        Assert.Null(done.Progress.EstimatedSecondsRemaining);

        var record = (await host.Store().GetAsync(id))!;
        Assert.Equal(LifecycleWords.Completed, record.Status);
        Assert.NotNull(record.StartedAt);
        Assert.NotNull(record.CompletedAt);
        await host.WaitForFreeSlots();
    }

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    public async Task The_same_seed_stores_the_same_trials_and_best_as_the_engine_run_with_the_same_batch_size(string method)
    {
        await using var host = await Start(batchTrials: 6);
        // Continuous and log ranges for both methods; 14 trials: TPE's model takes over after its 10 startup trials.
        var job = Job(SmallGrid, ("method", $"\"{method}\""), ("maxTrials", "14"), ("seed", "20261206"),
            ("parameters", """{"fastPeriod":{"min":3,"max":30},"slowPeriod":{"min":40,"max":200,"log":true}}"""));
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        await host.Optimization(first).Submit(Submission(job));
        await host.Optimization(second).Submit(Submission(job, owner: "bob"));
        var a = await host.WaitForJob(first, s => s.IsTerminal);
        var b = await host.WaitForJob(second, s => s.IsTerminal);
        Assert.Equal(OptimizationState.Completed, a.State);
        Assert.Equal(OptimizationState.Completed, b.State);

        var rowsA = await host.Rows(first);
        var rowsB = await host.Rows(second);
        var direct = Direct(job, batchSize: 6);
        Assert.Equal(14, rowsA.Count);
        Assert.Equal(rowsA.Select(r => (r.TrialNumber, r.ParametersJson, r.MetricsJson, r.Objective)),
            rowsB.Select(r => (r.TrialNumber, r.ParametersJson, r.MetricsJson, r.Objective)));
        foreach (var (row, trial) in rowsA.Zip(direct.Trials))
        {
            Assert.Equal(trial.Trial, row.TrialNumber);
            AssertSameParameters(trial.Parameters, row.ParametersJson);
            Assert.Equal(trial.ContentHash, row.ContentHash);
        }

        Assert.Equal(direct.Best!.Trial, a.Best!.Trial);
        Assert.Equal(a.Best, b.Best);
    }

    [Fact]
    public async Task Infeasible_trials_are_stored_with_their_reason_and_the_best_is_only_among_feasible_ones()
    {
        await using var host = await Start(batchTrials: 4);
        // fastPeriod 60 or 80 is not below slowPeriod 60: the strategy's rule refuses them; few trades break the constraint.
        var job = Job(SmallGrid,
            ("parameters", """{"fastPeriod":{"values":[5,20,60,80]},"slowPeriod":{"values":[60,100]}}"""),
            ("constraints", """[{"metric":"totalTrades","op":">=","value":8}]"""));
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(job));
        var done = await host.WaitForJob(id, s => s.IsTerminal);
        Assert.Equal(OptimizationState.Completed, done.State);

        var rows = await host.Rows(id);
        var direct = Direct(job, batchSize: 4);
        Assert.Equal(8, rows.Count);
        foreach (var (row, trial) in rows.Zip(direct.Trials))
        {
            Assert.Equal(trial.Feasible, row.Feasible);
            Assert.Equal(trial.InfeasibleReason, row.InfeasibleReason);
            Assert.Equal(trial.Feasible ? trial.ObjectiveValue : null, row.Objective);
            Assert.Equal(trial.Metrics is null, row.MetricsJson is null);
        }

        Assert.Contains(rows, r => r.InfeasibleReason?.StartsWith("strategy rule: ", StringComparison.Ordinal) == true && r.MetricsJson is null);
        Assert.Contains(rows, r => r.InfeasibleReason?.StartsWith("constraint: totalTrades", StringComparison.Ordinal) == true && r.MetricsJson is not null);
        Assert.Equal(rows.Count(r => r.Feasible), done.Progress.TrialsFeasible);
        Assert.Equal(ScanBest(rows, maximize: true)?.TrialNumber, done.Best?.Trial);
        Assert.Equal(direct.Best?.Trial, done.Best?.Trial);
    }

    [Fact]
    public async Task Paused_jobs_store_nothing_new_and_resume_to_every_trial_exactly_once()
    {
        await using var host = await Start(batchTrials: 20);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(LargeGrid)));
        await host.WaitForJob(id, s => s.Progress.TrialsCompleted > 0);

        var paused = await host.Optimization(id).Pause();
        Assert.Equal(OptimizationState.Paused, paused.State);
        Assert.Equal(0, paused.Batches.Running);
        await host.WaitForFreeSlots();
        Assert.DoesNotContain((await host.Queue.GetSnapshot()).Queued, q => q.Kind == QueueItemKind.OptimizationBatch);
        var stored = (await host.Rows(id)).Count;
        await Task.Delay(1500);
        Assert.Equal(stored, (await host.Rows(id)).Count);
        Assert.True(stored < 240, "the job was paused before its end");
        await Assert.ThrowsAsync<IllegalOptimizationMoveException>(() => host.Optimization(id).Pause());

        Assert.Equal(OptimizationState.Running, (await host.Optimization(id).Resume()).State);
        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
        Assert.Equal(OptimizationState.Completed, done.State);
        Assert.Equal(Enumerable.Range(0, 240), (await host.Rows(id)).Select(r => r.TrialNumber));
        Assert.Equal(240, done.Progress.TrialsCompleted);
        Assert.Contains(done.History, h => h.State == OptimizationState.Paused);
        await Assert.ThrowsAsync<IllegalOptimizationMoveException>(() => host.Optimization(id).Resume());
    }

    [Fact]
    public async Task Cancelling_stops_the_batches_keeps_the_stored_trials_and_frees_the_slots()
    {
        await using var host = await Start(batchTrials: 20);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(LargeGrid)));
        await host.WaitForJob(id, s => s.Progress.TrialsCompleted > 0);

        var cancelled = await host.Optimization(id).Cancel();
        Assert.Equal(OptimizationState.Cancelled, cancelled.State);
        await host.WaitForFreeSlots();
        var rows = await host.Rows(id);
        Assert.InRange(rows.Count, 1, 239);
        Assert.Equal(rows.Count, rows.Select(r => r.TrialNumber).Distinct().Count());
        Assert.Equal(rows.Count, cancelled.Progress.TrialsCompleted);
        await Task.Delay(1000);
        Assert.Equal(rows.Count, (await host.Rows(id)).Count);
        Assert.Equal(LifecycleWords.Cancelled, (await host.Store().GetAsync(id))!.Status);
        await Assert.ThrowsAsync<IllegalOptimizationMoveException>(() => host.Optimization(id).Cancel());
    }

    [Fact]
    public async Task Deleting_a_running_job_cancels_it_and_removes_its_rows()
    {
        await using var host = await Start(batchTrials: 20);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(LargeGrid)));
        await host.WaitForJob(id, s => s.Progress.TrialsCompleted > 0);

        await host.Optimization(id).Delete();
        Assert.Null(await host.Store().GetAsync(id));
        Assert.Empty(await host.Rows(id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => host.Optimization(id).GetStatus());
        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task A_job_that_breaks_the_rules_is_refused_with_every_error_and_nothing_stored()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        var job = Job(SmallGrid, ("parameters", """{"fastPeriod":{"min":5,"max":1,"step":1},"nope":3}"""), ("method", "\"anneal\""));
        var refused = await Assert.ThrowsAsync<OptimizationValidationException>(() => host.Optimization(id).Submit(Submission(job)));
        Assert.Contains(refused.Errors, e => e is { Field: "parameters.fastPeriod.max", Rule: "minMax" });
        Assert.Contains(refused.Errors, e => e is { Field: "parameters.nope", Rule: "unknown" });
        Assert.Contains(refused.Errors, e => e is { Field: "method", Rule: "allowed" });
        Assert.Null(await host.Store().GetAsync(id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => host.Optimization(id).GetStatus());

        var planner = host.Client.GetGrain<IOptimizationPlannerGrain>(0);
        Assert.Equal(12, await planner.Plan(Submission(Job(SmallGrid))));
        await Assert.ThrowsAsync<OptimizationValidationException>(() => planner.Plan(Submission(job)));
    }

    [Fact]
    public async Task The_stream_carries_trials_as_stored_progress_and_one_completion()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        var events = new List<OptimizationEvent>();
        var completed = new TaskCompletionSource();
        var stream = host.Client.GetStreamProvider(OptimizationStreamNames.Provider)
            .GetStream<OptimizationEvent>(StreamId.Create(OptimizationStreamNames.Namespace, id));
        await stream.SubscribeAsync((e, _) =>
        {
            lock (events)
            {
                events.Add(e);
            }

            if (e.Type == OptimizationEventTypes.Complete)
            {
                completed.TrySetResult();
            }

            return Task.CompletedTask;
        });
        await host.Optimization(id).Submit(Submission(Job(SmallGrid)));
        await completed.Task.WaitAsync(TimeSpan.FromMinutes(2));

        List<OptimizationEvent> seen;
        lock (events)
        {
            seen = events.ToList();
        }

        var trials = seen.Where(e => e.Type == OptimizationEventTypes.Trials)
            .SelectMany(e => JsonDocument.Parse(e.Json).RootElement.GetProperty("data").GetProperty("trials").EnumerateArray())
            .Select(t => t.GetProperty("trial").GetInt32()).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 12), trials);
        Assert.Single(seen, e => e.Type == OptimizationEventTypes.Complete);
        var complete = JsonDocument.Parse(seen.Single(e => e.Type == OptimizationEventTypes.Complete).Json).RootElement;
        Assert.Equal(LifecycleWords.Completed, complete.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal(id.ToString(), complete.GetProperty("optimizationId").GetString());
        var progress = seen.Where(e => e.Type == OptimizationEventTypes.Progress)
            .Select(e => JsonDocument.Parse(e.Json).RootElement.GetProperty("data")).ToList();
        Assert.Contains(progress, p => p.GetProperty("status").GetString() == LifecycleWords.Running);
        Assert.Equal(12, progress[^1].GetProperty("progress").GetProperty("trialsCompleted").GetInt32());
        Assert.True(progress[^1].GetProperty("progress").TryGetProperty("estimatedTimeRemaining", out _));
    }

    /// <summary>A running optimize-batch worker of the job (a child process of the process runner): its pid and run folder.</summary>
    private static void Signal(string signal, int pid) =>
        System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    private static bool ProcessRuns(int pid) => File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Length > 0;

    /// <summary>The trials a batch's checkpoint holds (complete lines of trials-done.txt).</summary>
    private static int TrialsDone(string output)
    {
        try
        {
            return File.ReadAllText(Path.Combine(output, global::Backtesting.Engine.Protocol.OptimizationFiles.TrialsDone)).Count(c => c == '\n');
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static (int Pid, string Output)? FindWorker(Guid job, int? except = null)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == except)
            {
                continue;
            }

            string[] args;
            try
            {
                args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            var output = Array.IndexOf(args, "--output");
            if (args.Contains("optimize-batch") && output >= 0 && output + 1 < args.Length
                && args[output + 1].Contains($"optimization-{job:N}", StringComparison.Ordinal))
            {
                return (pid, args[output + 1]);
            }
        }

        return null;
    }

    [Fact]
    public async Task A_batch_whose_worker_is_killed_goes_on_from_its_checkpoint_and_stores_each_trial_once()
    {
        await using var host = await Start("process", batchTrials: 60, configure: o => o.Optimization.BatchesInFlight = 1);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(LargeGrid)));
        var killed = -1;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        // Killed mid-batch, with a checkpoint behind it: some of its trials done and not most of them. The worker is
        // frozen as soon as it is found and let run a few milliseconds at a time, so that however fast this machine
        // runs a batch the kill lands inside it (polling alone missed batches that ran whole between two looks).
        while (killed < 0 && DateTime.UtcNow < deadline)
        {
            if (FindWorker(id) is { } worker)
            {
                var batch = int.Parse(Path.GetFileName(worker.Output)["batch-".Length..], System.Globalization.CultureInfo.InvariantCulture);
                Signal("STOP", worker.Pid);
                while (killed < 0 && DateTime.UtcNow < deadline && ProcessRuns(worker.Pid))
                {
                    var checkpointed = TrialsDone(worker.Output);
                    if (checkpointed is > 0 and < 50)
                    {
                        Signal("KILL", worker.Pid);
                        killed = batch;
                    }
                    else if (checkpointed >= 50)
                    {
                        Signal("CONT", worker.Pid);
                        break; // past the middle: try the next batch
                    }
                    else
                    {
                        Signal("CONT", worker.Pid);
                        await Task.Delay(2);
                        Signal("STOP", worker.Pid);
                    }
                }
            }

            await Task.Delay(10);
        }

        Assert.True(killed >= 0, "a worker was caught mid-batch");
        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
        Assert.Equal(OptimizationState.Completed, done.State);
        Assert.Equal(Enumerable.Range(0, 240), (await host.Rows(id)).Select(r => r.TrialNumber));
        var report = await host.Client.GetGrain<Grains.IOptimizationBatchGrain>(Grains.OptimizationBatchIds.Of(id, killed)).Ensure();
        Assert.Equal(Grains.OptimizationBatchState.Completed, report.State);
        Assert.True(report.Attempts >= 2, $"the killed batch ran {report.Attempts} time(s)");
        Assert.Equal(0, report.DroppedLines);
    }

    [Fact]
    public async Task A_job_goes_on_after_every_silo_restarted_and_stores_each_trial_once()
    {
        await using var host = await Start(batchTrials: 20, silos: 2);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(LargeGrid)));
        await host.WaitForJob(id, s => s.Progress.TrialsCompleted > 0);
        Assert.True((await host.Rows(id)).Count < 240, "the silos restart in the middle of the job");

        foreach (var silo in host.Cluster.Silos.ToList())
        {
            await host.Cluster.RestartSiloAsync(silo);
            await host.Cluster.WaitForLivenessToStabilizeAsync();
        }

        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
        Assert.Equal(OptimizationState.Completed, done.State);
        Assert.Equal(Enumerable.Range(0, 240), (await host.Rows(id)).Select(r => r.TrialNumber));
        Assert.Equal(240, done.Progress.TrialsCompleted);
        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task A_stored_trial_equals_the_same_config_run_as_a_backtest_through_the_cluster()
    {
        await using var host = await Start();
        var job = Job(SmallGrid, ("parameters", """{"fastPeriod":{"values":[10,30]},"slowPeriod":{"values":[60]}}"""));
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(job));
        Assert.Equal(OptimizationState.Completed, (await host.WaitForJob(id, s => s.IsTerminal)).State);
        var plan = Optimization.OptimizationFixtures.Plan(job);
        var rows = await host.Rows(id);
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(row.ParametersJson, JsonDefaults.Options)!;
            var backtest = Guid.NewGuid();
            await host.Backtest(backtest).Submit(new BacktestSubmission(plan.TrialConfig(parameters), "alice", UseCache: false));
            Assert.Equal(BacktestState.Completed, (await host.WaitFor(backtest, s => s.IsTerminal)).State);
            var result = (await host.Backtest(backtest).GetResults())!;
            Assert.Equal(JsonSerializer.Serialize(result.Metrics, JsonDefaults.Options), JsonSerializer.Serialize(Metrics(row.MetricsJson!), JsonDefaults.Options));
            Assert.Equal(result.ContentHash, row.ContentHash);
            Assert.Equal(result.Trades.Count, row.TotalTrades);
        }
    }

    [Fact]
    public async Task Batches_and_backtests_share_the_cluster_and_owner_limits_and_the_priorities()
    {
        await using var host = await Start(batchTrials: 20, configure: o =>
        {
            o.MaxConcurrent = 2;
            o.MaxConcurrentPerOwner = 1;
            o.Optimization.BatchesInFlight = 2;
        });
        var id = Guid.NewGuid();
        // 2000 trials: the job outlasts both backtests however fast the machine is; it is cancelled once they are done.
        await host.Optimization(id).Submit(Submission(Job(LargeGrid, ("priority", "\"low\""),
            ("parameters", """{"fastPeriod":{"min":1,"max":50,"step":1},"slowPeriod":{"min":55,"max":250,"step":5}}"""))));
        await host.WaitForJob(id, s => s.Batches.Running == 1);
        var bobs = Guid.NewGuid();
        var urgent = Guid.NewGuid();
        async Task<QueueSnapshot> Limited()
        {
            var snapshot = await host.Queue.GetSnapshot();
            Assert.True(snapshot.Running.Count <= 2, "the cluster-wide limit holds for batches and backtests together");
            Assert.All(snapshot.Running.GroupBy(r => r.Owner), g => Assert.True(g.Count() <= 1, $"{g.Key} holds {g.Count()} slots"));
            return snapshot;
        }

        // Bob's long tick run takes the second slot beside alice's running batch (it is cancelled once seen).
        await host.Backtest(bobs).Submit(ClusterTests.Submission(ClusterTests.Ticks, owner: "bob"));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        var sawBatchBesideBob = false;
        while (!sawBatchBesideBob && DateTime.UtcNow < deadline)
        {
            var snapshot = await Limited();
            sawBatchBesideBob = snapshot.Running.Any(r => r.Kind == QueueItemKind.OptimizationBatch) && snapshot.Running.Any(r => r.BacktestId == bobs);
            await Task.Delay(10);
        }

        Assert.True(sawBatchBesideBob, "a batch of alice and a backtest of bob ran at once");

        // Alice's urgent backtest waits for her one slot, ahead of every low-priority batch of hers, and takes it next.
        await host.Backtest(urgent).Submit(ClusterTests.Submission(ClusterTests.Daily, BacktestPriority.Urgent));
        var urgentDone = false;
        var jobDone = false;
        while (!urgentDone && !jobDone)
        {
            var snapshot = await Limited();
            if (snapshot.Queued.FirstOrDefault(q => q.BacktestId == urgent) is { } urgentEntry)
            {
                Assert.All(snapshot.Queued.Where(q => q.Kind == QueueItemKind.OptimizationBatch), q => Assert.True(q.Position > urgentEntry.Position));
            }

            urgentDone = (await host.Backtest(urgent).GetStatus()).IsTerminal;
            jobDone = (await host.Optimization(id).GetStatus()).IsTerminal;
            await Task.Delay(10);
        }

        Assert.False(jobDone, "the urgent backtest ran before the low-priority job's later batches");
        Assert.Equal(BacktestState.Completed, (await host.Backtest(urgent).GetStatus()).State);
        Assert.Equal(BacktestState.Cancelled, (await host.Backtest(bobs).Cancel()).State);
        Assert.Equal(OptimizationState.Cancelled, (await host.Optimization(id).Cancel()).State);
        await host.WaitForFreeSlots();
    }

    [Theory]
    [InlineData("57P01")] // admin_shutdown: the server restarted under a pooled connection
    [InlineData("08006")] // connection_failure
    public async Task A_batch_that_cannot_store_its_trials_while_the_database_is_away_goes_on_once_it_answers_and_stores_each_trial_once(string sqlState)
    {
        await using var host = await Start();
        await using var db = Npgsql.NpgsqlDataSource.Create(host.ConnectionString);
        // Every write of trials fails as a database going away makes it fail, and counts the attempt in a sequence (which a
        // rolled-back statement does not undo), until the test drops the trigger.
        await using (var trigger = db.CreateCommand($$"""
            CREATE SEQUENCE trial_write_faults;
            CREATE FUNCTION refuse_trials() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM nextval('trial_write_faults'); RAISE EXCEPTION 'terminating connection' USING ERRCODE = '{{sqlState}}'; END $$;
            CREATE TRIGGER refuse_trials BEFORE INSERT ON optimization_trials FOR EACH STATEMENT EXECUTE FUNCTION refuse_trials();
            """))
        {
            await trigger.ExecuteNonQueryAsync();
        }

        var job = Job(SmallGrid);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(job));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        long faults;
        do
        {
            await Task.Delay(100);
            await using var read = db.CreateCommand("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM trial_write_faults");
            faults = (long)(await read.ExecuteScalarAsync())!;
        }
        while (faults < 3 && DateTime.UtcNow < deadline);

        Assert.True(faults >= 3, $"the trials' writes were tried {faults} time(s) while the database was away");
        var during = await host.Optimization(id).GetStatus();
        Assert.False(during.IsTerminal, $"the job ended {during.State} while the database was away: {during.ErrorMessage}");

        await using (var drop = db.CreateCommand("DROP TRIGGER refuse_trials ON optimization_trials"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        var done = await host.WaitForJob(id, s => s.IsTerminal);
        Assert.True(done.State == OptimizationState.Completed, $"{done.State}: {done.ErrorMessage}");
        var rows = await host.Rows(id);
        Assert.Equal(Enumerable.Range(0, 12), rows.Select(r => r.TrialNumber));
        foreach (var (row, trial) in rows.Zip(Direct(job, batchSize: 5).Trials))
        {
            Assert.Equal(trial.ContentHash, row.ContentHash);
            Assert.Equal(MetricsJson(trial), JsonSerializer.Serialize(Metrics(row.MetricsJson!), JsonDefaults.Options));
        }

        Assert.Equal(LifecycleWords.Completed, (await host.Store().GetAsync(id))!.Status);
        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task Batches_whose_state_cannot_be_written_while_the_database_is_away_start_and_end_once_it_answers()
    {
        await using var host = await Start("process", batchTrials: 60, configure: o => o.Optimization.BatchesInFlight = 1);
        await using var db = Npgsql.NpgsqlDataSource.Create(host.ConnectionString);
        var job = Job(LargeGrid);
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(job));
        await host.WaitForJob(id, s => s.Progress.TrialsCompleted > 0, TimeSpan.FromMinutes(2));
        // From now on a batch's state cannot be written (its end, the next batch's start), as with the database away,
        // and each refusal is counted in a sequence (which a rolled-back statement does not undo).
        await using (var trigger = db.CreateCommand("""
            CREATE SEQUENCE batch_state_faults;
            CREATE FUNCTION refuse_batch_state() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM nextval('batch_state_faults'); RAISE EXCEPTION 'terminating connection' USING ERRCODE = '57P01'; END $$;
            CREATE TRIGGER refuse_batch_state BEFORE INSERT OR UPDATE ON orleans_storage FOR EACH ROW
                WHEN (NEW.grain_type ILIKE '%batch%') EXECUTE FUNCTION refuse_batch_state();
            """))
        {
            await trigger.ExecuteNonQueryAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        long faults;
        do
        {
            await Task.Delay(100);
            await using var read = db.CreateCommand("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM batch_state_faults");
            faults = (long)(await read.ExecuteScalarAsync())!;
        }
        while (faults < 3 && DateTime.UtcNow < deadline);

        Assert.True(faults >= 3, $"a batch's state was written {faults} time(s) while the database was away");
        var during = await host.Optimization(id).GetStatus();
        Assert.False(during.IsTerminal, $"the job ended {during.State} while the database was away: {during.ErrorMessage}");

        await using (var drop = db.CreateCommand("DROP TRIGGER refuse_batch_state ON orleans_storage"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
        Assert.True(done.State == OptimizationState.Completed, $"{done.State}: {done.ErrorMessage}");
        var rows = await host.Rows(id);
        Assert.Equal(Enumerable.Range(0, 240), rows.Select(r => r.TrialNumber));
        foreach (var (row, trial) in rows.Zip(Direct(job, batchSize: 60).Trials))
        {
            Assert.Equal(trial.ContentHash, row.ContentHash);
        }

        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task A_job_stored_as_created_whose_submission_broke_off_before_its_row_is_finished_by_its_reminder()
    {
        await using var host = await Start();
        await using var db = Npgsql.NpgsqlDataSource.Create(host.ConnectionString);
        // The job's row cannot be written: its submission breaks off after the grain stored the job as created, as a silo
        // dying at that moment would leave it.
        await using (var trigger = db.CreateCommand("""
            CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.name = 'doomed' THEN RAISE EXCEPTION 'the silo went away'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_doomed BEFORE INSERT ON optimizations FOR EACH ROW EXECUTE FUNCTION refuse_doomed();
            """))
        {
            await trigger.ExecuteNonQueryAsync();
        }

        var job = Job(SmallGrid, ("name", "\"doomed\""));
        var id = Guid.NewGuid();
        await Assert.ThrowsAnyAsync<Exception>(() => host.Optimization(id).Submit(Submission(job)));
        Assert.Null(await host.Store().GetAsync(id));
        Assert.Equal(OptimizationState.Created, (await host.Optimization(id).GetStatus()).State);

        await using (var drop = db.CreateCommand("DROP TRIGGER refuse_doomed ON optimizations"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        // The reminder registered before the first write brings the job back: queued, run, every trial stored once.
        var done = await host.WaitForJob(id, s => s.IsTerminal);
        Assert.Equal(OptimizationState.Completed, done.State);
        Assert.Equal([OptimizationState.Created, OptimizationState.Queued, OptimizationState.Running, OptimizationState.Completed],
            done.History.Select(h => h.State));
        Assert.Equal(Enumerable.Range(0, 12), (await host.Rows(id)).Select(r => r.TrialNumber));
        Assert.Equal(LifecycleWords.Completed, (await host.Store().GetAsync(id))!.Status);
        await host.WaitForFreeSlots();
    }

    [Theory]
    [InlineData("maximize")]
    [InlineData("minimize")]
    public async Task Under_equal_objectives_the_best_so_far_and_the_final_best_are_the_lowest_feasible_trial_across_a_pause(string direction)
    {
        // tradingDays is the same for every trial that runs (the same dates), so every feasible trial ties. Trials 0-20 break
        // the strategy's rule (fast 90 over slow 50-90) and are infeasible; batches of 7 run two at a time and finish in any order.
        await using var host = await Start(batchTrials: 7);
        var job = Job(LargeGrid,
            ("parameters", """{"fastPeriod":{"values":[90,80,70,60,4,8,12,16,20,24,28,32,36,40]},"slowPeriod":{"min":50,"max":160,"step":2}}"""),
            ("objective", $$"""{"metric":"tradingDays","direction":"{{direction}}"}"""));
        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(job));
        await host.WaitForJob(id, s => s.Progress.TrialsFeasible >= 1);

        // Paused: the best so far is the lowest feasible trial among those stored, once the last reports are in.
        await host.Optimization(id).Pause();
        var stored = await host.Rows(id);
        var lowest = stored.Where(r => r.Feasible).Min(r => r.TrialNumber);
        Assert.All(stored.Where(r => r.Feasible), r => Assert.Equal(stored.First(f => f.TrialNumber == lowest).Objective, r.Objective));
        var paused = await host.WaitForJob(id, s => s.Progress.TrialsCompleted == stored.Count, TimeSpan.FromSeconds(30));
        Assert.Equal(lowest, paused.Best?.Trial);

        await host.Optimization(id).Resume();
        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
        Assert.Equal(OptimizationState.Completed, done.State);
        var rows = await host.Rows(id);
        Assert.Equal(14 * 56, rows.Count);
        // Infeasible exactly where fast >= slow (the strategy's rule), read from each row's own parameters; the first 21 are.
        var broken = rows.Where(r =>
        {
            using var p = JsonDocument.Parse(r.ParametersJson);
            return p.RootElement.GetProperty("fastPeriod").GetInt32() >= p.RootElement.GetProperty("slowPeriod").GetInt32();
        }).Select(r => r.TrialNumber).ToList();
        Assert.Equal(broken, rows.Where(r => !r.Feasible).Select(r => r.TrialNumber));
        Assert.Equal(Enumerable.Range(0, 21), broken.Take(21));
        Assert.Equal(21, rows.Where(r => r.Feasible).Min(r => r.TrialNumber));
        Assert.Single(rows.Where(r => r.Feasible).Select(r => r.Objective).Distinct());
        Assert.Equal(21, done.Best?.Trial);
        Assert.Equal(21, Direct(job, batchSize: 7).Best?.Trial);
        await host.WaitForFreeSlots();
    }
}
