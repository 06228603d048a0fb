using System.Text.Json;
using Backtesting.Engine.Metrics;
using static Backtesting.Tests.Metrics.MetricsTestData;

namespace Backtesting.Tests.Metrics;

// Undefined metrics are null — never NaN or ±Infinity — and bad input is rejected loudly.
public sealed class UndefinedMetricsTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    // System.Text.Json refuses NaN/Infinity by default, so serializing proves there are none.
    private static PerformanceMetrics ComputeAndSerialize(MetricsInput input)
    {
        var metrics = MetricsCalculator.Compute(input);
        var json = JsonSerializer.Serialize(metrics, Web);
        Assert.DoesNotContain("-0,", json, StringComparison.Ordinal);
        return metrics;
    }

    [Fact]
    public void Empty_run_has_only_the_echoed_totals()
    {
        var m = ComputeAndSerialize(new MetricsInput { InitialEquity = 100, DailyEquity = [], PeriodsPerYear = 252 });
        Assert.Equal(0, m.TradingDays);
        Assert.Equal(0, m.TotalTrades);
        Assert.Null(m.TotalReturn);
        Assert.Null(m.AnnualizedReturn);
        Assert.Null(m.Volatility);
        Assert.Null(m.SharpeRatio);
        Assert.Null(m.MaxDrawdown);
        Assert.Null(m.MaxDrawdownDuration);
        Assert.Null(m.Turnover);
        Assert.Null(m.WinRate);
        Assert.Null(m.ProfitFactor);
        Assert.Null(m.Expectancy);
        Assert.Null(m.ProbabilisticSharpeRatio);
        Assert.Null(m.Var95Historical);
    }

    [Fact]
    public void A_single_day_has_no_dispersion_metrics()
    {
        var m = ComputeAndSerialize(new MetricsInput { InitialEquity = 100, DailyEquity = [Day(2024, 1, 2, 101)], PeriodsPerYear = 252 });
        Assert.Equal(0.01, m.TotalReturn!.Value, 1e-12);
        Assert.Equal(Math.Pow(1.01, 252) - 1, m.AnnualizedReturn!.Value, 1e-9);
        Assert.Equal(0.0, m.MaxDrawdown);
        Assert.Null(m.Volatility);
        Assert.Null(m.SharpeRatio);
        Assert.Null(m.SortinoRatio);
        Assert.Null(m.CalmarRatio);
        Assert.Null(m.Var95Historical);
        Assert.Null(m.Var95Parametric);
        Assert.Null(m.Cvar95);
        Assert.Null(m.Skewness);
        Assert.Null(m.Kurtosis);
        Assert.Null(m.ProbabilisticSharpeRatio);
    }

    [Fact]
    public void Flat_equity_has_zero_volatility_and_no_ratios()
    {
        var m = ComputeAndSerialize(new MetricsInput
        {
            InitialEquity = 100,
            DailyEquity = [Day(2024, 1, 2, 100), Day(2024, 1, 3, 100), Day(2024, 1, 4, 100), Day(2024, 1, 5, 100)],
            PeriodsPerYear = 252,
            BenchmarkDailyEquity = [Day(2024, 1, 2, 10), Day(2024, 1, 3, 11), Day(2024, 1, 4, 10), Day(2024, 1, 5, 12)],
        });
        Assert.Equal(0.0, m.TotalReturn);
        Assert.Equal(0.0, m.AnnualizedReturn);
        Assert.Equal(0.0, m.Volatility);
        Assert.Equal(0.0, m.MaxDrawdown);
        Assert.Equal(0.0, m.MaxDrawdownDuration);
        Assert.Null(m.SharpeRatio);
        Assert.Null(m.SortinoRatio);       // no negative excess return
        Assert.Null(m.CalmarRatio);        // no drawdown
        Assert.Null(m.Skewness);
        Assert.Null(m.Kurtosis);
        Assert.Null(m.ProbabilisticSharpeRatio);
        Assert.Equal(0.0, m.Var95Historical);
        Assert.Equal(0.0, m.Var95Parametric);
        Assert.Null(m.Correlation);        // the strategy does not move
        Assert.Equal(0.0, m.Beta!.Value, 1e-12);
    }

    [Fact]
    public void Constant_growth_is_treated_as_zero_volatility_despite_rounding()
    {
        // Equity compounding at exactly 0.1% a day: the computed returns differ only by rounding noise.
        var m = ComputeAndSerialize(new MetricsInput
        {
            InitialEquity = 100_000,
            DailyEquity = FromReturns(100_000, Enumerable.Repeat(0.001, 300).ToArray()),
            PeriodsPerYear = 252,
        });
        Assert.Equal(0.0, m.Volatility);
        Assert.Null(m.SharpeRatio);
        Assert.Null(m.ProbabilisticSharpeRatio);
    }

    [Fact]
    public void No_benchmark_means_no_relative_metrics()
    {
        var m = ComputeAndSerialize(Input);
        Assert.Null(m.Beta);
        Assert.Null(m.Alpha);
        Assert.Null(m.Correlation);
        Assert.Null(m.InformationRatio);
        Assert.Null(m.TrackingError);
    }

    [Fact]
    public void Flat_benchmark_has_no_beta()
    {
        var flat = Benchmark.Select(p => p with { Equity = 1000 }).ToList();
        var m = ComputeAndSerialize(Input with { BenchmarkDailyEquity = flat, BenchmarkInitialEquity = 1000 });
        Assert.Null(m.Beta);
        Assert.Null(m.Alpha);
        Assert.Null(m.Correlation);
        Assert.NotNull(m.TrackingError);    // sd(r − 0) is still defined
    }

    [Fact]
    public void Only_winning_trades()
    {
        var m = ComputeAndSerialize(Input with { Trades = [TradeWithPnl(1, 5), TradeWithPnl(2, 15)] });
        Assert.Equal(1.0, m.WinRate);
        Assert.Equal(10.0, m.AverageWin);
        Assert.Null(m.AverageLoss);
        Assert.Null(m.ProfitFactor);
        Assert.Null(m.PayoffRatio);
    }

    [Fact]
    public void Only_losing_trades()
    {
        var m = ComputeAndSerialize(Input with { Trades = [TradeWithPnl(1, -5), TradeWithPnl(2, -15)] });
        Assert.Equal(0.0, m.WinRate);
        Assert.Equal(0.0, m.ProfitFactor);
        Assert.Null(m.AverageWin);
        Assert.Equal(-10.0, m.AverageLoss);
        Assert.Null(m.PayoffRatio);
    }

    [Fact]
    public void A_wiped_out_account_has_no_return_series_metrics()
    {
        // 100 → 50 → 0 → 10: the return after the zero is undefined.
        var m = ComputeAndSerialize(new MetricsInput
        {
            InitialEquity = 100,
            DailyEquity = [Day(2024, 1, 2, 50), Day(2024, 1, 3, 0), Day(2024, 1, 4, 10)],
            PeriodsPerYear = 3,
        });
        Assert.Equal(-0.9, m.TotalReturn!.Value, 1e-12);
        Assert.Equal(-0.9, m.AnnualizedReturn!.Value, 1e-12);   // 0.1^(3/3) − 1
        Assert.Equal(-1.0, m.MaxDrawdown);                      // 0/100 − 1
        Assert.Null(m.Volatility);
        Assert.Null(m.SharpeRatio);
        Assert.Null(m.Var95Historical);
    }

    [Fact]
    public void Negative_final_equity_has_no_annualized_return()
    {
        var m = ComputeAndSerialize(new MetricsInput
        {
            InitialEquity = 100,
            DailyEquity = [Day(2024, 1, 2, 50), Day(2024, 1, 3, -20)],
            PeriodsPerYear = 252,
        });
        Assert.Equal(-1.2, m.TotalReturn!.Value, 1e-12);
        Assert.Null(m.AnnualizedReturn);
        Assert.Null(m.CalmarRatio);
    }

    [Fact]
    public void Annualizing_a_huge_short_run_overflows_to_null()
    {
        // 11^365 is beyond double range.
        var m = ComputeAndSerialize(new MetricsInput { InitialEquity = 100, DailyEquity = [Day(2024, 1, 2, 1100)], PeriodsPerYear = 365 });
        Assert.Equal(10.0, m.TotalReturn);
        Assert.Null(m.AnnualizedReturn);
    }

    public static TheoryData<string, MetricsInput> BadInputs => new()
    {
        { "zero initial equity", Input with { InitialEquity = 0 } },
        { "NaN initial equity", Input with { InitialEquity = double.NaN } },
        { "no periods", Input with { PeriodsPerYear = 0 } },
        { "rf ≤ −1", Input with { RiskFreeRate = -1 } },
        { "exposure > 1", Input with { Exposure = 1.5 } },
        { "negative traded value", Input with { TotalTradedValue = -1 } },
        { "positive drawdown", Input with { MaxDrawdown = 0.1 } },
        { "negative duration", Input with { MaxDrawdownDuration = TimeSpan.FromDays(-1) } },
        { "NaN equity", Input with { DailyEquity = [Day(2024, 1, 2, double.NaN)] } },
        { "unordered dates", Input with { DailyEquity = [Day(2024, 1, 3, 100), Day(2024, 1, 2, 100)] } },
        { "duplicate dates", Input with { DailyEquity = [Day(2024, 1, 2, 100), Day(2024, 1, 2, 100)] } },
        { "bad benchmark", Input with { BenchmarkDailyEquity = [Day(2024, 1, 2, double.PositiveInfinity)] } },
        { "zero benchmark start", Input with { BenchmarkDailyEquity = Benchmark, BenchmarkInitialEquity = 0 } },
        { "NaN pnl", Input with { Trades = [TradeWithPnl(1, double.NaN)] } },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Inconsistent_input_is_rejected(string because, MetricsInput input)
    {
        Assert.False(string.IsNullOrEmpty(because));
        Assert.ThrowsAny<ArgumentException>(() => MetricsCalculator.Compute(input));
    }
}
