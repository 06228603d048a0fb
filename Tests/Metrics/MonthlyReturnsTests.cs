using Backtesting.Engine.Metrics;
using static Backtesting.Tests.Metrics.MetricsTestData;

namespace Backtesting.Tests.Metrics;

public sealed class MonthlyReturnsTests
{
    [Fact]
    public void Compounds_daily_returns_within_each_month()
    {
        var months = MonthlyReturns.From(
            [
                Day(2024, 1, 30, 105),    // +5%
                Day(2024, 1, 31, 110),    // 110/105 − 1; Jan: 1.05 · 110/105 − 1 = 0.10
                Day(2024, 2, 1, 99),      // −10%
                Day(2024, 2, 29, 121),    // Feb: 0.9 · 121/99 − 1 = 121/110 − 1 = 0.10
                Day(2024, 3, 1, 108.9),   // Mar: 108.9/121 − 1 = −0.10
                Day(2025, 1, 2, 119.79),  // Jan 2025 (no data between): 119.79/108.9 − 1 = 0.10
            ],
            initialEquity: 100);

        Assert.Equal(4, months.Count);
        Assert.Equal((2024, 1), (months[0].Year, months[0].Month));
        Assert.Equal((2024, 2), (months[1].Year, months[1].Month));
        Assert.Equal((2024, 3), (months[2].Year, months[2].Month));
        Assert.Equal((2025, 1), (months[3].Year, months[3].Month));
        Assert.Equal(0.10, months[0].Return!.Value, 1e-12);
        Assert.Equal(0.10, months[1].Return!.Value, 1e-12);
        Assert.Equal(-0.10, months[2].Return!.Value, 1e-12);
        Assert.Equal(0.10, months[3].Return!.Value, 1e-12);
    }

    [Fact]
    public void Matches_compounding_the_calculator_daily_returns()
    {
        var daily = FromReturns(1000, 0.01, -0.02, 0.03, 0.005, -0.01, 0.02, 0.01, -0.03, 0.04, 0.0, 0.01, -0.005,
            0.02, -0.01, 0.015, 0.01, -0.02, 0.03, 0.005, -0.01, 0.02, 0.01, -0.03, 0.04, 0.0, 0.01, -0.005, 0.02,
            -0.01, 0.015, 0.01, -0.02, 0.03, 0.005, -0.01, 0.02, 0.01, -0.03, 0.04, 0.0);   // Jan 1 … Feb 9
        var months = MonthlyReturns.From(daily, 1000);
        var returns = MetricsCalculator.DailyReturns(1000, daily)!;
        var jan = 1.0;
        var feb = 1.0;
        for (var i = 0; i < returns.Length; i++)
        {
            if (daily[i].Date.Month == 1)
            {
                jan *= 1 + returns[i];
            }
            else
            {
                feb *= 1 + returns[i];
            }
        }

        Assert.Equal(2, months.Count);
        Assert.Equal(jan - 1, months[0].Return!.Value, 1e-12);
        Assert.Equal(feb - 1, months[1].Return!.Value, 1e-12);
    }

    [Fact]
    public void Empty_input_gives_no_months()
    {
        Assert.Empty(MonthlyReturns.From([], 100));
    }

    [Fact]
    public void A_month_starting_from_zero_equity_is_undefined()
    {
        var months = MonthlyReturns.From([Day(2024, 1, 31, 0), Day(2024, 2, 1, 0), Day(2024, 2, 2, 5), Day(2024, 3, 1, 6)], 100);
        Assert.Equal(-1.0, months[0].Return);       // 0/100 − 1
        Assert.Null(months[1].Return);              // returns from 0 are undefined
        Assert.Equal(0.2, months[2].Return!.Value, 1e-12);   // 6/5 − 1
    }

    [Fact]
    public void Rejects_bad_input()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MonthlyReturns.From([Day(2024, 1, 2, 100)], 0));
        Assert.Throws<ArgumentException>(() => MonthlyReturns.From([Day(2024, 1, 3, 100), Day(2024, 1, 2, 100)], 100));
        Assert.Throws<ArgumentException>(() => MonthlyReturns.From([Day(2024, 1, 3, double.NaN)], 100));
    }
}
