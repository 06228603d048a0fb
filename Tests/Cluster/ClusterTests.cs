using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Backtesting.Tests.Cluster;

/// <summary>Backtest grains, the queue and streams on a two-silo cluster over real PostgreSQL.</summary>
[Collection("cluster")]
public class ClusterTests
{
    internal const string Daily = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2019-01-01","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000,
         "executionSettings":{"commission":{"model":"percent","rate":0.001}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    // About two million ticks: long enough to pause, cancel or kill a run in the middle.
    internal const string Ticks = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":50,"slowPeriod":400},
         "startDate":"2013-10-07","endDate":"2013-10-11","instruments":["SPY","IBM"],"initialBalance":100000,
         "dataConfiguration":{"resolution":"tick","dataType":"ticks","adjustment":"raw"},
         "executionSettings":{"fillModel":"nextTick"},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":10}}}
        """;

    internal static BacktestConfig Config(string json, Func<BacktestConfig, BacktestConfig>? change = null)
    {
        var config = ConfigValidator.Parse(json).Config!;
        return change is null ? config : change(config);
    }

    internal static BacktestSubmission Submission(string json, BacktestPriority priority = BacktestPriority.Normal,
        string owner = "alice", bool useCache = false) => new(Config(json), owner, priority, useCache);

    /// <summary>The same backtest run directly on the engine: what the cluster's stored result must equal.</summary>
    internal static BacktestResult Direct(string json)
    {
        var data = new LeanDataProvider(TestPaths.LeanData);
        var spec = ConfigValidator.Validate(Config(json), data, StrategyCatalog.Templates, ValidationPolicy.Service, DateOnly.FromDateTime(DateTime.UtcNow)).Spec!;
        return new BacktestRun(spec, data, StrategyCatalog.Templates).Execute();
    }

    internal static void AssertSameResult(BacktestResult expected, BacktestResult actual)
    {
        Assert.Equal(expected.ContentHash, actual.ContentHash);
        Assert.Equal(expected.Summary, actual.Summary with { Instruments = expected.Summary.Instruments });
        Assert.Equal(expected.Summary.Instruments, actual.Summary.Instruments);
        Assert.Equal(expected.Trades.Count, actual.Trades.Count);
        for (var i = 0; i < expected.Trades.Count; i++)
        {
            Assert.Equal(expected.Trades[i], actual.Trades[i]);
        }

        Assert.Equal(expected.DailyEquity, actual.DailyEquity);
        Assert.False(actual.Partial);
    }

    /// <summary>Every attempt records the time the queue granted its slot, between the enqueue it answers and its start.</summary>
    internal static void AssertGrantedBetweenEnqueueAndStart(IEnumerable<BacktestStatus> statuses) =>
        Assert.Empty(ChaosInvariants.GrantedBetweenEnqueueAndStart(statuses));

    [Fact]
    public async Task A_backtest_goes_through_its_lifecycle_and_stores_results_equal_to_a_direct_run()
    {
        await using var host = await TestClusterHost.StartAsync();
        var id = Guid.NewGuid();
        var submitted = await host.Backtest(id).Submit(Submission(Daily));
        Assert.Equal(BacktestState.Queued, submitted.State);

        var done = await host.WaitFor(id, s => s.IsTerminal);
        Assert.Equal(BacktestState.Completed, done.State);
        Assert.Equal(
            new[] { BacktestState.Created, BacktestState.Queued, BacktestState.Starting, BacktestState.Running, BacktestState.Completed },
            done.History.Select(h => h.State));
        Assert.Single(done.Attempts);
        AssertGrantedBetweenEnqueueAndStart([done]);
        Assert.Equal(100, done.Progress!.Progress.Percentage);

        AssertSameResult(Direct(Daily), (await host.Backtest(id).GetResults())!);
        var row = await host.Store.GetAsync(id);
        Assert.Equal("completed", row!.Status);
        Assert.NotNull(row.CompletedAt);
        Assert.Equal(5, (await host.Store.GetStatusHistoryAsync(id)).Count);
    }

    [Fact]
    public async Task An_invalid_submission_reports_every_error_and_stores_nothing()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        var id = Guid.NewGuid();
        var bad = Config(Daily, c => c with { Instruments = ["spy"], InitialBalance = 10 });
        var error = await Assert.ThrowsAsync<BacktestValidationException>(() => host.Backtest(id).Submit(new BacktestSubmission(bad, "alice")));
        Assert.Equal(new[] { "initialBalance", "instruments[0]" }, error.Errors.Select(e => e.Field).Order().ToArray());
        Assert.Null(await host.Store.GetAsync(id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => host.Backtest(id).GetStatus());
    }

    [Fact]
    public async Task Illegal_transitions_are_refused_and_change_nothing()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Daily));
        var done = await host.WaitFor(id, s => s.IsTerminal);

        var pause = await Assert.ThrowsAsync<IllegalTransitionException>(() => host.Backtest(id).Pause());
        Assert.Equal(BacktestState.Completed, pause.Current);
        await Assert.ThrowsAsync<IllegalTransitionException>(() => host.Backtest(id).Resume());
        await Assert.ThrowsAsync<IllegalTransitionException>(() => host.Backtest(id).Cancel());
        await Assert.ThrowsAsync<IllegalTransitionException>(() => host.Backtest(id).Submit(Submission(Daily)));
        var after = await host.Backtest(id).GetStatus();
        Assert.Equal(done.History.Count, after.History.Count);
        Assert.Equal(BacktestState.Completed, after.State);
    }

    [Fact]
    public async Task Pause_holds_progress_and_resume_completes_with_unchanged_results()
    {
        await using var host = await TestClusterHost.StartAsync();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running);
        var paused = await host.Backtest(id).Pause();
        Assert.Equal(BacktestState.Paused, paused.State);

        await Task.Delay(500); // lines already in flight land
        var before = (await host.Backtest(id).GetStatus()).Progress!.Progress.ProcessedBars;
        await Task.Delay(1500);
        var still = await host.Backtest(id).GetStatus();
        Assert.Equal(BacktestState.Paused, still.State);
        Assert.Equal(before, still.Progress!.Progress.ProcessedBars);
        Assert.True(still.Progress.Progress.Percentage < 100);

        await host.Backtest(id).Resume();
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(2));
        Assert.Equal(BacktestState.Completed, done.State);
        AssertSameResult(Direct(Ticks), (await host.Backtest(id).GetResults())!);
    }

    [Fact]
    public async Task Cancel_stops_a_running_backtest_and_keeps_partial_results()
    {
        await using var host = await TestClusterHost.StartAsync();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running);
        await host.Backtest(id).Pause(); // hold it mid-run so the cancel cannot race the end
        var cancelled = await host.Backtest(id).Cancel();
        Assert.Equal(BacktestState.Cancelled, cancelled.State);
        var partial = await host.Backtest(id).GetResults();
        Assert.NotNull(partial);
        Assert.True(partial.Partial);
        Assert.Equal("cancelled", (await host.Store.GetAsync(id))!.Status);
        Assert.Empty((await host.Queue.GetSnapshot()).Running);
    }

    [Fact]
    public async Task Cluster_status_shows_every_silo_and_where_backtests_run()
    {
        await using var host = await TestClusterHost.StartAsync();
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        var running = await host.WaitFor(id, s => s.State == BacktestState.Running);
        await host.Backtest(id).Pause();
        var status = await host.Client.GetGrain<IClusterStatusGrain>(0).GetStatus();
        Assert.Equal(2, status.Silos.Count);
        Assert.Equal(1, status.Running);
        Assert.Equal(0, status.Queued);
        Assert.Equal(1, status.Silos.Single(s => s.Address == running.Attempts[^1].Silo).RunningBacktests);
        Assert.All(status.Silos, s => Assert.True(s.Activations > 0 && s.Status == "Active"));
        await host.Backtest(id).Cancel();
    }

    [Fact]
    public async Task Progress_reaches_the_backtests_row_while_running_at_most_once_per_persist_interval()
    {
        // A slowed tick run (same points, same results), so there is time to look while it runs. Returns the row's
        // progress when the row first says running, and again once the run is well past that and three seconds on.
        async Task<(double AtStart, double Later, double Run)> RowWhileRunning(TimeSpan persistInterval)
        {
            await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o => o.ProgressPersistInterval = persistInterval,
                services: s => s.AddSingleton<IBacktestRunner>(sp => new InProcessRunner(new ThrottledMarketData(sp.GetRequiredService<IMarketDataProvider>(), 256))));
            var id = Guid.NewGuid();
            await host.Backtest(id).Submit(Submission(Ticks));
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            BacktestRecord? record;
            while ((record = await host.Store.GetAsync(id))?.Status != "running" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            var atStart = record?.Progress ?? 0;
            var started = await host.WaitFor(id, s => s.IsTerminal || s.Progress!.Progress.Percentage >= atStart + 20, TimeSpan.FromMinutes(2));
            Assert.Equal(BacktestState.Running, started.State);
            await Task.Delay(TimeSpan.FromSeconds(3)); // six intervals of 0.5 s
            var later = (await host.Store.GetAsync(id))!.Progress ?? 0;
            var now = await host.Backtest(id).GetStatus();
            Assert.Equal(BacktestState.Running, now.State); // no terminal write has touched the row yet
            await host.Backtest(id).Cancel();
            return (atStart, later, now.Progress!.Progress.Percentage);
        }

        // Written every half second: the row follows the run.
        var followed = await RowWhileRunning(TimeSpan.FromMilliseconds(500));
        Assert.True(followed.Later >= followed.AtStart + 20, $"the row went from {followed.AtStart}% to {followed.Later}%; the run is at {followed.Run}%");

        // Written at most once an hour: the row keeps the figure stored when the run started, whatever the run does.
        var held = await RowWhileRunning(TimeSpan.FromHours(1));
        Assert.True(held.Later == held.AtStart && held.Run >= held.AtStart + 20,
            $"the row went from {held.AtStart}% to {held.Later}%; the run is at {held.Run}%");
    }

    [Fact]
    public void The_timeout_is_30_minutes_and_2_hours_from_the_configured_number_of_instruments()
    {
        var defaults = new Backtesting.Grains.BacktestClusterOptions();
        Assert.Equal(TimeSpan.FromMinutes(30), defaults.TimeoutFor(1));
        Assert.Equal(TimeSpan.FromMinutes(30), defaults.TimeoutFor(defaults.ManyInstrumentsThreshold - 1));
        Assert.Equal(TimeSpan.FromHours(2), defaults.TimeoutFor(defaults.ManyInstrumentsThreshold));

        var configured = new Backtesting.Grains.BacktestClusterOptions { ManyInstrumentsThreshold = 3 };
        Assert.Equal(TimeSpan.FromMinutes(30), configured.TimeoutFor(2));
        Assert.Equal(TimeSpan.FromHours(2), configured.TimeoutFor(3));
    }

    [Fact]
    public async Task A_run_past_its_timeout_ends_timed_out_with_partial_results()
    {
        // A 100 ms budget checked every 50 ms: far less than the tick run needs, even on a fast machine.
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.StandardTimeout = TimeSpan.FromMilliseconds(100);
            o.SupervisionTick = TimeSpan.FromMilliseconds(50);
        });
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        var done = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(2));
        Assert.Equal(BacktestState.TimedOut, done.State);
        Assert.Equal("timeout", done.Error!.ErrorType);
        var partial = await host.Backtest(id).GetResults();
        Assert.NotNull(partial);
        Assert.True(partial.Partial);
        Assert.Equal("timed_out", (await host.Store.GetAsync(id))!.Status);
        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task Deleting_a_running_backtest_cancels_it_and_removes_every_row()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(Submission(Ticks));
        await host.WaitFor(id, s => s.State == BacktestState.Running);
        await host.Backtest(id).Delete();
        Assert.Null(await host.Store.GetAsync(id));
        Assert.Null(await host.Store.GetResultAsync(id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => host.Backtest(id).GetStatus());
        Assert.Empty((await host.Queue.GetSnapshot()).Running);
    }

    [Fact]
    public async Task The_queue_honours_the_limit_and_starts_higher_priorities_first()
    {
        await using var host = await TestClusterHost.StartAsync(configure: o => o.MaxConcurrent = 2);
        // Two long runs take both slots; paused runs keep their slot.
        var blockers = new[] { Guid.NewGuid(), Guid.NewGuid() };
        foreach (var blocker in blockers)
        {
            await host.Backtest(blocker).Submit(Submission(Ticks, owner: "bob"));
        }

        foreach (var blocker in blockers)
        {
            await host.WaitFor(blocker, s => s.State == BacktestState.Running);
            await host.Backtest(blocker).Pause();
        }

        var priorities = new[] { BacktestPriority.Low, BacktestPriority.Normal, BacktestPriority.High, BacktestPriority.Urgent };
        var waiting = priorities.ToDictionary(p => p, _ => Guid.NewGuid());
        foreach (var priority in priorities)
        {
            var status = await host.Backtest(waiting[priority]).Submit(Submission(Daily, priority, owner: "carol"));
            Assert.Equal(BacktestState.Queued, status.State);
        }

        var snapshot = await host.Queue.GetSnapshot();
        Assert.Equal(2, snapshot.Running.Count);
        Assert.Equal(new[] { waiting[BacktestPriority.Urgent], waiting[BacktestPriority.High], waiting[BacktestPriority.Normal], waiting[BacktestPriority.Low] },
            snapshot.Queued.Select(q => q.BacktestId));
        Assert.Equal(new[] { 1, 2, 3, 4 }, snapshot.Queued.Select(q => q.Position));

        // Promote the low one to urgent: it joins the back of the urgent line, behind the earlier urgent one.
        var promoted = await host.Backtest(waiting[BacktestPriority.Low]).ChangePriority(BacktestPriority.Urgent);
        Assert.Equal(BacktestPriority.Urgent, promoted.Priority);
        Assert.Equal(waiting[BacktestPriority.Low], (await host.Queue.GetSnapshot()).Queued[1].BacktestId);
        Assert.Equal((int)BacktestPriority.Urgent, (await host.Store.GetAsync(waiting[BacktestPriority.Low]))!.Priority);
        var running = await Assert.ThrowsAsync<IllegalTransitionException>(() => host.Backtest(blockers[0]).ChangePriority(BacktestPriority.Low));
        Assert.Equal(BacktestState.Paused, running.Current);

        var maxRunning = 0;
        var sampling = true;
        var sampler = Task.Run(async () =>
        {
            while (Volatile.Read(ref sampling))
            {
                maxRunning = Math.Max(maxRunning, (await host.Queue.GetSnapshot()).Running.Count);
                await Task.Delay(20);
            }
        });
        foreach (var blocker in blockers)
        {
            await host.Backtest(blocker).Cancel();
        }

        var finished = new List<BacktestStatus>();
        foreach (var id in waiting.Values)
        {
            finished.Add(await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromMinutes(2)));
        }

        Volatile.Write(ref sampling, false);
        await sampler;
        Assert.All(finished, s => Assert.Equal(BacktestState.Completed, s.State));
        Assert.InRange(maxRunning, 1, 2);
        DateTime Started(BacktestPriority p) => finished.Single(s => s.Id == waiting[p]).Attempts[0].StartedAt;
        Assert.True(Started(BacktestPriority.Urgent) <= Started(BacktestPriority.High));
        Assert.True(Started(BacktestPriority.Urgent) <= Started(BacktestPriority.Normal));
        Assert.True(Started(BacktestPriority.Low) <= Started(BacktestPriority.High), "the low one was promoted to urgent");
        AssertGrantedBetweenEnqueueAndStart(finished);
        DateTime Granted(BacktestPriority p) => finished.Single(s => s.Id == waiting[p]).Attempts[0].GrantedAt!.Value;
        Assert.True(Granted(BacktestPriority.Urgent) <= Granted(BacktestPriority.High));
        Assert.True(Granted(BacktestPriority.High) <= Granted(BacktestPriority.Normal));
        Assert.True(Granted(BacktestPriority.Low) <= Granted(BacktestPriority.High), "the low one was promoted to urgent");
    }

    [Fact]
    public async Task The_per_owner_limit_keeps_one_owner_from_taking_every_slot()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1, configure: o =>
        {
            o.MaxConcurrent = 4;
            o.MaxConcurrentPerOwner = 1;
        });
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        await host.Backtest(first).Submit(Submission(Ticks, owner: "dave"));
        await host.WaitFor(first, s => s.State == BacktestState.Running);
        await host.Backtest(first).Pause();
        Assert.Equal(BacktestState.Queued, (await host.Backtest(second).Submit(Submission(Daily, owner: "dave"))).State);
        var other = Guid.NewGuid();
        await host.Backtest(other).Submit(Submission(Daily, owner: "erin"));
        Assert.Equal(BacktestState.Completed, (await host.WaitFor(other, s => s.IsTerminal)).State);
        Assert.Equal(BacktestState.Queued, (await host.Backtest(second).GetStatus()).State);
        await host.Backtest(first).Cancel();
        Assert.Equal(BacktestState.Completed, (await host.WaitFor(second, s => s.IsTerminal)).State);
    }

    [Fact]
    public async Task A_stream_subscriber_receives_progress_trades_and_completion()
    {
        await using var host = await TestClusterHost.StartAsync();
        var id = Guid.NewGuid();
        var received = new List<BacktestEvent>();
        var completed = new TaskCompletionSource();
        var stream = host.Client.GetStreamProvider(StreamNames.Provider).GetStream<BacktestEvent>(StreamId.Create(StreamNames.Namespace, id));
        var resultsStoredAtCompletion = false;
        var subscription = await stream.SubscribeAsync(async (e, _) =>
        {
            lock (received)
            {
                received.Add(e);
            }

            if (e.Type == "backtest_complete")
            {
                // A client that reads the results on completion must find them.
                resultsStoredAtCompletion = await host.Store.GetResultAsync(id) is not null;
                completed.TrySetResult();
            }
        });
        await host.Backtest(id).Submit(Submission(Daily));
        await completed.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(resultsStoredAtCompletion, "the results were stored before the completion was published");
        await subscription.UnsubscribeAsync();
        Assert.Contains(received, e => e.Type == "backtest_progress");
        Assert.Contains(received, e => e.Type == "backtest_trade");
        Assert.Single(received, e => e.Type == "backtest_complete");
        var complete = received.Last(e => e.Type == "backtest_complete");
        Assert.Contains($"/api/v1/nautilus/backtest/results/{id}", complete.Json);
        Assert.All(received, e => Assert.Equal(id, e.BacktestId));
    }

    [Fact]
    public async Task The_same_config_completes_at_once_from_the_result_cache()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        var first = Guid.NewGuid();
        await host.Backtest(first).Submit(Submission(Daily));
        await host.WaitFor(first, s => s.IsTerminal);
        var second = Guid.NewGuid();
        var cached = await host.Backtest(second).Submit(Submission(Daily, useCache: true));
        Assert.Equal(BacktestState.Completed, cached.State);
        Assert.True(cached.FromCache);
        Assert.Empty(cached.Attempts);
        AssertSameResult((await host.Backtest(first).GetResults())!, (await host.Backtest(second).GetResults())!);

        var optOut = Guid.NewGuid();
        Assert.Equal(BacktestState.Queued, (await host.Backtest(optOut).Submit(Submission(Daily, useCache: false))).State);
    }

    [Fact]
    public async Task State_and_queue_survive_a_restart_of_every_silo()
    {
        // The tick run is slowed (same points, same results) so it is surely still running when it is paused.
        await using var host = await TestClusterHost.StartAsync(configure: o => o.MaxConcurrent = 1, services: s =>
            s.AddSingleton<IBacktestRunner>(sp => new InProcessRunner(new ThrottledMarketData(sp.GetRequiredService<IMarketDataProvider>(), 256))));
        var running = Guid.NewGuid();
        var queued = Guid.NewGuid();
        await host.Backtest(running).Submit(Submission(Ticks));
        await host.WaitFor(running, s => s.State == BacktestState.Running);
        // Pause only once a checkpoint has reached PostgreSQL (a paused worker writes no new one).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await host.Store.LoadCheckpointAsync(running) is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await host.Backtest(running).Pause();
        await host.Backtest(queued).Submit(Submission(Daily));

        foreach (var silo in host.Cluster.Silos.ToList())
        {
            await host.Cluster.RestartSiloAsync(silo);
            await host.Cluster.WaitForLivenessToStabilizeAsync();
        }

        Assert.Equal(BacktestState.Queued, (await host.Retry(() => host.Backtest(queued).GetStatus())).State);
        Assert.Contains((await host.Queue.GetSnapshot()).Queued, q => q.BacktestId == queued);
        var paused = await host.Backtest(running).GetStatus();
        Assert.Equal(BacktestState.Paused, paused.State);

        await host.Backtest(running).Resume();
        var done = await host.WaitFor(running, s => s.IsTerminal, TimeSpan.FromMinutes(2));
        Assert.Equal(BacktestState.Completed, done.State);
        Assert.True(done.Attempts.Count >= 2);
        Assert.True(done.Attempts[^1].ResumedFromPoint > 0, "the new attempt resumed from the stored checkpoint");
        AssertSameResult(Direct(Ticks), (await host.Backtest(running).GetResults())!);
        var queuedDone = await host.WaitFor(queued, s => s.IsTerminal);
        Assert.Equal(BacktestState.Completed, queuedDone.State);
        // The resumed attempt ran in the slot granted before the restarts, the queued one in the slot the end freed.
        AssertGrantedBetweenEnqueueAndStart([done, queuedDone]);
        Assert.True(queuedDone.Attempts[0].GrantedAt >= done.CompletedAt);
    }

    [Fact]
    public async Task Comparing_two_stored_runs_uses_their_daily_returns()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        await host.Backtest(a).Submit(Submission(Daily));
        await host.Backtest(b).Submit(Submission(Daily.Replace("\"fastPeriod\":10", "\"fastPeriod\":5")));
        await host.WaitFor(a, s => s.IsTerminal);
        await host.WaitFor(b, s => s.IsTerminal);
        var comparison = await host.Client.GetGrain<IComparisonGrain>("compare").Compare([a, b], 0);
        Assert.Equal(2, comparison.Runs.Count);
        Assert.Equal(1.0, comparison.Correlations.Values[0][0]!.Value, 12);
        Assert.Equal(comparison.Correlations.Values[0][1], comparison.Correlations.Values[1][0]);
        Assert.Single(comparison.SharpeTests);
        Assert.All(comparison.Curves.Series, s => Assert.Equal(100, s.Equity[0], 9));
    }
}

[CollectionDefinition("cluster", DisableParallelization = true)]
public class ClusterCollection;
