using System.Text.Json;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;
using Backtesting.Engine.Robustness;

namespace Backtesting.Tests.Robustness;

/// <summary>
/// Walk-forward windows over every combination of lengths, units, month-end origins and both modes, held to the
/// invariants a user relies on; the stitched curve, its efficiency, t-statistic and drift against hand computation.
/// </summary>
public class WalkForwardTests
{
    private static DateOnly D(string s) => DateOnly.ParseExact(s, "yyyy-MM-dd");

    [Theory]
    [InlineData("1d", 1, CalendarUnit.Days)]
    [InlineData("30d", 30, CalendarUnit.Days)]
    [InlineData("2w", 2, CalendarUnit.Weeks)]
    [InlineData("3m", 3, CalendarUnit.Months)]
    [InlineData("1y", 1, CalendarUnit.Years)]
    [InlineData("9999y", 9999, CalendarUnit.Years)]
    public void A_period_is_a_whole_number_and_a_unit_letter(string text, int count, CalendarUnit unit)
    {
        Assert.True(CalendarPeriod.TryParse(text, out var period));
        Assert.Equal(new CalendarPeriod(count, unit), period);
        Assert.Equal(text, period.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("y")]
    [InlineData("0d")]
    [InlineData("01m")]
    [InlineData("1h")]
    [InlineData("1.5y")]
    [InlineData("-1m")]
    [InlineData("+1m")]
    [InlineData("10000d")]
    [InlineData(" 1y")]
    [InlineData("1Y")]
    [InlineData("1yy")]
    [InlineData("1 y")]
    public void Anything_else_is_not_a_period(string? text) => Assert.False(CalendarPeriod.TryParse(text, out _));

    [Fact]
    public void A_rolling_year_with_quarters_over_five_years_gives_sixteen_tiling_quarters()
    {
        var (windows, errors) = WalkForwardPlanner.Plan(D("2016-01-01"), D("2020-12-31"), new WalkForwardSettings("1y", "3m"));

        Assert.Empty(errors);
        Assert.Equal(16, windows.Count);
        Assert.Equal(new WalkForwardWindow(0, D("2016-01-01"), D("2016-12-31"), D("2017-01-01"), D("2017-03-31"), false), windows[0]);
        Assert.Equal(new WalkForwardWindow(1, D("2016-04-01"), D("2017-03-31"), D("2017-04-01"), D("2017-06-30"), false), windows[1]);
        Assert.Equal(new WalkForwardWindow(15, D("2019-10-01"), D("2020-09-30"), D("2020-10-01"), D("2020-12-31"), false), windows[15]);
    }

    [Fact]
    public void Anchored_windows_all_start_in_sample_at_the_spans_start()
    {
        var (windows, _) = WalkForwardPlanner.Plan(D("2016-01-01"), D("2020-12-31"), new WalkForwardSettings("1y", "6m", Anchored: true));

        Assert.Equal(8, windows.Count);
        Assert.All(windows, w => Assert.Equal(D("2016-01-01"), w.InSampleStart));
        Assert.Equal(D("2020-06-30"), windows[^1].InSampleEnd);
    }

    [Fact]
    public void A_last_window_cut_by_the_spans_end_is_kept_and_marked_truncated()
    {
        var (windows, _) = WalkForwardPlanner.Plan(D("2016-01-01"), D("2017-02-10"), new WalkForwardSettings("1y", "1m"));

        Assert.Equal(2, windows.Count);
        Assert.False(windows[0].Truncated);
        Assert.Equal(new WalkForwardWindow(1, D("2016-02-01"), D("2017-01-31"), D("2017-02-01"), D("2017-02-10"), true), windows[1]);
    }

    public static TheoryData<string, string, string, string?, bool> Combinations()
    {
        var data = new TheoryData<string, string, string, string?, bool>();
        string[] origins = ["2016-01-31", "2016-02-29", "2015-03-30", "2016-01-01"];
        (string L, string O, string? P)[] lengths =
        [
            ("1y", "3m", null), ("1y", "1m", null), ("6m", "1m", "2m"), ("2y", "6m", "6m"), ("90d", "30d", null),
            ("10w", "2w", "3w"), ("1y", "2w", null), ("3m", "10d", "15d"), ("13m", "1y", null), ("1d", "2d", null),
        ];
        foreach (var origin in origins)
        {
            foreach (var (l, o, p) in lengths)
            {
                data.Add(origin, l, o, p, false);
                data.Add(origin, l, o, p, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Every_plan_keeps_its_windows_inside_the_span_in_order_disjoint_and_tiling_when_the_step_is_the_length(
        string origin, string inSample, string outOfSample, string? step, bool anchored)
    {
        var start = D(origin);
        var end = start.AddYears(3).AddDays(-1);
        var settings = new WalkForwardSettings(inSample, outOfSample, step, anchored);
        var (windows, errors) = WalkForwardPlanner.Plan(start, end, settings, maxWindows: 2000);

        Assert.Empty(errors);
        Assert.NotEmpty(windows);
        Assert.True(CalendarPeriod.TryParse(inSample, out var l));
        Assert.True(CalendarPeriod.TryParse(outOfSample, out var o));
        Assert.True(CalendarPeriod.TryParse(step ?? outOfSample, out var p));
        // An independent statement of the plan: the first out-of-sample start is S + L, every later one P further
        // (counted from there), and the plan stops at the first start past the span's end.
        var first = l.After(start);
        for (var i = 0; i < windows.Count; i++)
        {
            var w = windows[i];
            Assert.Equal(i, w.Index);
            Assert.Equal(p.Unit == CalendarUnit.Months ? first.AddMonths(i * p.Count)
                : p.Unit == CalendarUnit.Years ? first.AddYears(i * p.Count)
                : first.AddDays(i * p.Count * (p.Unit == CalendarUnit.Weeks ? 7 : 1)), w.OutOfSampleStart);
            Assert.Equal(w.OutOfSampleStart.AddDays(-1), w.InSampleEnd);
            Assert.Equal(anchored ? start : p.After(start, i), w.InSampleStart);
            // An out-of-sample part is a backtest: its end comes after its start.
            Assert.True(w.InSampleStart <= w.InSampleEnd && w.OutOfSampleStart < w.OutOfSampleEnd && w.OutOfSampleEnd <= end);
            Assert.Equal(w.OutOfSampleEnd == end && w.Truncated, w.Truncated);
            if (i > 0)
            {
                Assert.True(windows[i - 1].OutOfSampleEnd < w.OutOfSampleStart, $"window {i} overlaps the one before");
                if (p == o)
                {
                    Assert.Equal(windows[i - 1].OutOfSampleEnd.AddDays(1), w.OutOfSampleStart);
                }
            }

            // The full out-of-sample part is O long from its start, give or take a month's end.
            if (!w.Truncated)
            {
                var full = o.After(w.OutOfSampleStart).AddDays(-1);
                Assert.InRange(w.OutOfSampleEnd.DayNumber - full.DayNumber, -3, 3);
            }
        }

        var next = p.Unit == CalendarUnit.Months ? first.AddMonths(windows.Count * p.Count)
            : p.Unit == CalendarUnit.Years ? first.AddYears(windows.Count * p.Count)
            : first.AddDays(windows.Count * p.Count * (p.Unit == CalendarUnit.Weeks ? 7 : 1));
        Assert.True(next >= end, "a further window would still start before the span's last day");
        if (p == o)
        {
            // They tile the span, but for a last day on which a further window would start (one day is no backtest).
            Assert.Equal(next == end ? end.AddDays(-1) : end, windows[^1].OutOfSampleEnd);
        }
    }

    [Theory]
    [InlineData("2020-01-01", "1y", "3m", "2021-04-01")] // the second window would start on the last day
    [InlineData("2020-01-31", "1m", "1m", "2020-03-29")] // month ends: counted from 2020-02-29, the second would start on 2020-03-29
    [InlineData("2020-01-01", "2w", "1w", "2020-01-22")]
    public void A_window_that_would_start_on_the_span_s_last_day_is_not_planned(string origin, string inSample, string outOfSample, string last)
    {
        var (start, end) = (D(origin), D(last));
        var (windows, errors) = WalkForwardPlanner.Plan(start, end, new WalkForwardSettings(inSample, outOfSample));
        Assert.Empty(errors);
        Assert.All(windows, w => Assert.True(w.OutOfSampleStart < w.OutOfSampleEnd, $"window {w.Index} is {w.OutOfSampleStart}..{w.OutOfSampleEnd}"));
        Assert.Equal(end.AddDays(-1), windows[^1].OutOfSampleEnd);
        // One day more and that window is planned, two days long.
        var (longer, _) = WalkForwardPlanner.Plan(start, end.AddDays(1), new WalkForwardSettings(inSample, outOfSample));
        Assert.Equal(windows.Count + 1, longer.Count);
        Assert.Equal((end, end.AddDays(1)), (longer[^1].OutOfSampleStart, longer[^1].OutOfSampleEnd));
    }

    [Fact]
    public void A_span_one_day_past_the_in_sample_length_holds_no_window()
    {
        var (windows, errors) = WalkForwardPlanner.Plan(D("2020-01-01"), D("2021-01-01"), new WalkForwardSettings("1y", "3m"));
        Assert.Empty(windows);
        Assert.Equal(("validation", "noWindow"), (errors.Single().Field, errors.Single().Rule));
    }

    [Theory]
    [InlineData("1x", "3m", null, "validation.inSample", "period")]
    [InlineData(null, "3m", null, "validation.inSample", "required")]
    [InlineData("1y", "0m", null, "validation.outOfSample", "period")]
    [InlineData("1y", "1d", null, "validation.outOfSample", "tooShort")]
    [InlineData("1y", "3m", "1y", "validation.step", "stepUnit")]
    [InlineData("1y", "3m", "2m", "validation.step", "stepTooShort")]
    [InlineData("1y", "3m", "3", "validation.step", "period")]
    [InlineData("5y", "3m", null, "validation", "noWindow")]
    [InlineData("1y", "2d", null, "validation", "tooManyWindows")]
    public void Each_rule_names_its_field(string? inSample, string? outOfSample, string? step, string field, string rule)
    {
        var (windows, errors) = WalkForwardPlanner.Plan(D("2016-01-01"), D("2020-12-31"), new WalkForwardSettings(inSample!, outOfSample!, step));

        Assert.Empty(windows);
        var error = Assert.Single(errors);
        Assert.Equal((field, rule), (error.Field, error.Rule));
    }

    [Fact]
    public void A_span_that_ends_before_it_starts_is_refused()
    {
        var (_, errors) = WalkForwardPlanner.Plan(D("2020-01-02"), D("2020-01-01"), new WalkForwardSettings("1d", "1d"));
        Assert.Contains(errors, e => e.Rule == "span");
    }

    private static WalkForwardWindow Window(int index, string oosStart, string oosEnd) =>
        new(index, D("2010-01-01"), D(oosStart).AddDays(-1), D(oosStart), D(oosEnd), false);

    private static Dictionary<string, JsonElement> Parameters(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    private static Trade Trade(int id, double pnl) => new()
    {
        Id = id, Instrument = "SPY", Side = TradeSide.Long, Quantity = 10, EntryTime = new DateTime(2020, 1, 2), EntryPrice = 100,
        ExitTime = new DateTime(2020, 1, 3), ExitPrice = 100 + pnl / 10, Pnl = pnl, ReturnPct = pnl / 1000, Commission = 1, Mae = -2, Mfe = 3, BarsHeld = 1,
    };

    [Fact]
    public void The_stitched_curve_compounds_each_runs_own_returns_and_scales_its_money_to_the_account()
    {
        var windows = new[]
        {
            new WalkForwardWindowResult(Window(0, "2020-01-01", "2020-01-31"), Parameters("""{"fast":10}"""), 0.2, 1000,
                [new DailyEquity(D("2020-01-02"), 1100), new DailyEquity(D("2020-01-03"), 990)], [Trade(7, -10)], 0.5, 2000, 2),
            new WalkForwardWindowResult(Window(1, "2020-02-01", "2020-02-29"), Parameters("""{"fast":20}"""), 0.1, 1000,
                [new DailyEquity(D("2020-02-03"), 1050)], [Trade(3, 50)], 1.0, 1000, 1),
        };

        var summary = WalkForwardAnalysis.Summarize(windows, 100, 252);

        Assert.Equal([110, 99, 103.95], summary.StitchedEquity.Select(p => Math.Round(p.Equity, 10)));
        Assert.Equal([D("2020-01-02"), D("2020-01-03"), D("2020-02-03")], summary.StitchedEquity.Select(p => p.Date));
        Assert.Equal([0.1, -0.1, 0.05], summary.StitchedReturns.Select(r => Math.Round(r, 12)));
        // Window 0 starts with the whole account (100 of the run's 1000: x0.1), window 1 with 99 (x0.099).
        Assert.Equal(2, summary.Metrics.TotalTrades);
        Assert.Equal(-10 * 0.1 + 50 * 0.099, summary.Metrics.Expectancy!.Value * 2, 12);
        Assert.Equal((0.5 * 2 + 1.0 * 1) / 3, summary.Metrics.Exposure, 12);
        Assert.Equal(Math.Round(103.95 / 100 - 1, 12), Math.Round(summary.Metrics.TotalReturn!.Value, 12));
    }

    [Fact]
    public void One_window_run_from_the_same_capital_has_exactly_that_runs_metrics()
    {
        var equity = Enumerable.Range(0, 60).Select(i => new DailyEquity(D("2020-01-01").AddDays(i), 1000 * (1 + 0.01 * Math.Sin(i) + 0.001 * i))).ToArray();
        var trades = new[] { Trade(1, 12), Trade(2, -4), Trade(3, 7) };
        var window = new WalkForwardWindowResult(Window(0, "2020-01-01", "2020-03-31"), Parameters("""{"fast":10}"""), 0.1, 1000, equity, trades, 0.4, 5000, 3);

        var summary = WalkForwardAnalysis.Summarize([window], 1000, 252, 0.02);
        var alone = MetricsCalculator.Compute(new MetricsInput
        {
            InitialEquity = 1000, DailyEquity = equity, Trades = trades, PeriodsPerYear = 252, RiskFreeRate = 0.02, Exposure = 0.4,
            TotalTradedValue = 5000, TotalCommission = 3,
        });

        Assert.Equal(JsonSerializer.Serialize(alone), JsonSerializer.Serialize(summary.Metrics));
    }

    [Fact]
    public void The_t_statistic_is_the_mean_over_its_standard_error()
    {
        var window = new WalkForwardWindowResult(Window(0, "2020-01-01", "2020-01-31"), Parameters("{}"), null, 100,
            [new DailyEquity(D("2020-01-02"), 101), new DailyEquity(D("2020-01-03"), 101 * 1.03)], []);

        // Returns 0.01 and 0.03: mean 0.02, s = sqrt(2 · 0.01² / 1) = 0.01·√2, standard error s/√2 = 0.01, t = 2.
        Assert.Equal(2, WalkForwardAnalysis.Summarize([window], 100, 252).TStatistic!.Value, 9);
    }

    [Theory]
    [InlineData(new[] { 0.2, 0.1 }, true)]
    [InlineData(new[] { 0.2, -0.3 }, false)]
    [InlineData(new[] { 0.0 }, false)]
    [InlineData(new double[0], false)]
    public void Efficiency_is_the_stitched_annual_return_over_the_mean_in_sample_one_and_undefined_unless_that_mean_is_positive(double[] inSample, bool defined)
    {
        var results = new List<WalkForwardWindowResult>();
        for (var i = 0; i < Math.Max(1, inSample.Length); i++)
        {
            var start = D("2020-01-01").AddMonths(i);
            results.Add(new WalkForwardWindowResult(new WalkForwardWindow(i, D("2019-01-01"), start.AddDays(-1), start, start.AddMonths(1).AddDays(-1), false),
                Parameters("{}"), inSample.Length == 0 ? null : inSample[i], 100, [new DailyEquity(start.AddDays(1), 101), new DailyEquity(start.AddDays(2), 102)], []));
        }

        var summary = WalkForwardAnalysis.Summarize(results, 100, 252);

        if (defined)
        {
            Assert.Equal(summary.Metrics.AnnualizedReturn!.Value / inSample.Average(), summary.Efficiency!.Value, 12);
        }
        else
        {
            Assert.Null(summary.Efficiency);
        }
    }

    [Fact]
    public void Drift_counts_changes_and_distinct_values_and_measures_numbers_only()
    {
        string[] chosen = ["""{"fast":10,"ma":"SMA"}""", """{"fast":20,"ma":"EMA"}""", """{"fast":20,"ma":"SMA"}""", """{"fast":5,"ma":"SMA"}"""];
        var results = chosen.Select((json, i) =>
        {
            var start = D("2020-01-01").AddMonths(i);
            return new WalkForwardWindowResult(new WalkForwardWindow(i, D("2019-01-01"), start.AddDays(-1), start, start.AddMonths(1).AddDays(-1), false),
                Parameters(json), 0.1, 100, [new DailyEquity(start, 100)], []);
        }).ToList();

        var drift = WalkForwardAnalysis.Summarize(results, 100, 252).Drift;

        var fast = drift.Single(d => d.Parameter == "fast");
        Assert.Equal((2, 3), (fast.Changes, fast.Distinct));
        Assert.Equal(13.75, fast.Mean);
        Assert.Equal(Math.Sqrt((3.75 * 3.75 + 6.25 * 6.25 + 6.25 * 6.25 + 8.75 * 8.75) / 4), fast.StandardDeviation!.Value, 12);
        Assert.Equal((10 + 0 + 15) / 3.0, fast.MeanAbsoluteChange!.Value, 12);
        var ma = drift.Single(d => d.Parameter == "ma");
        Assert.Equal((2, 2), (ma.Changes, ma.Distinct));
        Assert.Null(ma.Mean);
        Assert.Null(ma.MeanAbsoluteChange);
    }

    public static TheoryData<string, WalkForwardWindowResult[]> Malformed() => new()
    {
        { "outside", [new(Window(0, "2020-01-01", "2020-01-31"), Parameters("{}"), null, 100, [new DailyEquity(D("2020-02-01"), 100)], [])] },
        { "after", [
            new(Window(0, "2020-01-01", "2020-01-31"), Parameters("{}"), null, 100, [new DailyEquity(D("2020-01-05"), 100)], []),
            new(Window(1, "2020-01-05", "2020-01-31"), Parameters("{}"), null, 100, [new DailyEquity(D("2020-01-05"), 100)], [])] },
        { "finite", [new(Window(0, "2020-01-01", "2020-01-31"), Parameters("{}"), null, 100, [new DailyEquity(D("2020-01-02"), 0)], [])] },
        { "finite", [new(Window(0, "2020-01-01", "2020-01-31"), Parameters("{}"), null, double.NaN, [], [])] },
        { "in order", [
            new(Window(1, "2020-02-01", "2020-02-28"), Parameters("{}"), null, 100, [], []),
            new(Window(0, "2020-01-01", "2020-01-31"), Parameters("{}"), null, 100, [], [])] },
        { "every parameter", [
            new(Window(0, "2020-01-01", "2020-01-31"), Parameters("""{"a":1}"""), null, 100, [], []),
            new(Window(1, "2020-02-01", "2020-02-28"), Parameters("{}"), null, 100, [], [])] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Inconsistent_windows_are_refused_with_the_reason(string reason, WalkForwardWindowResult[] windows)
    {
        var error = Assert.Throws<ArgumentException>(() => WalkForwardAnalysis.Summarize(windows, 100, 252));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
