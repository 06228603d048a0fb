using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;

namespace Backtesting.Tests.Metrics;

internal static class MetricsTestData
{
    public static DailyEquity Day(int year, int month, int day, double equity) => new(new DateOnly(year, month, day), equity);

    public static Trade TradeWithPnl(int id, double pnl) => new()
    {
        Id = id,
        Instrument = "SPY",
        Side = TradeSide.Long,
        Quantity = 1,
        EntryTime = new DateTime(2024, 1, 2, 15, 0, 0, DateTimeKind.Utc),
        EntryPrice = 100,
        ExitTime = new DateTime(2024, 1, 3, 15, 0, 0, DateTimeKind.Utc),
        ExitPrice = 100 + pnl,
        Pnl = pnl,
        ReturnPct = pnl / 100,
        Commission = 0,
        Mae = Math.Min(0, pnl),
        Mfe = Math.Max(0, pnl),
        BarsHeld = 1,
    };

    // Initial 100; end-of-day equity → daily return:
    //   Tue 2024-01-02  110      110/100    − 1 = +0.10
    //   Wed 2024-01-03   99       99/110    − 1 = −0.10
    //   Thu 2024-01-04  108.9    108.9/99   − 1 = +0.10
    //   Fri 2024-01-05   98.01   98.01/108.9 − 1 = −0.10
    //   Mon 2024-01-08  117.612  117.612/98.01 − 1 = +0.20
    public static IReadOnlyList<DailyEquity> Equity { get; } =
    [
        Day(2024, 1, 2, 110),
        Day(2024, 1, 3, 99),
        Day(2024, 1, 4, 108.9),
        Day(2024, 1, 5, 98.01),
        Day(2024, 1, 8, 117.612),
    ];

    // Benchmark from 1000, daily returns +0.05, −0.05, +0.05, −0.05, 0.
    public static IReadOnlyList<DailyEquity> Benchmark { get; } =
    [
        Day(2024, 1, 2, 1050),
        Day(2024, 1, 3, 997.5),
        Day(2024, 1, 4, 1047.375),
        Day(2024, 1, 5, 995.00625),
        Day(2024, 1, 8, 995.00625),
    ];

    // P = 10 keeps the annualization arithmetic readable (√10, squares).
    public static MetricsInput Input { get; } = new()
    {
        InitialEquity = 100,
        DailyEquity = Equity,
        PeriodsPerYear = 10,
        Trades = [TradeWithPnl(1, 30), TradeWithPnl(2, -10), TradeWithPnl(3, 20), TradeWithPnl(4, -20)],
        Exposure = 0.6,
        TotalTradedValue = 500,
        TotalCommission = 12.5,
    };

    // Equity whose daily returns are exactly the given ones (up to rounding), one per calendar day from 2024-01-01.
    public static IReadOnlyList<DailyEquity> FromReturns(double initial, params double[] returns)
    {
        var points = new DailyEquity[returns.Length];
        var equity = initial;
        for (var i = 0; i < returns.Length; i++)
        {
            equity *= 1 + returns[i];
            points[i] = new DailyEquity(new DateOnly(2024, 1, 1).AddDays(i), equity);
        }

        return points;
    }
}
