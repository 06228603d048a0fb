using System.Globalization;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Backtesting.Tests.Configuration;
using Backtesting.Tests.Optimization;
using static Backtesting.Tests.Cluster.OptimizationClusterHost;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// The deployment setting Backtesting:MaxDurationYears through the cluster: a cluster configured with another limit admits
/// a backtest, an optimization (and its plan) and a walk-forward that end on the start plus that many years and refuses
/// each one day longer, naming the field and the limit; it reports its limit to clients; and a Silo process given a
/// setting that means nothing refuses to start, saying which setting.
/// </summary>
[Collection("cluster")]
public class MaxDurationConfigurationClusterTests
{
    private static readonly DateOnly Start = new(2012, 2, 29);

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private const string OneTrialParameters = """{"fastPeriod":{"values":[10]},"slowPeriod":{"values":[60]}}""";

    /// <summary>One trial, so that what the cluster admits is small to run.</summary>
    private static OptimizationConfig OneTrial(DateOnly start, DateOnly end) =>
        OptimizationFixtures.WithBase(OptimizationFixtures.Job(OptimizationFixtures.GridJob, ("parameters", OneTrialParameters)),
            ("startDate", $"\"{Date(start)}\""), ("endDate", $"\"{Date(end)}\""));

    /// <summary>
    /// One trial per window; 13 months in sample and 5 out, so that no out-of-sample part is a single day (a span ending on
    /// an out-of-sample start would give one, which no backtest can be).
    /// </summary>
    private static WalkForwardJob WalkForward(DateOnly start, DateOnly end) => DurationLimitTests.WalkForward(start, end,
        OneTrialParameters, """{"inSample":"13m","outOfSample":"5m"}""");

    [Fact]
    public async Task A_cluster_configured_with_two_years_admits_to_the_boundary_day_and_refuses_the_next_for_every_kind_of_job()
    {
        const int years = 2;
        await using var host = await TestClusterHost.StartAsync(silos: 1, o =>
        {
            o.MaxDurationYears = "2";
            o.Optimization.ProgressInterval = TimeSpan.FromMilliseconds(200);
        });
        Assert.Equal(years, (await host.Client.GetGrain<IClusterSettingsGrain>(0).Get()).MaxDurationYears);
        var last = Start.AddYears(years);
        Assert.Equal(new DateOnly(2014, 2, 28), last);

        // A backtest.
        var backtest = Guid.NewGuid();
        await host.Backtest(backtest).Submit(new BacktestSubmission(DurationLimitTests.Backtest(Start, last), "alice"));
        var refusedBacktest = Guid.NewGuid();
        var backtestError = await Assert.ThrowsAsync<BacktestValidationException>(() =>
            host.Backtest(refusedBacktest).Submit(new BacktestSubmission(DurationLimitTests.Backtest(Start, last.AddDays(1)), "alice")));
        DurationLimitTests.AssertLimitError(backtestError.Errors, "endDate", years, last);
        Assert.Null(await host.Store.GetAsync(refusedBacktest));

        // An optimization's plan and the optimization itself.
        var planner = host.Client.GetGrain<IOptimizationPlannerGrain>(0);
        Assert.Equal(1, await planner.Plan(Submission(OneTrial(Start, last))));
        var planError = await Assert.ThrowsAsync<OptimizationValidationException>(() => planner.Plan(Submission(OneTrial(Start, last.AddDays(1)))));
        DurationLimitTests.AssertLimitError(planError.Errors, "baseConfig.endDate", years, last);

        var optimization = Guid.NewGuid();
        await host.Optimization(optimization).Submit(Submission(OneTrial(Start, last)));
        var refusedOptimization = Guid.NewGuid();
        var optimizationError = await Assert.ThrowsAsync<OptimizationValidationException>(() =>
            host.Optimization(refusedOptimization).Submit(Submission(OneTrial(Start, last.AddDays(1)))));
        DurationLimitTests.AssertLimitError(optimizationError.Errors, "baseConfig.endDate", years, last);
        Assert.Null(await host.Store().GetAsync(refusedOptimization));

        // A walk-forward over the whole span (one window: a year in sample, a year out of sample).
        var walkForward = Guid.NewGuid();
        var accepted = await host.Client.GetGrain<IWalkForwardGrain>(walkForward).Submit(new WalkForwardSubmission(WalkForward(Start, last), "alice"));
        Assert.Equal(last, accepted.Windows[^1].OutOfSampleEnd);
        var refusedWalkForward = Guid.NewGuid();
        var walkForwardError = await Assert.ThrowsAsync<OptimizationValidationException>(() =>
            host.Client.GetGrain<IWalkForwardGrain>(refusedWalkForward).Submit(new WalkForwardSubmission(WalkForward(Start, last.AddDays(1)), "alice")));
        DurationLimitTests.AssertLimitError(walkForwardError.Errors, "baseConfig.endDate", years, last);
        Assert.Null(await new PostgresWalkForwardStore(Npgsql.NpgsqlDataSource.Create(host.ConnectionString)).GetAsync(refusedWalkForward));

        // What was admitted runs to its end like any job.
        Assert.Equal(BacktestState.Completed, (await host.WaitFor(backtest, s => s.IsTerminal, TimeSpan.FromMinutes(2))).State);
        Assert.Equal(OptimizationState.Completed, (await host.WaitForJob(optimization, s => OptimizationLifecycle.IsTerminal(s.State))).State);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        WalkForwardStatus status;
        while (!(status = await host.Client.GetGrain<IWalkForwardGrain>(walkForward).GetStatus()).IsTerminal && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(OptimizationState.Completed, status.State);
    }

    [Fact]
    public async Task A_cluster_configured_with_none_admits_any_range_and_says_it_has_no_limit()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1, o => o.MaxDurationYears = "none");
        Assert.Null((await host.Client.GetGrain<IClusterSettingsGrain>(0).Get()).MaxDurationYears);
        var planner = host.Client.GetGrain<IOptimizationPlannerGrain>(0);
        // Twenty years: four times the default limit.
        Assert.Equal(1, await planner.Plan(Submission(OneTrial(new DateOnly(2000, 1, 3), new DateOnly(2020, 1, 3)))));
    }

    [Fact]
    public async Task A_cluster_left_at_its_defaults_reports_five_years()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        Assert.Equal(ValidationPolicy.DefaultMaxDurationYears, (await host.Client.GetGrain<IClusterSettingsGrain>(0).Get()).MaxDurationYears);
    }

    [Fact]
    public async Task A_silo_given_a_limit_that_means_nothing_does_not_start_and_says_which_setting()
    {
        using var logs = new TempFolder();
        using var work = new TempFolder();
        var connectionString = await PostgresTestServer.CreateDatabaseAsync("maxduration");
        await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
        try
        {
            foreach (var setting in new[] { "0", "-1", "five", "201", "2.5" })
            {
                using var silo = SiloProcesses.Start(connectionString, "maxduration-" + Guid.NewGuid().ToString("N")[..8], work.Path, logs,
                    TimeSpan.FromSeconds(2), new Dictionary<string, string> { ["Backtesting__MaxDurationYears"] = setting });
                Assert.True(silo.Process.WaitForExit(TimeSpan.FromMinutes(2)), $"the silo with {setting} kept running:\n{silo.Log}");
                Assert.Equal(2, silo.Process.ExitCode);
                Assert.Contains($"silo not started: Backtesting:MaxDurationYears must be a whole number of years from 1 to 200, or 'none' for no limit; '{setting}' is not",
                    silo.Log, StringComparison.Ordinal);
                Assert.DoesNotContain("silo up", silo.Log, StringComparison.Ordinal);
            }
        }
        finally
        {
            await PostgresTestServer.DropDatabaseAsync(connectionString);
        }
    }
}
