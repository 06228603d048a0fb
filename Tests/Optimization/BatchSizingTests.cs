using System.Globalization;
using System.IO.Compression;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Grains;
using Backtesting.Grains.Optimization;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// The batch sizing rule over the classes of jobs (daily, minute and tick trials; 1 to 100,000 trials; 0 to N free slots;
/// TPE; a fixed size), and the estimate of a trial's points against the bundled data files counted line by line.
/// </summary>
public sealed class BatchSizingTests
{
    private static readonly OptimizationRunOptions Defaults = new();

    /// <summary>Points per trial of each class: 5 years daily, 1 year of minute bars, 1 day and 1 year of ticks (one instrument).</summary>
    public static readonly (string Class, long Points)[] Classes =
    [
        ("daily, 5 years", 1258),
        ("daily, 5 instruments", 5 * 1258),
        ("hourly, 1 year", 252 * 7),
        ("minute, 1 year", 98_670),
        ("minute, 5 years, extended hours", 5 * 252 * TrialWork.ExtendedSessionMinutes),
        ("tick, 1 day", TrialWork.RegularSessionMinutes * (long)TrialWork.TicksPerMinute),
        ("tick, 1 year", 252L * TrialWork.RegularSessionMinutes * TrialWork.TicksPerMinute),
    ];

    private static readonly long[] TrialCounts = [1, 2, 7, 100, 1_000, 9_999, 10_000, 50_000, 100_000];

    private static readonly int[] FreeSlots = [0, 1, 2, 3, 4, 8, 100];

    private static double BatchWork(long trialsInBatch, long points) => trialsInBatch * BatchSizing.TrialSeconds(points);

    [Fact]
    public void Every_class_of_job_gets_batches_within_the_longest_work_and_splits_over_free_slots_only_when_each_part_is_worth_a_worker()
    {
        foreach (var (name, points) in Classes)
        {
            foreach (var trials in TrialCounts)
            {
                foreach (var free in FreeSlots)
                {
                    var shape = BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, trials, points), free, Defaults);
                    var what = $"{name}, {trials} trials, {free} free";
                    Assert.InRange((long)shape.Trials, 1, trials);
                    var batches = (trials + shape.Trials - 1) / shape.Trials;
                    var work = BatchWork(trials, points);

                    // No batch longer than the limit, unless it is one trial that alone is longer.
                    Assert.True(shape.Trials == 1 || BatchWork(shape.Trials, points) <= Defaults.MaxBatchWork.TotalSeconds * 1.0001,
                        $"{what}: {shape.Trials} trials a batch = {BatchWork(shape.Trials, points):F1} s");
                    // Not more batches than the limit needs, or the split over the free slots asks for (rounded up to a multiple of them).
                    var parallel = Math.Max(1, Math.Min(free, Defaults.BatchesInFlight));
                    var fits = Math.Max(1L, (long)Math.Floor(Defaults.MaxBatchWork.TotalSeconds / BatchSizing.TrialSeconds(points)));
                    var needed = (trials + fits - 1) / fits;
                    Assert.True(batches <= Math.Max(needed, parallel) + parallel, $"{what}: {batches} batches, {needed} needed");
                    // Split over the free slots when each part still holds the least work worth a worker; never split below it.
                    if (work >= parallel * Defaults.MinBatchWork.TotalSeconds && trials >= parallel)
                    {
                        Assert.True(batches >= parallel, $"{what}: {batches} batches for {parallel} free slots");
                    }

                    if (batches > 1)
                    {
                        Assert.True(work / batches >= Math.Min(Defaults.MinBatchWork.TotalSeconds, BatchSizing.TrialSeconds(points)) * 0.9999,
                            $"{what}: {batches} batches of {work / batches:F2} s of work each");
                    }

                    Assert.Equal(Defaults.BatchCpus, shape.Cpus);
                }
            }
        }
    }

    [Fact]
    public void The_daily_grid_of_issue_15_runs_in_one_batch_and_a_long_minute_grid_in_batches_a_slot_gives_back_within_the_limit()
    {
        foreach (var free in FreeSlots)
        {
            // 10,000 trials of 1,258 daily bars: about 5 s of work, not worth a second worker's start.
            Assert.Equal(10_000, BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, 10_000, 1258), free, Defaults).Trials);
            // 1,000 trials over a year of minute bars: about 7 s, likewise one batch.
            Assert.Equal(1_000, BatchSizing.Of(new BatchJob(SearchMethodKind.Random, 1_000, 98_670), free, Defaults).Trials);
        }

        // 100,000 minute trials: about 700 s of work, in batches of at most 30 s, as many as a multiple of the two slots.
        var minute = BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, 100_000, 98_670), 2, Defaults);
        var batches = (100_000 + minute.Trials - 1) / minute.Trials;
        Assert.Equal(0, batches % 2);
        Assert.InRange(BatchWork(minute.Trials, 98_670), 20, 30);
        // A year of ticks a trial (about 6.6 s each): four trials a batch.
        Assert.Equal(4, BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, 100, 252L * 390 * 1000), 1, Defaults).Trials);
    }

    [Fact]
    public void More_trials_never_mean_fewer_batches_and_more_free_slots_never_mean_longer_batches()
    {
        foreach (var (name, points) in Classes)
        {
            foreach (var free in FreeSlots)
            {
                long previous = 0;
                for (var trials = 1L; trials <= 100_000; trials = trials * 3 + 1)
                {
                    var size = BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, trials, points), free, Defaults).Trials;
                    var batches = (trials + size - 1) / size;
                    Assert.True(batches >= previous, $"{name}, {free} free: {trials} trials in {batches} batches after {previous}");
                    previous = batches;
                }
            }

            foreach (var trials in TrialCounts)
            {
                var sizes = FreeSlots.Select(f => BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, trials, points), f, Defaults).Trials).ToList();
                Assert.True(sizes.Zip(sizes.Skip(1)).All(p => p.Second <= p.First), $"{name}, {trials} trials: sizes {string.Join(",", sizes)}");
            }
        }
    }

    [Fact]
    public void Tpe_keeps_its_batch_size_and_a_fixed_size_overrides_the_rule_for_grid_and_random_whatever_the_job()
    {
        var fixedSize = new OptimizationRunOptions { BatchTrials = 37, BatchCpus = null };
        foreach (var (_, points) in Classes)
        {
            foreach (var trials in TrialCounts)
            {
                foreach (var free in FreeSlots)
                {
                    Assert.Equal(new BatchShape(Defaults.TpeBatchTrials, Defaults.BatchCpus),
                        BatchSizing.Of(new BatchJob(SearchMethodKind.Tpe, trials, points), free, Defaults));
                    Assert.Equal(new BatchShape(fixedSize.TpeBatchTrials, null), BatchSizing.Of(new BatchJob(SearchMethodKind.Tpe, trials, points), free, fixedSize));
                    foreach (var method in new[] { SearchMethodKind.Grid, SearchMethodKind.Random })
                    {
                        Assert.Equal(new BatchShape(37, null), BatchSizing.Of(new BatchJob(method, trials, points), free, fixedSize));
                    }
                }
            }
        }

        // A CPU grant of zero or less means none: the runner's own limit.
        Assert.Null(BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, 10, 10), 1, new OptimizationRunOptions { BatchCpus = 0 }).Cpus);
        Assert.Null(BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, 10, 10), 1, new OptimizationRunOptions { BatchCpus = -1 }).Cpus);
    }

    [Fact]
    public void A_trials_points_are_the_bars_the_data_files_hold_for_daily_and_minute_data_and_the_tick_assumption_is_of_the_order_of_the_bundled_ticks()
    {
        // Daily: SPY 2016-2020 as the plan sees it, against the daily file's lines in those dates.
        var daily = Plan(Job(GridJob));
        var lines = ZipLines(Path.Combine(TestPaths.LeanData, "equity", "usa", "daily", "spy.zip"))
            .Select(l => DateOnly.ParseExact(l[..8], "yyyyMMdd", CultureInfo.InvariantCulture))
            .Count(d => d >= new DateOnly(2016, 1, 1) && d <= new DateOnly(2020, 12, 31));
        Assert.Equal((long)lines, TrialWork.PointsPerTrial(daily, Lean.Calendar));

        // Minute: each day of SPY minute trades holds 390 bars in the regular session (09:30-16:00) and at most the extended one.
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.LeanData, "equity", "usa", "minute", "spy"), "*_trade.zip"))
        {
            var milliseconds = ZipLines(file).Select(l => long.Parse(l[..l.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture)).ToList();
            var regular = milliseconds.Count(ms => ms >= 9.5 * 3_600_000 && ms < 16 * 3_600_000);
            Assert.Equal(TrialWork.PointsPerSession(Resolution.Minute, AssetClass.Equity, extendedHours: false), (long)regular);
            Assert.InRange((long)milliseconds.Count, regular, TrialWork.PointsPerSession(Resolution.Minute, AssetClass.Equity, extendedHours: true));
        }

        // Ticks: the assumption per regular-session minute against the bundled SPY trade ticks, within a factor of two.
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.LeanData, "equity", "usa", "tick", "spy"), "*_trade.zip"))
        {
            var perMinute = ZipLines(file).Count() / (double)TrialWork.RegularSessionMinutes;
            Assert.InRange((double)TrialWork.TicksPerMinute, perMinute / 2, perMinute * 2);
        }

        // Around the clock and by resolution.
        Assert.Equal(1, TrialWork.PointsPerSession(Resolution.Daily, AssetClass.Crypto, false));
        Assert.Equal(24, TrialWork.PointsPerSession(Resolution.Hour, AssetClass.Forex, false));
        Assert.Equal(7, TrialWork.PointsPerSession(Resolution.Hour, AssetClass.Equity, false));
        Assert.Equal(1440, TrialWork.PointsPerSession(Resolution.Minute, AssetClass.Crypto, true));
    }

    private static IEnumerable<string> ZipLines(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.Entries[0].Open());
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                yield return line;
            }
        }
    }
}
