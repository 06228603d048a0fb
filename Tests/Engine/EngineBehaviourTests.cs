using Backtesting.Engine.Configuration;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Results;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Engine;

/// <summary>The engine's conventions on hand-computed cases (every expected figure is worked out in a comment).</summary>
public class EngineBehaviourTests
{
    private static readonly Backtesting.Engine.Data.MarketData[] FiveBars = Daily(
        (100, 100, 100, 100, 1e6),
        (101, 102, 100, 102, 1e6),
        (103, 104, 102, 104, 1e6),
        (105, 106, 104, 105, 1e6),
        (104, 104, 100, 101, 1e6));

    private static ScriptedStrategy Script(params (int Bar, Action<ScriptedStrategy, int> Action)[] steps) =>
        new(steps.ToDictionary(s => s.Bar, s => s.Action));

    [Fact]
    public void Signal_on_close_fills_at_next_open_with_percent_commission_and_marks_at_close()
    {
        var spec = Spec(commission: new PercentCommission(0.001));
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 10)), (2, (s, i) => s.DoSell(i, 10))), FiveBars);

        // Buy 10 at bar 1's open 101: 1,010 + 1.01 commission; cash 8,988.99.
        // Bar 1 close 102: 8,988.99 + 1,020 = 10,008.99; bar 2: + 1,040 = 10,028.99.
        // Sell 10 at bar 3's open 105: + 1,050 − 1.05 = 10,037.94 cash, flat from then on.
        var expected = new[] { 10_000, 10_008.99, 10_028.99, 10_037.94, 10_037.94 };
        Assert.Equal(expected.Length, outcome.DailyEquity.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], outcome.DailyEquity[i].Equity, 9);
        }

        var trade = Assert.Single(outcome.Portfolio.Trades);
        Assert.Equal(TradeSide.Long, trade.Side);
        Assert.Equal((101.0, 105.0, 10.0), (trade.EntryPrice, trade.ExitPrice, trade.Quantity));
        Assert.Equal(2.06, trade.Commission, 9);
        Assert.Equal(37.94, trade.Pnl, 9); // (105 − 101) × 10 − 2.06
        Assert.Equal(37.94 / 1010, trade.ReturnPct, 12);
        Assert.Equal(-10, trade.Mae, 9);   // bar 1 low 100: (100 − 101) × 10
        Assert.Equal(30, trade.Mfe, 9);    // bar 2 high 104: (104 − 101) × 10
        Assert.Equal(2, trade.BarsHeld);   // held over bars 1 and 2, sold at bar 3's open
        Assert.Equal(FiveBars[1].Time, trade.EntryTime.Ticks);
        Assert.Equal(FiveBars[3].Time, trade.ExitTime.Ticks);
        Assert.Equal(2.06, outcome.Portfolio.TotalCommission, 9);
        Assert.Equal(2060, outcome.Portfolio.TradedValue, 9);
    }

    [Fact]
    public void Same_bar_close_fills_market_orders_at_the_signal_close()
    {
        var spec = Spec(fillModel: FillModel.SameBarClose, commission: new PercentCommission(0.001));
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 10))), FiveBars);
        // 10 × 100 + 1.00 commission: cash 8,999; equity at the same close 8,999 + 1,000 = 9,999.
        Assert.Equal(9_999, outcome.DailyEquity[0].Equity, 9);
        Assert.Equal(100, outcome.Portfolio.Positions[0].AveragePrice);
        Assert.Equal(9_999 + 10 * (101 - 100), outcome.DailyEquity[^1].Equity, 9);
    }

    [Fact]
    public void Cash_account_rejects_orders_beyond_cash_with_the_reason()
    {
        var outcome = Run(Spec(), Script((0, (s, i) => s.DoBuy(i, 100))), FiveBars);
        var order = Assert.Single(outcome.Orders);
        Assert.Equal(OrderStatus.Rejected, order.Status);
        Assert.Contains("insufficient cash: needs 10100.00, has 10000.00", order.Reason);
        Assert.Equal(0, outcome.Portfolio.Positions[0].Quantity);
        Assert.All(outcome.DailyEquity, d => Assert.Equal(10_000, d.Equity));
    }

    [Fact]
    public void Cash_account_rejects_short_sales()
    {
        var outcome = Run(Spec(), Script((0, (s, i) => s.DoSell(i, 10))), FiveBars);
        Assert.Contains("short selling needs a margin account", Assert.Single(outcome.Orders).Reason);
    }

    [Fact]
    public void Margin_account_allows_leverage_up_to_the_limit_and_rejects_beyond()
    {
        var spec = Spec(account: AccountType.Margin,
            configure: c => c with { AccountType = "margin", RiskSettings = new RiskSettings { MaxLeverage = 2 } });
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 150)), (1, (s, i) => s.DoBuy(i, 60))), FiveBars);
        // 150 × 101 = 15,150 ≤ 2 × 10,000: filled; cash −5,150. At bar 1's close equity is −5,150 + 15,300 = 10,150.
        // Adding 60 at 103: gross 210 × 103 = 21,630 > 2 × (10,150 + 150 × 1) = 20,600: rejected.
        Assert.Equal(OrderStatus.Filled, outcome.Orders[0].Status);
        Assert.Equal(OrderStatus.Rejected, outcome.Orders[1].Status);
        Assert.Contains("exceeds buying power", outcome.Orders[1].Reason);
        Assert.Equal(150, outcome.Portfolio.Positions[0].Quantity);
        Assert.Equal(10_150, outcome.DailyEquity[1].Equity, 9);
    }

    [Fact]
    public void Profit_and_loss_is_converted_into_the_base_currency()
    {
        var spec = Spec(instruments: [EuroStock]);
        var fx = new FixedFxRates(new() { [("EUR", "USD")] = 1.1 });
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 10))), fx, FiveBars);
        // 10 × 101 EUR × 1.1 = 1,111 USD paid; at the 102 close the position is worth 1,122 USD.
        Assert.Equal(8_889, outcome.Portfolio.Cash, 9);
        Assert.Equal(10_011, outcome.DailyEquity[1].Equity, 9);
    }

    [Theory]
    [InlineData(SizingMode.PercentEquity, 50)]   // 10,000 × 0.5 / 100
    [InlineData(SizingMode.FixedNotional, 25)]   // 2,500 / 100
    [InlineData(SizingMode.FixedQuantity, 7)]
    public void Position_sizing_prices_at_the_signal_close(SizingMode mode, double expected)
    {
        var spec = Spec(sizing: mode, configure: c => c with
        {
            RiskSettings = new RiskSettings { PositionSizing = new PositionSizing { Percent = 0.5, Notional = 2_500, Quantity = 7 } },
        });
        var outcome = Run(spec, Script((0, (s, i) => s.DoEnterLong(i))), FiveBars);
        Assert.Equal(expected, outcome.Orders[0].Quantity);
        Assert.Equal(expected, outcome.Portfolio.Positions[0].Quantity);
    }

    [Fact]
    public void Volatility_target_sizing_risks_a_fraction_of_equity_per_atr()
    {
        var spec = Spec(sizing: SizingMode.VolatilityTarget, configure: c => c with
        {
            RiskSettings = new RiskSettings { PositionSizing = new PositionSizing { RiskPercent = 0.01, AtrPeriod = 3 } },
        });
        var bars = Daily(Enumerable.Repeat((100.0, 101.0, 99.0, 100.0, 1e6), 6).ToArray());
        var outcome = Run(spec, Script((3, (s, i) => s.DoEnterLong(i))), bars);
        // True range is 2 every bar, so ATR(3) = 2; 1% of 10,000 = 100 risked per ATR: 100 / 2 = 50 shares.
        Assert.Equal(50, outcome.Orders[0].Quantity);
    }

    [Fact]
    public void Volume_participation_cap_fills_partially_over_several_bars()
    {
        var spec = Spec(configure: c => c with { ExecutionSettings = new ExecutionSettings { MaxVolumeParticipation = 0.1 } });
        var bars = Daily(Enumerable.Repeat((10.0, 10.0, 10.0, 10.0, 100.0), 5).ToArray());
        var strategy = Script((0, (s, i) => s.DoBuy(i, 25)));
        var outcome = Run(spec, strategy, bars);
        // At most 10% of each bar's 100 shares: 10, 10, then the last 5.
        Assert.Equal(new[] { 10.0, 10.0, 5.0 }, strategy.Fills.Select(f => f.Quantity));
        Assert.Equal(OrderStatus.Filled, outcome.Orders[0].Status);
        Assert.Equal(25, outcome.Portfolio.Positions[0].Quantity);
    }

    [Fact]
    public void Day_orders_expire_after_their_session()
    {
        var outcome = Run(Spec(), Script((0, (s, i) => s.DoSubmit(i, 10, OrderType.Limit, limit: 50, tif: TimeInForce.Day))), FiveBars);
        var order = Assert.Single(outcome.Orders);
        Assert.Equal(OrderStatus.Expired, order.Status);
        Assert.Equal(FiveBars[2].EndTime, order.ClosedAt);
    }

    [Fact]
    public void Gtc_limit_waits_until_the_price_comes()
    {
        var outcome = Run(Spec(), Script((0, (s, i) => s.DoSubmit(i, 10, OrderType.Limit, limit: 100.5))), FiveBars);
        // Bar 1: open 101 > 100.5, low 100 ≤ 100.5: fills at the limit.
        Assert.Equal(OrderStatus.Filled, outcome.Orders[0].Status);
        Assert.Equal(100.5, outcome.Orders[0].AveragePrice);
    }

    [Theory]
    [InlineData(99, 99, 94, 96, 95)]  // low touches the 95 stop: filled at 95
    [InlineData(90, 92, 89, 91, 90)]  // opens below the stop: filled at the open
    public void Stop_loss_exits_at_the_stop_or_at_a_gap_open(double o, double h, double l, double c, double exit)
    {
        var spec = Spec(configure: cfg => cfg with { RiskSettings = new RiskSettings { Stops = new StopSettings { StopLossPercent = 0.05 } } });
        var bars = Daily((100, 100, 100, 100, 1e6), (100, 101, 99, 100, 1e6), (o, h, l, c, 1e6), (c, c, c, c, 1e6));
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 10))), bars);
        var trade = Assert.Single(outcome.Portfolio.Trades);
        Assert.Equal(exit, trade.ExitPrice);
        Assert.Contains(outcome.Orders, x => x.Tag == "stopLoss" && x.Status == OrderStatus.Filled);
    }

    [Fact]
    public void Take_profit_cancels_its_stop_loss_partner()
    {
        var spec = Spec(configure: cfg => cfg with
        {
            RiskSettings = new RiskSettings { Stops = new StopSettings { StopLossPercent = 0.05, TakeProfitPercent = 0.1 } },
        });
        var bars = Daily((100, 100, 100, 100, 1e6), (100, 101, 99, 100, 1e6), (105, 111, 104, 110, 1e6), (110, 110, 80, 90, 1e6));
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 10))), bars);
        Assert.Equal(110, Assert.Single(outcome.Portfolio.Trades).ExitPrice);
        Assert.Equal(OrderStatus.Cancelled, outcome.Orders.Single(x => x.Tag == "stopLoss").Status);
        Assert.Equal(0, outcome.Portfolio.Positions[0].Quantity);
    }

    [Fact]
    public void Drawdown_halt_flattens_and_refuses_new_orders()
    {
        var spec = Spec(configure: cfg => cfg with { RiskSettings = new RiskSettings { DrawdownHalt = 0.1 } });
        var bars = Daily((100, 100, 100, 100, 1e6), (100, 100, 100, 100, 1e6), (80, 80, 70, 70, 1e6), (72, 72, 72, 72, 1e6), (75, 75, 75, 75, 1e6));
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 50)), (3, (s, i) => s.DoBuy(i, 5))), bars);
        // Bar 2: 5,000 cash + 50 × 70 = 8,500, a 15% drawdown: halt, sell 50 at bar 3's open 72.
        Assert.NotNull(outcome.HaltedAt);
        Assert.Equal(72, Assert.Single(outcome.Portfolio.Trades).ExitPrice);
        Assert.Contains("trading halted", outcome.Orders[^1].Reason);
        Assert.Equal(0, outcome.Portfolio.Positions[0].Quantity);
    }

    [Fact]
    public void Position_limits_reject_an_order_that_would_exceed_them_with_the_reason()
    {
        // At most 15 shares, and at most 12% of equity in one position.
        var spec = Spec(configure: c => c with
        {
            RiskSettings = new RiskSettings { Limits = new RiskLimits { MaxPositionQuantity = 15, MaxPositionPercent = 0.12 } },
        });
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 10)), (1, (s, i) => s.DoBuy(i, 6)), (2, (s, i) => s.DoBuy(i, 2))), FiveBars);
        // Bar 0: 10 shares, priced at the close 100: 1,000 ≤ 12% of 10,000. Filled at bar 1's open 101.
        // Bar 1: 16 > 15 shares: rejected by the quantity limit.
        // Bar 2: 12 shares at the close 104 = 1,248 > 12% of equity 10,030 (no commission: 1,203.60): rejected by the value limit.
        Assert.Equal(OrderStatus.Filled, outcome.Orders[0].Status);
        Assert.Equal(OrderStatus.Rejected, outcome.Orders[1].Status);
        Assert.Contains("exceeds maxPositionQuantity 15", outcome.Orders[1].Reason);
        Assert.Equal(OrderStatus.Rejected, outcome.Orders[2].Status);
        Assert.Contains("exceeds maxPositionPercent 0.12", outcome.Orders[2].Reason);
        Assert.Equal(10, outcome.Portfolio.Positions[0].Quantity);
    }

    [Fact]
    public void The_open_position_limit_refuses_a_new_position_but_not_adding_to_one()
    {
        var spec = Spec(instruments: [Stock, Other], configure: c => c with
        {
            RiskSettings = new RiskSettings { Limits = new RiskLimits { MaxOpenPositions = 1 } },
        });
        var strategy = Script((0, (s, i) => s.DoBuy(0, 10)), (1, (s, i) => { s.DoBuy(1, 10); s.DoBuy(0, 5); }));
        var outcome = Run(spec, strategy, Closes(100, 100, 100, 100), Closes(50, 50, 50, 50));
        Assert.Equal(OrderStatus.Filled, outcome.Orders[0].Status);
        Assert.Equal(OrderStatus.Rejected, outcome.Orders[1].Status);
        Assert.Contains("already 1 open positions (maxOpenPositions 1)", outcome.Orders[1].Reason);
        Assert.Equal(OrderStatus.Filled, outcome.Orders[2].Status);
        Assert.Equal((15.0, 0.0), (outcome.Portfolio.Positions[0].Quantity, outcome.Portfolio.Positions[1].Quantity));
    }

    [Fact]
    public void A_strategy_cancels_its_working_order_and_it_never_fills()
    {
        Backtesting.Engine.Orders.Order? limit = null;
        var strategy = Script(
            (0, (s, i) => limit = s.DoSubmit(i, 10, OrderType.Limit, limit: 90)),
            (1, (s, i) => Assert.True(s.DoCancel(limit!))),
            (2, (s, i) => Assert.False(s.DoCancel(limit!)))); // a closed order cannot be cancelled twice
        var bars = Daily((100, 100, 100, 100, 1e6), (99, 99, 95, 96, 1e6), (90, 90, 85, 86, 1e6), (86, 86, 86, 86, 1e6));
        var outcome = Run(Spec(), strategy, bars);
        // The limit at 90 is never reached on bar 1 (low 95); cancelled at bar 1's close, so bar 2's low 85 fills nothing.
        var order = Assert.Single(outcome.Orders);
        Assert.Equal(OrderStatus.Cancelled, order.Status);
        Assert.Equal("cancelled by strategy", order.Reason);
        Assert.Equal(0, order.FilledQuantity);
        Assert.Empty(outcome.Fills);
    }

    [Fact]
    public void Unrealized_profit_is_the_open_quantity_times_the_move_from_the_average_price()
    {
        var outcome = Run(Spec(), Script((0, (s, i) => s.DoBuy(i, 10)), (1, (s, i) => s.DoBuy(i, 10))), FiveBars);
        // 10 at 101 (bar 1's open) and 10 at 103 (bar 2's open): average 102. Last close 101: (101 − 102) × 20 = −20.
        var position = outcome.Portfolio.Positions[0];
        Assert.Equal((20.0, 102.0), (position.Quantity, position.AveragePrice));
        Assert.Equal(-20, outcome.Portfolio.UnrealizedPnl, 9);
        Assert.Equal(-20, position.UnrealizedPnl, 9);
    }

    [Fact]
    public void Positions_open_at_the_end_stay_open_and_are_marked_to_the_last_close()
    {
        var outcome = Run(Spec(), Script((0, (s, i) => s.DoBuy(i, 10))), FiveBars);
        Assert.Empty(outcome.Portfolio.Trades);
        Assert.Equal(10, outcome.Portfolio.Positions[0].Quantity);
        Assert.Equal(10_000 - 1_010 + 1_010, outcome.DailyEquity[^1].Equity, 9); // last close 101 = entry 101
    }

    [Fact]
    public void Reversing_a_position_closes_one_trade_and_opens_the_other_side()
    {
        var spec = Spec(account: AccountType.Margin, configure: c => c with { AccountType = "margin" });
        var outcome = Run(spec, Script((0, (s, i) => s.DoBuy(i, 10)), (1, (s, i) => s.DoSell(i, 20))), FiveBars);
        var trade = Assert.Single(outcome.Portfolio.Trades);
        Assert.Equal((101.0, 103.0, 20.0), (trade.EntryPrice, trade.ExitPrice, trade.Pnl));
        Assert.Equal(-10, outcome.Portfolio.Positions[0].Quantity);
        Assert.Equal(103, outcome.Portfolio.Positions[0].AveragePrice);
    }

    [Fact]
    public void Rebalancing_sells_before_it_buys_within_one_timestamp()
    {
        // Both instruments at 100. Hold 95 of the first; then switch to 95 of the second in one step.
        // Only if the sale is matched first does the cash account afford the purchase.
        var a = Closes(100, 100, 100, 100);
        var b = Closes(100, 100, 100, 100);
        var spec = Spec(instruments: [Stock, Other]);
        var strategy = Script((0, (s, i) => s.DoBuy(0, 95)), (1, (s, i) => { s.DoBuy(1, 95); s.DoSell(0, 95); }));
        var outcome = Run(spec, strategy, a, b);
        Assert.All(outcome.Orders, o => Assert.Equal(OrderStatus.Filled, o.Status));
        Assert.Equal((0.0, 95.0), (outcome.Portfolio.Positions[0].Quantity, outcome.Portfolio.Positions[1].Quantity));
    }
}
