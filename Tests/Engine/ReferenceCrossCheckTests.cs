using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Lean;
using Backtesting.Engine.Strategies;
using Backtesting.Tests.Configuration;

namespace Backtesting.Tests.Engine;

/// <summary>
/// The engine against a deliberately plain re-implementation of the conventions an independent backtester is
/// checked with: signal on the close, market orders at the next bar's open without slippage, commission as a
/// percentage of traded value on every fill, equity = cash + position × close once per bar, and positions left
/// open at the end. The reference shares no code with the engine beyond reading the file.
/// </summary>
public class ReferenceCrossCheckTests
{
    private sealed record RefTrade(DateOnly Entry, double EntryPrice, DateOnly Exit, double ExitPrice, double Pnl);

    private static (List<RefTrade> Trades, List<(DateOnly Date, double Equity)> Equity) Reference(
        IReadOnlyList<MarketData> bars, int fast, int slow, double quantity, double rate, double cash)
    {
        var closes = new List<double>();
        var trades = new List<RefTrade>();
        var equity = new List<(DateOnly, double)>();
        double position = 0, entryPrice = 0, entryCommission = 0;
        DateOnly entryDate = default;
        double? prevFast = null, prevSlow = null;
        var pending = 0; // +1 buy, -1 sell at the next open
        foreach (var bar in bars)
        {
            var date = bar.Date;
            if (pending != 0)
            {
                var price = bar.Open;
                var commission = rate * quantity * price;
                if (pending > 0)
                {
                    cash -= quantity * price + commission;
                    position = quantity;
                    entryPrice = price;
                    entryCommission = commission;
                    entryDate = date;
                }
                else
                {
                    cash += quantity * price - commission;
                    trades.Add(new RefTrade(entryDate, entryPrice, date, price,
                        (price - entryPrice) * quantity - entryCommission - commission));
                    position = 0;
                }

                pending = 0;
            }

            closes.Add(bar.Close);
            double? fastNow = closes.Count >= fast ? closes.Skip(closes.Count - fast).Average() : null;
            double? slowNow = closes.Count >= slow ? closes.Skip(closes.Count - slow).Average() : null;
            if (fastNow is { } f && slowNow is { } s && prevFast is { } pf && prevSlow is { } ps)
            {
                if (pf <= ps && f > s && position == 0)
                {
                    pending = +1;
                }
                else if (pf >= ps && f < s && position > 0)
                {
                    pending = -1;
                }
            }

            if (fastNow is not null && slowNow is not null)
            {
                (prevFast, prevSlow) = (fastNow, slowNow);
            }

            equity.Add((date, cash + position * bar.Close));
        }

        return (trades, equity);
    }

    [Fact]
    public void Moving_average_cross_on_spy_matches_the_plain_reference()
    {
        var data = new LeanDataProvider(TestPaths.LeanData);
        var config = ConfigValidator.Parse(ValidationTests.SeedExample).Config!;
        var validation = ConfigValidator.Validate(config, data, StrategyCatalog.Templates, ValidationPolicy.Local, new DateOnly(2026, 11, 24));
        Assert.True(validation.IsValid);
        var result = new BacktestRun(validation.Spec!, data, StrategyCatalog.Templates).Execute();

        var bars = new List<MarketData>();
        using (var reader = LeanReaders.EquityDaily(TestPaths.Lean("equity", "usa", "daily", "spy.zip"), 0))
        {
            while (reader.TryRead(out var bar))
            {
                if (bar.Date >= new DateOnly(2010, 1, 1) && bar.Date <= new DateOnly(2020, 12, 31))
                {
                    bars.Add(bar);
                }
            }
        }

        var (trades, equity) = Reference(bars, fast: 10, slow: 30, quantity: 100, rate: 0.001, cash: 100_000);

        Assert.True(trades.Count > 20, "the period should hold many crosses");
        Assert.Equal(trades.Count, result.Trades.Count);
        for (var i = 0; i < trades.Count; i++)
        {
            var expected = trades[i];
            var actual = result.Trades[i];
            Assert.Equal(expected.Entry, DateOnly.FromDateTime(actual.EntryTime));
            Assert.Equal(expected.Exit, DateOnly.FromDateTime(actual.ExitTime));
            Assert.Equal(expected.EntryPrice, actual.EntryPrice, 9);
            Assert.Equal(expected.ExitPrice, actual.ExitPrice, 9);
            Assert.Equal(expected.Pnl, actual.Pnl, 6);
        }

        Assert.Equal(equity.Count, result.DailyEquity.Count);
        for (var i = 0; i < equity.Count; i++)
        {
            Assert.Equal(equity[i].Date, result.DailyEquity[i].Date);
            Assert.Equal(equity[i].Equity, result.DailyEquity[i].Equity, 6);
        }

        // The last cross up was never undone: the position is still open, marked at the last close.
        Assert.Single(result.OpenPositions);
        Assert.Equal(equity[^1].Equity / 100_000 - 1, result.Summary.TotalReturn, 9);
    }
}
