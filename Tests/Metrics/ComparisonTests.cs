using System.Reflection;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;
using static Backtesting.Tests.Metrics.MetricsTestData;

namespace Backtesting.Tests.Metrics;

// The hand case used throughout, on five common dates (T = 4 returns between them):
//   A: 100, 110, 99, 108.9, 141.57 → r = +0.1, −0.1, +0.1, +0.3
//      mean 0.1; deviations 0, −0.2, 0, 0.2; Σd² = 0.08; sample var = 0.08/3; SR_A² = 0.01/(0.08/3) = 3/8
//   B: 100, 120, 120, 120, 144   → r = +0.2, 0, 0, +0.2
//      mean 0.1; deviations 0.1, −0.1, −0.1, 0.1; Σd² = 0.04; sample var = 0.04/3; SR_B² = 0.01/(0.04/3) = 3/4
//   Σ dA·dB = 0 + 0.02 + 0 + 0.02 = 0.04 → ρ = 0.04 / √(0.08·0.04) = 1/√2, ρ² = 1/2
public sealed class ComparisonTests
{
    private const double Tol = 1e-12;
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly ComparisonOptions NoRiskFree = new();

    private static ComparisonInput Run(string id, IReadOnlyList<DailyEquity> equity, int periodsPerYear = 252, PerformanceMetrics? metrics = null) => new()
    {
        Id = id,
        Label = $"Run {id}",
        InitialEquity = equity[0].Equity,
        DailyEquity = equity,
        PeriodsPerYear = periodsPerYear,
        Metrics = metrics ?? new PerformanceMetrics(),
    };

    private static ComparisonInput RunOf(string id, params double[] equity) =>
        Run(id, [.. equity.Select((e, i) => new DailyEquity(new DateOnly(2024, 1, 1).AddDays(i), e))]);

    private static readonly ComparisonInput A = RunOf("a", 100, 110, 99, 108.9, 141.57);
    private static readonly ComparisonInput B = RunOf("b", 100, 120, 120, 120, 144);

    [Fact]
    public void Curves_and_returns_use_only_the_dates_common_to_all_runs()
    {
        // A has an extra date (01-03, a spike to 130) that B lacks; B has extra dates before (01-01) and after (01-10).
        var a = Run("a", [Day(2024, 1, 2, 100), Day(2024, 1, 3, 130), Day(2024, 1, 4, 110), Day(2024, 1, 5, 99), Day(2024, 1, 8, 108.9), Day(2024, 1, 9, 141.57)]);
        var b = Run("b", [Day(2024, 1, 1, 150), Day(2024, 1, 2, 200), Day(2024, 1, 4, 240), Day(2024, 1, 5, 240), Day(2024, 1, 8, 240), Day(2024, 1, 9, 288), Day(2024, 1, 10, 300)]);

        var result = ComparisonCalculator.Compare([a, b], NoRiskFree);

        DateOnly[] common = [new(2024, 1, 2), new(2024, 1, 4), new(2024, 1, 5), new(2024, 1, 8), new(2024, 1, 9)];
        Assert.Equal(common, result.Curves.Dates);

        // Normalized to 100 on 01-02: A = 100·E/100; B = 100·E/200 → 100, 120, 120, 120, 144.
        AssertSeries([100, 110, 99, 108.9, 141.57], result.Curves.Series[0].Equity);
        AssertSeries([100, 120, 120, 120, 144], result.Curves.Series[1].Equity);
        // A's drawdown from the running peak of its normalized curve; its 130 on 01-03 is not a common date, so the
        // peak on 01-04 is 110, not 130: 0, 0, 99/110 − 1 = −0.1, 108.9/110 − 1 = −0.01, 0 (new peak 141.57).
        AssertSeries([0, 0, -0.1, -0.01, 0], result.Curves.Series[0].Drawdown);
        AssertSeries([0, 0, 0, 0, 0], result.Curves.Series[1].Drawdown);
        Assert.Equal(new[] { "a", "b" }, result.Curves.Series.Select(s => s.Id));

        // A's first return spans 01-02 → 01-04 (110/100 − 1 = 0.1), across its own 01-03; so these are the hand
        // case's returns and ρ = 1/√2.
        Assert.Equal(4, result.Correlations.Periods);
        Assert.Equal(1 / Math.Sqrt(2), result.Correlations.Values[0][1]!.Value, Tol);

        Assert.Equal(new ComparedRun("a", "Run a", 252, 6, 1), result.Runs[0]);
        Assert.Equal(new ComparedRun("b", "Run b", 252, 7, 2), result.Runs[1]);
        Assert.Contains(result.Notes, n => n.Contains("Run 'a': 1 of its 6 dates", StringComparison.Ordinal));
        Assert.Contains(result.Notes, n => n.Contains("Run 'b': 2 of its 7 dates", StringComparison.Ordinal));
    }

    [Fact]
    public void Drawdown_series_follows_the_running_peak_of_the_normalized_curve()
    {
        // 50, 45, 47.5, 60, 30 → normalized 100, 90, 95, 120, 60
        // drawdown: 0; 90/100 − 1 = −0.1; 95/100 − 1 = −0.05; 0 (new peak 120); 60/120 − 1 = −0.5
        var result = ComparisonCalculator.Compare([RunOf("x", 50, 45, 47.5, 60, 30), A], NoRiskFree);
        AssertSeries([100, 90, 95, 120, 60], result.Curves.Series[0].Equity);
        AssertSeries([0, -0.1, -0.05, 0, -0.5], result.Curves.Series[0].Drawdown);
    }

    [Fact]
    public void Correlation_matrix_of_a_pair_a_perfectly_correlated_and_an_anti_correlated_run()
    {
        // Levered: returns 2·r_A = 0.2, −0.2, 0.2, 0.6 → 100, 120, 96, 115.2, 184.32 → ρ(A, levered) = 1.
        // Inverse: returns −r_A = −0.1, 0.1, −0.1, −0.3 → 100, 90, 99, 89.1, 62.37 → ρ(A, inverse) = −1.
        var levered = RunOf("levered", 100, 120, 96, 115.2, 184.32);
        var inverse = RunOf("inverse", 100, 90, 99, 89.1, 62.37);

        var m = ComparisonCalculator.Compare([A, B, levered, inverse], NoRiskFree).Correlations.Values;

        Assert.Equal(4, m.Count);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(1.0, m[i][i]!.Value, Tol);
            for (var j = 0; j < 4; j++)
            {
                Assert.Equal(m[i][j], m[j][i]);
            }
        }

        Assert.Equal(1 / Math.Sqrt(2), m[0][1]!.Value, Tol);
        Assert.Equal(1.0, m[0][2]!.Value, Tol);
        Assert.Equal(-1.0, m[0][3]!.Value, Tol);
        Assert.Equal(1 / Math.Sqrt(2), m[1][2]!.Value, Tol);   // scaling A does not change ρ
        Assert.Equal(-1 / Math.Sqrt(2), m[1][3]!.Value, Tol);
        Assert.Equal(-1.0, m[2][3]!.Value, Tol);
    }

    [Fact]
    public void Jobson_Korkie_Memmel_z_and_p_of_the_hand_case()
    {
        // θ·T = 2 − 2ρ + ½(SR_A² + SR_B² − 2·SR_A·SR_B·ρ²)
        //     = 2 − √2 + ½(3/8 + 3/4 − SR_A·SR_B),  SR_A·SR_B = √(9/32) = 3/(4√2) ≈ 0.5303301
        //     = 0.5857864 + ½(1.125 − 0.5303301) = 0.5857864 + 0.2973350 = 0.8831214
        // θ = 0.8831214/4 = 0.2207803, √θ = 0.4698727
        // z = (√(3/8) − √3/2)/√θ = (0.6123724 − 0.8660254)/0.4698727 = −0.2536530/0.4698727 ≈ −0.5398334
        // p = 2·(1 − Φ(0.5398334)) ≈ 0.5893119
        var test = Assert.Single(ComparisonCalculator.Compare([A, B], NoRiskFree).SharpeTests);

        var sqrtTheta = Math.Sqrt((2 - Math.Sqrt(2) + 0.5 * (9.0 / 8 - 3 / (4 * Math.Sqrt(2)))) / 4);
        Assert.Equal("a", test.RunA);
        Assert.Equal("b", test.RunB);
        Assert.Equal(Math.Sqrt(3.0 / 8), test.SharpeA!.Value, Tol);
        Assert.Equal(Math.Sqrt(3) / 2, test.SharpeB!.Value, Tol);
        Assert.Equal(Math.Sqrt(3.0 / 8 * 252), test.AnnualizedSharpeA!.Value, 1e-10);   // ≈ 9.7211110
        Assert.Equal(Math.Sqrt(3.0 / 4 * 252), test.AnnualizedSharpeB!.Value, 1e-10);   // ≈ 13.7477271
        Assert.Equal(1 / Math.Sqrt(2), test.Correlation!.Value, Tol);
        Assert.Equal(0.4698726941103169, sqrtTheta, Tol);
        Assert.Equal((Math.Sqrt(3.0 / 8) - Math.Sqrt(3) / 2) / sqrtTheta, test.Z!.Value, Tol);
        Assert.Equal(-0.5398333873580902, test.Z!.Value, 1e-10);
        Assert.Equal(0.5893119396763327, test.PValue!.Value, 1e-10);
        Assert.Equal(4, test.Periods);
        Assert.False(test.Reliable);                                                    // T = 4 < 30
        Assert.Contains("i.i.d.", test.Assumptions, StringComparison.Ordinal);
        Assert.Contains("jointly normal", test.Assumptions, StringComparison.Ordinal);
        Assert.Contains("T = 4", test.Assumptions, StringComparison.Ordinal);
    }

    [Fact]
    public void Swapping_the_runs_flips_z_and_keeps_p()
    {
        var ab = ComparisonCalculator.Compare([A, B], NoRiskFree).SharpeTests[0];
        var ba = ComparisonCalculator.Compare([B, A], NoRiskFree).SharpeTests[0];
        Assert.Equal(-ab.Z!.Value, ba.Z!.Value, Tol);
        Assert.Equal(ab.PValue!.Value, ba.PValue!.Value, Tol);
    }

    [Fact]
    public void Identical_runs_and_a_levered_copy_give_z_0_and_p_1()
    {
        var copy = A with { Id = "copy" };
        var levered = RunOf("levered", 100, 120, 96, 115.2, 184.32);   // ρ = 1, same Sharpe ratio up to rounding

        var tests = ComparisonCalculator.Compare([A, copy, levered], NoRiskFree).SharpeTests;

        Assert.Equal(3, tests.Count);
        Assert.All(tests, t =>
        {
            Assert.Equal(0.0, t.Z);
            Assert.Equal(1.0, t.PValue);
        });
    }

    [Fact]
    public void Sharpe_tests_use_excess_returns_over_the_per_period_risk_free_rate_of_each_run()
    {
        // rf = 10% a year. A (P = 252): rf_p = 1.1^(1/252) − 1; B (P = 365): rf_p = 1.1^(1/365) − 1.
        // Subtracting a constant leaves σ and ρ unchanged: SR_A = (0.1 − rf_p,A)/√(0.08/3), SR_B = (0.1 − rf_p,B)/√(0.04/3).
        var crypto = B with { PeriodsPerYear = 365 };
        var result = ComparisonCalculator.Compare([A, crypto], new ComparisonOptions { RiskFreeRate = 0.1 });
        var test = result.SharpeTests[0];

        var rfA = Math.Pow(1.1, 1.0 / 252) - 1;
        var rfB = Math.Pow(1.1, 1.0 / 365) - 1;
        Assert.Equal((0.1 - rfA) / Math.Sqrt(0.08 / 3), test.SharpeA!.Value, Tol);
        Assert.Equal((0.1 - rfB) / Math.Sqrt(0.04 / 3), test.SharpeB!.Value, Tol);
        Assert.Equal(test.SharpeA!.Value * Math.Sqrt(252), test.AnnualizedSharpeA!.Value, Tol);
        Assert.Equal(test.SharpeB!.Value * Math.Sqrt(365), test.AnnualizedSharpeB!.Value, Tol);
        Assert.Equal(1 / Math.Sqrt(2), test.Correlation!.Value, Tol);
        Assert.Equal(0.1, result.RiskFreeRate);
        Assert.Contains("0.1 a year", test.Assumptions, StringComparison.Ordinal);
        Assert.Contains(result.Notes, n => n.Contains("different periods per year ('a' 252, 'b' 365)", StringComparison.Ordinal));
    }

    [Fact]
    public void Thirty_paired_returns_make_a_test_reliable()
    {
        // 31 common dates → T = 30. Returns alternate so both series have dispersion.
        double[] Curve(double up, double down)
        {
            var equity = new double[31];
            equity[0] = 100;
            for (var t = 1; t < equity.Length; t++)
            {
                equity[t] = equity[t - 1] * (1 + (t % 3 == 0 ? down : up));
            }

            return equity;
        }

        var result = ComparisonCalculator.Compare([RunOf("x", Curve(0.01, -0.015)), RunOf("y", Curve(0.005, -0.004))], NoRiskFree);
        var test = result.SharpeTests[0];
        Assert.Equal(30, test.Periods);
        Assert.True(test.Reliable);
        Assert.DoesNotContain(result.Notes, n => n.Contains("flagged unreliable", StringComparison.Ordinal));
    }

    [Fact]
    public void A_flat_run_has_no_Sharpe_ratio_so_its_tests_and_correlations_are_null()
    {
        var flat = RunOf("flat", 100, 100, 100, 100, 100);
        var result = ComparisonCalculator.Compare([A, flat], NoRiskFree);

        var test = result.SharpeTests[0];
        Assert.NotNull(test.SharpeA);
        Assert.Null(test.SharpeB);
        Assert.Null(test.Correlation);
        Assert.Null(test.Z);
        Assert.Null(test.PValue);
        Assert.False(test.Reliable);
        Assert.Null(result.Correlations.Values[0][1]);
        Assert.Null(result.Correlations.Values[1][1]);
        Assert.Equal(1.0, result.Correlations.Values[0][0]!.Value, Tol);
    }

    [Fact]
    public void A_run_wiped_out_before_the_last_common_date_has_undefined_returns()
    {
        // 100, 50, 0, 10, 20: the return from 0 is undefined; the curve itself is still drawn.
        var wiped = RunOf("wiped", 100, 50, 0, 10, 20);
        var result = ComparisonCalculator.Compare([A, wiped], NoRiskFree);

        AssertSeries([100, 50, 0, 10, 20], result.Curves.Series[1].Equity);
        AssertSeries([0, -0.5, -1, -0.9, -0.8], result.Curves.Series[1].Drawdown);
        Assert.Null(result.Correlations.Values[0][1]);
        Assert.Null(result.Correlations.Values[1][1]);
        Assert.Null(result.SharpeTests[0].Z);
        Assert.Contains(result.Notes, n => n.Contains("Run 'wiped': equity is at or below zero", StringComparison.Ordinal));
    }

    [Fact]
    public void Best_run_per_metric_with_ties_nulls_and_directions()
    {
        var x = A with
        {
            Id = "x",
            Metrics = new PerformanceMetrics { SharpeRatio = 1.5, Volatility = 0.2, MaxDrawdown = -0.3, Beta = 0.8, TotalTrades = 10, WinRate = null, AverageLoss = -5, Var95Historical = -0.01 },
        };
        var y = B with
        {
            Id = "y",
            Metrics = new PerformanceMetrics { SharpeRatio = 1.5, Volatility = 0.1, MaxDrawdown = -0.1, Beta = 1.2, TotalTrades = 20, WinRate = 0.4, AverageLoss = -2, Var95Historical = 0.02 },
        };
        var z = A with
        {
            Id = "z",
            Metrics = new PerformanceMetrics { SharpeRatio = 0.5, Volatility = 0.1 + 1e-15, MaxDrawdown = -0.2, Beta = 1.0, TotalTrades = 30, WinRate = null, AverageLoss = -8, Var95Historical = 0.01 },
        };

        var rows = ComparisonCalculator.Compare([x, y, z], NoRiskFree).Metrics.ToDictionary(r => r.Name);

        Assert.Equal(MetricDirections.All.Select(d => d.Name), rows.Keys);
        Row("sharpeRatio", MetricDirection.Higher, [1.5, 1.5, 0.5], ["x", "y"]);              // a tie: both best
        Row("volatility", MetricDirection.Lower, [0.2, 0.1, 0.1 + 1e-15], ["y", "z"]);          // equal within 1e-12
        Row("maxDrawdown", MetricDirection.CloserToZero, [-0.3, -0.1, -0.2], ["y"]);           // −0.1 is the shallowest
        Row("averageLoss", MetricDirection.CloserToZero, [-5, -2, -8], ["y"]);
        Row("var95Historical", MetricDirection.Lower, [-0.01, 0.02, 0.01], ["x"]);             // a tail gain beats any loss
        Row("winRate", MetricDirection.Higher, [null, 0.4, null], ["y"]);                      // runs without a value are never best
        Row("profitFactor", MetricDirection.Higher, [null, null, null], []);                   // nobody has one: no best
        Row("beta", MetricDirection.None, [0.8, 1.2, 1.0], []);
        Row("totalTrades", MetricDirection.None, [10, 20, 30], []);
        Row("exposure", MetricDirection.None, [0, 0, 0], []);

        void Row(string name, MetricDirection direction, double?[] values, string[] best)
        {
            var row = rows[name];
            Assert.Equal(direction, row.Direction);
            Assert.Equal(values, row.Values);
            Assert.Equal(best, row.Best);
        }
    }

    [Fact]
    public void The_direction_table_covers_every_metric_under_its_json_name()
    {
        var json = JsonSerializer.SerializeToElement(new PerformanceMetrics(), Web);
        var jsonNames = json.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(jsonNames, MetricDirections.All.Select(d => d.Name));
        Assert.Equal(typeof(PerformanceMetrics).GetProperties(BindingFlags.Public | BindingFlags.Instance).Length, MetricDirections.All.Count);

        MetricDirection Direction(string name) => MetricDirections.All.Single(d => d.Name == name).Direction;
        Assert.Equal(MetricDirection.Higher, Direction("probabilisticSharpeRatio"));
        Assert.Equal(MetricDirection.Higher, Direction("alpha"));
        Assert.Equal(MetricDirection.Higher, Direction("informationRatio"));
        Assert.Equal(MetricDirection.Lower, Direction("trackingError"));
        Assert.Equal(MetricDirection.Lower, Direction("cvar95"));
        Assert.Equal(MetricDirection.Lower, Direction("maxDrawdownDuration"));
        Assert.Equal(MetricDirection.Lower, Direction("totalCommission"));
        foreach (var none in new[] { "beta", "correlation", "totalTrades", "exposure", "turnover", "skewness", "kurtosis" })
        {
            Assert.Equal(MetricDirection.None, Direction(none));
        }
    }

    [Fact]
    public void Validation_errors_name_the_problem()
    {
        var one = Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A], NoRiskFree));
        Assert.Contains("at least 2 runs, got 1", one.Message, StringComparison.Ordinal);

        var duplicate = Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, B with { Id = "a" }], NoRiskFree));
        Assert.Contains("Duplicate run id 'a'", duplicate.Message, StringComparison.Ordinal);

        var blank = Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, B with { Id = " " }], NoRiskFree));
        Assert.Contains("blank id", blank.Message, StringComparison.Ordinal);

        // A's dates are 2024-01-01..05; these share only 01-05 with it.
        var late = Run("late", [Day(2024, 1, 5, 100), Day(2024, 1, 6, 101), Day(2024, 1, 7, 102)]);
        var fewDates = Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, late], NoRiskFree));
        Assert.Contains("share 1 common date(s); at least 2 are needed", fewDates.Message, StringComparison.Ordinal);
        Assert.Contains("'late' 2024-01-05 to 2024-01-07", fewDates.Message, StringComparison.Ordinal);

        var zeroStart = RunOf("zero", 0, 100, 100, 100, 100) with { InitialEquity = 100 };
        var notPositive = Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, zeroStart], NoRiskFree));
        Assert.Contains("Run 'zero' has equity 0 on the first common date 2024-01-01", notPositive.Message, StringComparison.Ordinal);

        var unordered = Run("unordered", [Day(2024, 1, 2, 100), Day(2024, 1, 1, 100)]);
        var order = Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, unordered], NoRiskFree));
        Assert.Contains("strictly increasing", order.Message, StringComparison.Ordinal);

        var rf = Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, B], new ComparisonOptions { RiskFreeRate = double.NaN }));
        Assert.Contains("RiskFreeRate", rf.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, B with { PeriodsPerYear = 0 }], NoRiskFree));
        Assert.Throws<ArgumentException>(() => ComparisonCalculator.Compare([A, B with { InitialEquity = -1 }], NoRiskFree));
        Assert.Throws<ArgumentNullException>(() => ComparisonCalculator.Compare(null!, NoRiskFree));
        Assert.Throws<ArgumentNullException>(() => ComparisonCalculator.Compare([A, B], null!));
    }

    [Fact]
    public void The_result_round_trips_through_camel_case_json_without_NaN()
    {
        // A flat run makes Sharpe ratios, correlations and z undefined: they must be null, not NaN.
        var flat = RunOf("flat", 100, 100, 100, 100, 100);
        var withMetrics = A with { Metrics = new PerformanceMetrics { SharpeRatio = 1.2, MaxDrawdown = -0.1, TotalTrades = 3 } };
        var result = ComparisonCalculator.Compare([withMetrics, B, flat], new ComparisonOptions { RiskFreeRate = 0.02 });

        foreach (var options in new[] { Web, JsonDefaults.Options })
        {
            var json = JsonSerializer.Serialize(result, options);
            Assert.DoesNotContain("NaN", json, StringComparison.Ordinal);
            Assert.DoesNotContain("Infinity", json, StringComparison.Ordinal);
            Assert.Contains("\"sharpeTests\":[", json, StringComparison.Ordinal);
            Assert.Contains("\"direction\":\"closerToZero\"", json, StringComparison.Ordinal);
            Assert.Contains("\"direction\":\"none\"", json, StringComparison.Ordinal);
            Assert.Contains("\"name\":\"var95Historical\"", json, StringComparison.Ordinal);
            Assert.Contains("\"dates\":[\"2024-01-01\",", json, StringComparison.Ordinal);
            Assert.Contains("\"z\":null", json, StringComparison.Ordinal);
            Assert.Contains("\"pValue\":", json, StringComparison.Ordinal);

            var back = JsonSerializer.Deserialize<ComparisonResult>(json, options)!;
            Assert.Equal(json, JsonSerializer.Serialize(back, options));
            Assert.Equal(result.SharpeTests[0], back.SharpeTests[0]);
            Assert.Equal(result.Runs, back.Runs);
        }
    }

    private static void AssertSeries(double[] expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], Tol);
        }
    }
}
