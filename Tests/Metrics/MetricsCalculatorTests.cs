using System.Text.Json;
using Backtesting.Engine.Metrics;
using MathNet.Numerics.Distributions;
using static Backtesting.Tests.Metrics.MetricsTestData;

namespace Backtesting.Tests.Metrics;

// The hand case (see MetricsTestData): returns r = +0.1, −0.1, +0.1, −0.1, +0.2; n = 5; P = 10; rf = 0.
//   mean = 0.2/5 = 0.04
//   deviations d = 0.06, −0.14, 0.06, −0.14, 0.16
//   Σd² = 0.0036+0.0196+0.0036+0.0196+0.0256 = 0.072 → sample var = 0.072/4 = 0.018, sd = √0.018 ≈ 0.1341641
//   biased moments: m2 = 0.072/5 = 0.0144
//                   Σd³ = 0.000216·2 − 0.002744·2 + 0.004096 = −0.00096 → m3 = −0.000192
//                   Σd⁴ = 0.00001296·2 + 0.00038416·2 + 0.00065536 = 0.0014496 → m4 = 0.00028992
//   g1 = m3/m2^1.5 = −0.000192/0.001728 = −1/9;  m4/m2² = 0.00028992/0.00020736 = 151/108
public sealed class MetricsCalculatorTests
{
    private const double Tol = 1e-12;
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Return_and_risk_metrics_of_the_hand_case()
    {
        var m = MetricsCalculator.Compute(Input);

        Assert.Equal(5, m.TradingDays);
        Assert.Equal(10, m.PeriodsPerYear);
        Assert.Equal(0.0, m.RiskFreeRate);

        Assert.Equal(0.17612, m.TotalReturn!.Value, Tol);                 // 117.612/100 − 1
        Assert.Equal(0.3832582544, m.AnnualizedReturn!.Value, Tol);       // 1.17612^(10/5) − 1 = 1.3832582544 − 1
        Assert.Equal(Math.Sqrt(0.18), m.Volatility!.Value, Tol);          // √0.018·√10 = √0.18 ≈ 0.4242641
        Assert.Equal(Math.Sqrt(8.0 / 9), m.SharpeRatio!.Value, Tol);      // 0.04/√0.018·√10 = √(0.016/0.018) = √(8/9) ≈ 0.9428090
        // Downside: min(0, r) = −0.1, −0.1 → DD = √((0.01+0.01)/5) = √0.004; sortino = 0.04/√0.004·√10 = √(0.0016·10/0.004) = 2
        Assert.Equal(2.0, m.SortinoRatio!.Value, Tol);

        // Peaks: 100 (initial), 110 on 01-02; trough 98.01 on 01-05 → 98.01/110 − 1 = −0.109; regained on 01-08.
        Assert.Equal(-0.109, m.MaxDrawdown!.Value, Tol);
        Assert.Equal(6.0, m.MaxDrawdownDuration);                         // 2024-01-02 → 2024-01-08 (across a weekend)
        Assert.Equal(0.3832582544 / 0.109, m.CalmarRatio!.Value, Tol);    // ≈ 3.5161308

        // Historical VaR, type 7: sorted −0.1, −0.1, 0.1, 0.1, 0.2; h = 4·0.05 = 0.2 → −0.1 + 0.2·(−0.1 − (−0.1)) = −0.1
        Assert.Equal(0.1, m.Var95Historical!.Value, Tol);
        Assert.Equal(0.1, m.Var99Historical!.Value, Tol);                 // h = 0.04, same pair
        Assert.Equal(0.1, m.Cvar95!.Value, Tol);                          // mean of {−0.1, −0.1} (≤ −0.1)
        // Parametric: −(0.04 − 1.6448536269514722·0.1341640786) = 0.2206803 − 0.04 ≈ 0.1806803
        Assert.Equal(1.6448536269514722 * Math.Sqrt(0.018) - 0.04, m.Var95Parametric!.Value, 1e-12);
        Assert.Equal(0.18068027137403432, m.Var95Parametric!.Value, 1e-12);
        Assert.Equal(0.27211231914004630, m.Var99Parametric!.Value, 1e-12); // z_0.01 = −2.3263478740408408

        // G1 = g1·√(n(n−1))/(n−2) = (−1/9)·√20/3 = −√20/27 ≈ −0.1656347
        Assert.Equal(-Math.Sqrt(20) / 27, m.Skewness!.Value, Tol);
        // g2 = 151/108 − 3 = −173/108; G2 = ((n+1)g2 + 6)(n−1)/((n−2)(n−3)) = (−1038/108 + 6)·4/6 = −65/27 ≈ −2.4074074
        Assert.Equal(-65.0 / 27, m.Kurtosis!.Value, Tol);

        // Turnover: mean equity = (110+99+108.9+98.01+117.612)/5 = 533.522/5 = 106.7044
        //           500/106.7044 · 10/5 = 5000/533.522 ≈ 9.3716848
        Assert.Equal(5000 / 533.522, m.Turnover!.Value, Tol);
        Assert.Equal(0.6, m.Exposure);
        Assert.Equal(12.5, m.TotalCommission);
    }

    [Fact]
    public void Estimators_agree_with_an_independent_library()
    {
        double[] r = [0.1, -0.1, 0.1, -0.1, 0.2];
        var m = MetricsCalculator.Compute(Input);
        Assert.Equal(MathNet.Numerics.Statistics.Statistics.Skewness(r), m.Skewness!.Value, 1e-9);
        Assert.Equal(MathNet.Numerics.Statistics.Statistics.Kurtosis(r), m.Kurtosis!.Value, 1e-9);
        Assert.Equal(
            -MathNet.Numerics.Statistics.Statistics.QuantileCustom(r, 0.05, MathNet.Numerics.Statistics.QuantileDefinition.R7),
            m.Var95Historical!.Value,
            1e-12);
    }

    [Fact]
    public void Trade_metrics_of_the_hand_case()
    {
        // pnl +30, −10, +20, −20
        var m = MetricsCalculator.Compute(Input);
        Assert.Equal(4, m.TotalTrades);
        Assert.Equal(0.5, m.WinRate);                          // 2 wins / 4
        Assert.Equal(50.0 / 30, m.ProfitFactor!.Value, Tol);   // (30+20)/|−10−20|
        Assert.Equal(5.0, m.Expectancy!.Value, Tol);           // 20/4
        Assert.Equal(25.0, m.AverageWin!.Value, Tol);          // 50/2
        Assert.Equal(-15.0, m.AverageLoss!.Value, Tol);        // −30/2
        Assert.Equal(25.0 / 15, m.PayoffRatio!.Value, Tol);
    }

    [Fact]
    public void Zero_pnl_trades_count_in_total_but_are_neither_wins_nor_losses()
    {
        var m = MetricsCalculator.Compute(Input with { Trades = [TradeWithPnl(1, 10), TradeWithPnl(2, 0), TradeWithPnl(3, -5)] });
        Assert.Equal(1.0 / 3, m.WinRate!.Value, Tol);
        Assert.Equal(5.0 / 3, m.Expectancy!.Value, Tol);       // (10+0−5)/3
        Assert.Equal(2.0, m.ProfitFactor!.Value, Tol);         // 10/5
    }

    [Fact]
    public void Risk_free_rate_is_compounded_down_to_the_period()
    {
        // rf = 1.01^10 − 1 makes rf_p = (1+rf)^(1/10) − 1 = 0.01. Excess e = 0.09, −0.11, 0.09, −0.11, 0.19:
        //   mean(e) = 0.03, sd(e) = √0.018 → sharpe = 0.03/√0.018·√10 = √(0.009/0.018) = √0.5
        //   DD = √((0.0121+0.0121)/5) = √0.00484 = 0.022·√10 → sortino = 0.03·√10/(0.022·√10) = 15/11
        var m = MetricsCalculator.Compute(Input with { RiskFreeRate = Math.Pow(1.01, 10) - 1 });
        Assert.Equal(Math.Sqrt(0.5), m.SharpeRatio!.Value, 1e-12);
        Assert.Equal(15.0 / 11, m.SortinoRatio!.Value, 1e-12);
        Assert.Equal(Math.Pow(1.01, 10) - 1, m.RiskFreeRate);
        // Volatility and VaR do not depend on rf.
        Assert.Equal(Math.Sqrt(0.18), m.Volatility!.Value, Tol);
    }

    [Fact]
    public void Probabilistic_sharpe_ratio_of_the_hand_case()
    {
        // SR = 0.04/√0.018 = √(4/45) ≈ 0.2981424 (per period); γ3 = −1/9; γ4 = 151/108 (non-excess, moment based).
        // radicand = 1 − γ3·SR + (γ4 − 1)/4·SR² = 1 + 0.2981424/9 + (43/108)/4·(4/45)
        //          = 1 + 0.0331269 + 43/4860 = 1 + 0.0331269 + 0.0088477 ≈ 1.0419747
        // z = SR·√(n−1)/√radicand = 0.2981424·2/1.0207716 ≈ 0.5841510 → Φ(z) ≈ 0.7205
        var m = MetricsCalculator.Compute(Input);
        Assert.Equal(Normal.CDF(0, 1, 0.58415103933585992), m.ProbabilisticSharpeRatio!.Value, 1e-12);
        Assert.InRange(m.ProbabilisticSharpeRatio!.Value, 0.7204, 0.7206);
    }

    [Fact]
    public void Probabilistic_sharpe_ratio_is_one_half_at_zero_sharpe()
    {
        // r = +0.25, −0.2, +0.25, −0.2 has mean 0.025; rf_p = 0.025 (rf = 1.025^252 − 1) makes the excess mean 0,
        // so SR = 0 and PSR = Φ(0) = 0.5 whatever the higher moments.
        var m = MetricsCalculator.Compute(new MetricsInput
        {
            InitialEquity = 100,
            DailyEquity = [Day(2024, 1, 1, 125), Day(2024, 1, 2, 100), Day(2024, 1, 3, 125), Day(2024, 1, 4, 100)],
            PeriodsPerYear = 252,
            RiskFreeRate = Math.Pow(1.025, 252) - 1,
        });
        Assert.Equal(0.5, m.ProbabilisticSharpeRatio!.Value, 1e-9);
        Assert.Equal(0.0, m.SharpeRatio!.Value, 1e-9);
    }

    [Fact]
    public void Historical_var_interpolates_between_order_statistics()
    {
        // Ten returns, sorted −0.05, −0.03, −0.02, −0.01, 0, 0.01, 0.02, 0.03, 0.04, 0.05 (given shuffled).
        // 95%: h = 9·0.05 = 0.45 → −0.05 + 0.45·(−0.03 + 0.05) = −0.041 → VaR 0.041
        // 99%: h = 9·0.01 = 0.09 → −0.05 + 0.09·0.02 = −0.0482 → VaR 0.0482
        // CVaR95: returns ≤ −0.041 are {−0.05} → 0.05
        var m = MetricsCalculator.Compute(new MetricsInput
        {
            InitialEquity = 1000,
            DailyEquity = FromReturns(1000, 0.02, -0.03, 0.05, 0, -0.05, 0.01, 0.04, -0.01, 0.03, -0.02),
            PeriodsPerYear = 252,
        });
        Assert.Equal(0.041, m.Var95Historical!.Value, 1e-12);
        Assert.Equal(0.0482, m.Var99Historical!.Value, 1e-12);
        Assert.Equal(0.05, m.Cvar95!.Value, 1e-12);
    }

    [Fact]
    public void Benchmark_relative_metrics()
    {
        // b = +0.05, −0.05, +0.05, −0.05, 0 (from 1000); mean(b) = 0; db = b;
        //   var(b) = (4·0.0025)/4 = 0.0025; cov = Σ d·db /4 = (0.003+0.007+0.003+0.007+0)/4 = 0.005
        //   beta = 0.005/0.0025 = 2; corr = 0.005/(√0.018·0.05) = √(5/9) ≈ 0.7453560
        //   alpha = (0.04 − 2·0)·10 = 0.4
        //   r − b = 0.05, −0.05, 0.05, −0.05, 0.2: mean 0.04, dev 0.01, −0.09, 0.01, −0.09, 0.16,
        //   Σ = 0.0001+0.0081+0.0001+0.0081+0.0256 = 0.042 → var 0.0105 → TE = √(0.0105·10) = √0.105 ≈ 0.3240370
        //   IR = 0.04·10/√0.105 ≈ 1.2344268
        var m = MetricsCalculator.Compute(Input with { BenchmarkDailyEquity = Benchmark, BenchmarkInitialEquity = 1000 });
        Assert.Equal(2.0, m.Beta!.Value, 1e-12);
        Assert.Equal(Math.Sqrt(5.0 / 9), m.Correlation!.Value, 1e-12);
        Assert.Equal(0.4, m.Alpha!.Value, 1e-12);
        Assert.Equal(Math.Sqrt(0.105), m.TrackingError!.Value, 1e-12);
        Assert.Equal(0.4 / Math.Sqrt(0.105), m.InformationRatio!.Value, 1e-12);

        // With rf_p = 0.01: alpha = (mean(r − rf_p) − β·mean(b − rf_p))·P = (0.03 − 2·(−0.01))·10 = 0.5
        var withRf = MetricsCalculator.Compute(Input with
        {
            BenchmarkDailyEquity = Benchmark,
            BenchmarkInitialEquity = 1000,
            RiskFreeRate = Math.Pow(1.01, 10) - 1,
        });
        Assert.Equal(0.5, withRf.Alpha!.Value, 1e-12);
    }

    [Fact]
    public void Without_the_benchmark_start_value_the_first_date_is_left_out()
    {
        // Pairs from 01-03 on: r = −0.1, 0.1, −0.1, 0.2 (mean 0.025), b = −0.05, 0.05, −0.05, 0 (mean −0.0125)
        //   dr = −0.125, 0.075, −0.125, 0.175; db = −0.0375, 0.0625, −0.0375, 0.0125
        //   Σdr·db = 0.0046875·3 + 0.0021875 = 0.01625; Σdb² = 0.00140625·2 + 0.00390625 + 0.00015625 = 0.006875
        //   beta = 0.01625/0.006875 = 26/11
        var m = MetricsCalculator.Compute(Input with { BenchmarkDailyEquity = Benchmark });
        Assert.Equal(26.0 / 11, m.Beta!.Value, 1e-12);
    }

    [Fact]
    public void Returns_are_aligned_over_common_dates()
    {
        // The benchmark lacks 01-04, so the pair for 01-05 spans 01-03 → 01-05 for both series:
        //   r = 0.1, −0.1, 98.01/99 − 1 = −0.01, 0.2;  b = 0.05, −0.05, 995.00625/997.5 − 1 = −0.0025, 0
        //   mean r = 0.0475, mean b = −0.000625
        //   dr = 0.0525, −0.1475, −0.0575, 0.1525; db = 0.050625, −0.049375, −0.001875, 0.000625
        //   Σdr·db = 0.0026578125 + 0.0072828125 + 0.0001078125 + 0.0000953125 = 0.01014375
        //   Σdb²  = 0.002562890625 + 0.002437890625 + 0.000003515625 + 0.000000390625 = 0.0050046875
        //   beta = 0.01014375/0.0050046875 ≈ 2.0268498
        IReadOnlyList<Backtesting.Engine.Results.DailyEquity> gappy = [Benchmark[0], Benchmark[1], Benchmark[3], Benchmark[4]];
        var m = MetricsCalculator.Compute(Input with { BenchmarkDailyEquity = gappy, BenchmarkInitialEquity = 1000 });
        Assert.Equal(0.01014375 / 0.0050046875, m.Beta!.Value, 1e-12);
        // Strategy-only metrics still use all five daily returns.
        Assert.Equal(Math.Sqrt(8.0 / 9), m.SharpeRatio!.Value, Tol);
    }

    [Fact]
    public void Benchmark_identical_to_the_strategy()
    {
        var m = MetricsCalculator.Compute(Input with { BenchmarkDailyEquity = Input.DailyEquity, BenchmarkInitialEquity = 100 });
        Assert.Equal(1.0, m.Beta!.Value, 1e-12);
        Assert.Equal(1.0, m.Correlation!.Value, 1e-12);
        Assert.Equal(0.0, m.Alpha!.Value, 1e-12);
        Assert.Equal(0.0, m.TrackingError);
        Assert.Null(m.InformationRatio);
    }

    [Fact]
    public void Engine_tracked_drawdown_takes_precedence()
    {
        var m = MetricsCalculator.Compute(Input with { MaxDrawdown = -0.15, MaxDrawdownDuration = TimeSpan.FromHours(150) });
        Assert.Equal(-0.15, m.MaxDrawdown);
        Assert.Equal(6.25, m.MaxDrawdownDuration);
        Assert.Equal(0.3832582544 / 0.15, m.CalmarRatio!.Value, Tol);

        // Only the depth given: the duration still comes from daily equity.
        var partial = MetricsCalculator.Compute(Input with { MaxDrawdown = -0.15 });
        Assert.Equal(6.0, partial.MaxDrawdownDuration);
    }

    [Fact]
    public void Serializes_with_camel_case_names()
    {
        var json = JsonSerializer.Serialize(MetricsCalculator.Compute(Input), Web);
        using var doc = JsonDocument.Parse(json);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet();
        string[] expected =
        [
            "totalReturn", "annualizedReturn", "volatility", "sharpeRatio", "sortinoRatio", "calmarRatio", "maxDrawdown",
            "maxDrawdownDuration", "winRate", "profitFactor", "expectancy", "averageWin", "averageLoss", "payoffRatio",
            "totalTrades", "exposure", "turnover", "totalCommission", "var95Historical", "var99Historical",
            "var95Parametric", "var99Parametric", "cvar95", "beta", "alpha", "correlation", "informationRatio",
            "trackingError", "probabilisticSharpeRatio", "skewness", "kurtosis", "tradingDays", "periodsPerYear",
            "riskFreeRate",
        ];
        Assert.Equal(expected.ToHashSet(), names);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("beta").ValueKind);
    }
}
