using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.WalkForward;
using Backtesting.Storage;
using Backtesting.Tests.Optimization;
using static Backtesting.Tests.Cluster.OptimizationClusterHost;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// Walk-forward jobs through the cluster: the job grain, its windows' optimizations and out-of-sample backtests in the
/// queue, real PostgreSQL; each result checked against the windows run by hand on the engine and stitched here.
/// </summary>
[Collection("cluster")]
public class WalkForwardClusterTests
{
    /// <summary>SPY daily 2016-2020, a 2 x 2 grid: with 2y in sample and 1y out, three windows (2018, 2019, 2020 out of sample).</summary>
    private static readonly string Small = $$$"""
        {"name":"wf","baseConfig":{{{OptimizationFixtures.BaseConfig}}},
         "parameters":{"fastPeriod":{"values":[10,20]},"slowPeriod":{"values":[60,100]}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"},"seed":7,
         "validation":{"inSample":"2y","outOfSample":"1y"}}
        """;

    private static Task<TestClusterHost> Start(int silos = 1) =>
        TestClusterHost.StartAsync(silos, o =>
        {
            o.Optimization.BatchTrials = 2;
            o.Optimization.ProgressInterval = TimeSpan.FromMilliseconds(200);
        });

    private static WalkForwardJob Job(string json, params (string Key, string Json)[] changes)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        foreach (var (key, value) in changes)
        {
            var target = node;
            var name = key;
            if (key.StartsWith("validation.", StringComparison.Ordinal))
            {
                target = node["validation"]!.AsObject();
                name = key["validation.".Length..];
            }

            target[name] = JsonNode.Parse(value);
        }

        var (job, errors) = WalkForwardJobRules.Parse(node.ToJsonString());
        Assert.Empty(errors);
        return job!;
    }

    private static IWalkForwardGrain Grain(TestClusterHost host, Guid id) => host.Client.GetGrain<IWalkForwardGrain>(id);

    private static async Task<WalkForwardStatus> WaitForEnd(TestClusterHost host, Guid id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        WalkForwardStatus status;
        do
        {
            status = await host.Retry(() => Grain(host, id).GetStatus());
            if (status.IsTerminal)
            {
                return status;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"walk-forward {id} stayed {status.State}: " +
                                   string.Join(", ", status.Windows.Select(w => $"{w.Index} {w.StateWord}")));
    }

    private static async Task<WalkForwardResultDocument> Stored(TestClusterHost host, Guid id)
    {
        var record = (await new PostgresWalkForwardStore(Npgsql.NpgsqlDataSource.Create(host.ConnectionString)).GetAsync(id))!;
        Assert.Equal(LifecycleWords.Completed, record.Status);
        return JsonSerializer.Deserialize<WalkForwardResultDocument>(record.ResultJson!, JsonDefaults.Options)!;
    }

    /// <summary>What a window must be, computed here: its in-sample grid run on the engine, its best, and that best run out of sample.</summary>
    private sealed record HandWindow(WalkForwardWindow Window, TrialOutcome? Best, BacktestResult? OutOfSample);

    private static List<HandWindow> ByHand(WalkForwardJob job)
    {
        var plan = OptimizationFixtures.Plan(job.Optimization);
        var (windows, errors) = WalkForwardPlanner.Plan(plan.BaseSpec.Start, plan.BaseSpec.End, job.Validation);
        Assert.Empty(errors);
        var hand = new List<HandWindow>();
        foreach (var window in windows)
        {
            var inSample = job.Optimization with
            {
                BaseConfig = job.Optimization.BaseConfig with { StartDate = $"{window.InSampleStart:yyyy-MM-dd}", EndDate = $"{window.InSampleEnd:yyyy-MM-dd}" },
            };
            var best = Direct(inSample, batchSize: 2).Best;
            BacktestResult? outOfSample = null;
            if (best is not null)
            {
                var config = plan.TrialConfig(best.Parameters) with { StartDate = $"{window.OutOfSampleStart:yyyy-MM-dd}", EndDate = $"{window.OutOfSampleEnd:yyyy-MM-dd}" };
                var spec = ConfigValidator.Validate(config, OptimizationFixtures.Lean, StrategyCatalog.Templates, ValidationPolicy.Service, OptimizationFixtures.Today).Spec!;
                outOfSample = new BacktestRun(spec, OptimizationFixtures.Lean, StrategyCatalog.Templates).Execute();
            }

            hand.Add(new HandWindow(window, best, outOfSample));
        }

        return hand;
    }

    /// <summary>
    /// The stitched curve written here: one account that starts at the initial balance and, in each window, follows that
    /// window's run scaled to the account at the window's start; the t-statistic of its daily returns; the efficiency.
    /// </summary>
    private static void AssertStitchedAsByHand(WalkForwardJob job, List<HandWindow> hand, WalkForwardResultDocument stored)
    {
        var ran = hand.Where(h => h.OutOfSample is not null).ToList();
        var initial = job.Optimization.BaseConfig.InitialBalance;
        var account = initial;
        var curve = new List<DailyEquity>();
        var returns = new List<double>();
        var trades = new List<Trade>();
        double tradedValue = 0, commission = 0, exposureDays = 0;
        foreach (var h in ran)
        {
            var run = h.OutOfSample!;
            var scale = account / run.Summary.InitialBalance;
            var previous = run.Summary.InitialBalance;
            foreach (var day in run.DailyEquity)
            {
                curve.Add(new DailyEquity(day.Date, day.Equity * scale));
                returns.Add(day.Equity / previous - 1);
                previous = day.Equity;
            }

            trades.AddRange(run.Trades.Select(t => t with
            {
                Id = trades.Count + 1, Quantity = t.Quantity * scale, Pnl = t.Pnl * scale, Commission = t.Commission * scale,
                Mae = t.Mae * scale, Mfe = t.Mfe * scale,
            }));
            tradedValue += run.PerInstrument.Sum(i => i.TradedValue) * scale;
            commission += run.Metrics.TotalCommission * scale;
            exposureDays += run.Metrics.Exposure * run.DailyEquity.Count;
            account = curve[^1].Equity;
        }

        var summary = stored.Summary!;
        Assert.Equal(curve.Select(c => c.Date), summary.StitchedEquity.Select(c => c.Date));
        foreach (var (mine, theirs) in curve.Zip(summary.StitchedEquity))
        {
            Assert.Equal(mine.Equity, theirs.Equity, mine.Equity * 1e-12);
        }

        Assert.Equal(account / initial - 1, summary.Metrics.TotalReturn!.Value, 1e-12);
        var mean = returns.Average();
        var sd = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / (returns.Count - 1));
        Assert.Equal(mean / (sd / Math.Sqrt(returns.Count)), summary.TStatistic!.Value, 1e-9);

        var metrics = MetricsCalculator.Compute(new MetricsInput
        {
            InitialEquity = initial, DailyEquity = curve, Trades = trades, PeriodsPerYear = ran[0].OutOfSample!.Metrics.PeriodsPerYear,
            RiskFreeRate = job.Optimization.BaseConfig.RiskFreeRate,
            Exposure = exposureDays / curve.Count, TotalTradedValue = tradedValue, TotalCommission = commission,
        });
        Assert.Equal(metrics.SharpeRatio!.Value, summary.Metrics.SharpeRatio!.Value, 1e-9);
        Assert.Equal(metrics.MaxDrawdown!.Value, summary.Metrics.MaxDrawdown!.Value, 1e-12);
        Assert.Equal(metrics.AnnualizedReturn!.Value, summary.Metrics.AnnualizedReturn!.Value, 1e-12);
        Assert.Equal(trades.Count, summary.Metrics.TotalTrades);
        Assert.Equal(metrics.WinRate, summary.Metrics.WinRate);
        Assert.Equal(metrics.Turnover!.Value, summary.Metrics.Turnover!.Value, 1e-9);
        Assert.Equal(metrics.TotalCommission, summary.Metrics.TotalCommission, 1e-9);
        Assert.Equal(metrics.Exposure, summary.Metrics.Exposure, 1e-12);

        var inSample = ran.Select(h => h.Best!.Metrics!.AnnualizedReturn).Where(r => r is { } v && double.IsFinite(v)).Select(r => r!.Value).ToList();
        var meanInSample = inSample.Average();
        if (meanInSample > 0)
        {
            Assert.Equal(summary.Metrics.AnnualizedReturn!.Value / meanInSample, summary.Efficiency!.Value, 1e-9);
        }
        else
        {
            Assert.Null(summary.Efficiency);
        }
    }

    private static void AssertWindowsAsByHand(List<HandWindow> hand, WalkForwardStatus done, WalkForwardResultDocument stored)
    {
        Assert.Equal(hand.Count, done.Windows.Count);
        Assert.Equal(hand.Count, stored.Windows.Count);
        foreach (var (h, (w, item)) in hand.Zip(done.Windows.Zip(stored.Windows)))
        {
            Assert.Equal(h.Window, w.Window);
            Assert.Equal(w.StateWord, item.State);
            Assert.Equal(w.OptimizationId, item.OptimizationId);
            if (h.Best is null)
            {
                Assert.Equal(WalkForwardWindowState.NoFeasibleTrial, w.State);
                Assert.Null(w.BacktestId);
                continue;
            }

            Assert.Equal(WalkForwardWindowState.Completed, w.State);
            Assert.Equal(h.Best.Trial, w.BestTrial);
            AssertSameParameters(h.Best.Parameters, w.ParametersJson!);
            Assert.Equal(JsonSerializer.Serialize(h.Best.Metrics, JsonDefaults.Options),
                JsonSerializer.Serialize(JsonSerializer.Deserialize<PerformanceMetrics>(w.InSampleMetricsJson!, JsonDefaults.Options), JsonDefaults.Options));
            Assert.Equal(JsonSerializer.Serialize(h.OutOfSample!.Metrics, JsonDefaults.Options), w.OutOfSampleMetricsJson);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_walk_forward_equals_each_windows_best_parameters_run_by_hand_and_stitched_here(bool anchored)
    {
        await using var host = await Start();
        var job = Job(Small, ("validation.anchored", anchored ? "true" : "false"));
        var id = Guid.NewGuid();
        var submitted = await Grain(host, id).Submit(new WalkForwardSubmission(job, "alice"));
        Assert.Equal(OptimizationState.Queued, submitted.State);
        // Hand-computed windows: 2y in sample then 1y out, stepping a year; anchored ones all start on the span's first day.
        Assert.Equal([(anchored ? "2016-01-01" : "2016-01-01", "2017-12-31", "2018-01-01", "2018-12-31"),
                (anchored ? "2016-01-01" : "2017-01-01", "2018-12-31", "2019-01-01", "2019-12-31"),
                (anchored ? "2016-01-01" : "2018-01-01", "2019-12-31", "2020-01-01", "2020-12-31")],
            submitted.Windows.Select(w => ($"{w.InSampleStart:yyyy-MM-dd}", $"{w.InSampleEnd:yyyy-MM-dd}", $"{w.OutOfSampleStart:yyyy-MM-dd}",
                $"{w.OutOfSampleEnd:yyyy-MM-dd}")));
        Assert.Equal(submitted.Windows.Select(w => WalkForwardIds.Optimization(id, w.Index)), submitted.Windows.Select(w => w.OptimizationId));

        var done = await WaitForEnd(host, id);
        Assert.Equal(OptimizationState.Completed, done.State);
        Assert.Equal([OptimizationState.Created, OptimizationState.Queued, OptimizationState.Running, OptimizationState.Completed],
            done.History.Select(h => h.State));
        var stored = await Stored(host, id);
        var hand = ByHand(job);
        Assert.All(hand, h => Assert.NotNull(h.Best));
        AssertWindowsAsByHand(hand, done, stored);
        AssertStitchedAsByHand(job, hand, stored);
        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task The_same_job_and_seed_give_the_same_result_and_a_window_without_feasible_trials_runs_nothing_out_of_sample()
    {
        await using var host = await Start();
        // Random search (seeded) over a range, and a constraint no trial meets.
        var job = Job(Small, ("method", "\"random\""), ("maxTrials", "3"), ("seed", "20261206"),
            ("parameters", """{"fastPeriod":{"min":5,"max":30},"slowPeriod":{"values":[60,100]}}"""),
            ("constraints", """[{"metric":"totalTrades","op":">=","value":1000}]"""));
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        await Grain(host, first).Submit(new WalkForwardSubmission(job, "alice"));
        await Grain(host, second).Submit(new WalkForwardSubmission(job, "bob"));
        var a = await WaitForEnd(host, first);
        var b = await WaitForEnd(host, second);
        Assert.Equal(OptimizationState.Completed, a.State);
        Assert.Equal(OptimizationState.Completed, b.State);
        // No trial makes 1,000 trades a year: every window is recorded without a feasible trial, and no backtest exists.
        Assert.All(a.Windows, w => Assert.Equal(WalkForwardWindowState.NoFeasibleTrial, w.State));
        foreach (var window in a.Windows)
        {
            await Assert.ThrowsAsync<KeyNotFoundException>(() => host.Backtest(WalkForwardIds.OutOfSample(first, window.Index)).GetStatus());
        }

        var storedA = await Stored(host, first);
        Assert.Null(storedA.Summary);
        AssertWindowsAsByHand(ByHand(job), a, storedA);

        // Without the constraint: the same seed gives the same choices and the same stitched result, equal to the windows run by hand.
        var feasible = Job(Small, ("method", "\"random\""), ("maxTrials", "3"), ("seed", "20261206"),
            ("parameters", """{"fastPeriod":{"min":5,"max":30},"slowPeriod":{"values":[60,100]}}"""));
        var third = Guid.NewGuid();
        var fourth = Guid.NewGuid();
        await Grain(host, third).Submit(new WalkForwardSubmission(feasible, "alice"));
        await Grain(host, fourth).Submit(new WalkForwardSubmission(feasible, "bob"));
        var c = await WaitForEnd(host, third);
        var d = await WaitForEnd(host, fourth);
        Assert.Equal(c.Windows.Select(w => (w.BestTrial, w.ParametersJson, w.OutOfSampleMetricsJson)),
            d.Windows.Select(w => (w.BestTrial, w.ParametersJson, w.OutOfSampleMetricsJson)));
        var storedC = await Stored(host, third);
        var storedD = await Stored(host, fourth);
        Assert.Equal(JsonSerializer.Serialize(storedC.Summary, JsonDefaults.Options), JsonSerializer.Serialize(storedD.Summary, JsonDefaults.Options));
        var hand = ByHand(feasible);
        AssertWindowsAsByHand(hand, c, storedC);
        AssertStitchedAsByHand(feasible, hand, storedC);
    }

    [Fact]
    public async Task Cancelling_a_job_cancels_its_children_that_still_run()
    {
        await using var host = await Start();
        var id = Guid.NewGuid();
        var job = Job(LargeGrid, ("validation", """{"inSample":"2y","outOfSample":"1y"}"""));
        await Grain(host, id).Submit(new WalkForwardSubmission(job, "alice"));
        var cancelled = await Grain(host, id).Cancel();
        Assert.Equal(OptimizationState.Cancelled, cancelled.State);
        foreach (var window in cancelled.Windows)
        {
            Assert.Equal(OptimizationState.Cancelled, (await host.Optimization(window.OptimizationId).GetStatus()).State);
        }

        await Assert.ThrowsAsync<IllegalOptimizationMoveException>(() => Grain(host, id).Cancel());
        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task A_job_goes_on_after_every_silo_restarted_and_starts_no_child_twice()
    {
        await using var host = await Start(silos: 2);
        // 24 trials a window in batches of 2: long enough to restart both silos while windows still optimize.
        var job = Job(Small, ("parameters", """{"fastPeriod":{"min":5,"max":30,"step":5},"slowPeriod":{"values":[60,80,100,120]}}"""));
        var id = Guid.NewGuid();
        await Grain(host, id).Submit(new WalkForwardSubmission(job, "carol"));
        await host.WaitForJob(WalkForwardIds.Optimization(id, 0), s => s.Progress.TrialsCompleted > 0);
        Assert.False((await Grain(host, id).GetStatus()).IsTerminal, "the silos restart in the middle of the job");

        foreach (var silo in host.Cluster.Silos.ToList())
        {
            await host.Cluster.RestartSiloAsync(silo);
            await host.Cluster.WaitForLivenessToStabilizeAsync();
        }

        var done = await WaitForEnd(host, id, TimeSpan.FromMinutes(3));
        Assert.Equal(OptimizationState.Completed, done.State);
        // One optimization and one backtest per window, under the ids derived from the job: none started twice.
        var (optimizations, optimizationCount) = await host.Store().ListAsync("carol", null, 1, 100);
        Assert.Equal(3, optimizationCount);
        Assert.Equal(done.Windows.Select(w => w.OptimizationId).Order(), optimizations.Select(o => o.Id).Order());
        var backtests = await host.Store.ListAsync("carol", null, null, null, null, default, 1, 100);
        Assert.Equal(3, backtests.TotalCount);
        Assert.Equal(done.Windows.Select(w => w.BacktestId!.Value).Order(), backtests.Items.Select(b => b.Id).Order());
        foreach (var window in done.Windows)
        {
            Assert.Equal(Enumerable.Range(0, 24), (await host.Rows(window.OptimizationId)).Select(r => r.TrialNumber));
        }

        var stored = await Stored(host, id);
        var hand = ByHand(job);
        AssertWindowsAsByHand(hand, done, stored);
        AssertStitchedAsByHand(job, hand, stored);
        await host.WaitForFreeSlots();
    }
}
