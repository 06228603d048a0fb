using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Orders;

namespace Backtesting.Tests.Engine;

public class FillRuleTests
{
    private static readonly MarketData Bar = MarketData.CreateBar(0, 0, 1, 1, open: 100, high: 103, low: 97, close: 101, volume: 1000);

    private static Order NewOrder(double quantity, OrderType type, double limit = 0, double stop = 0) =>
        new(1, 0, quantity, type, limit, stop, TimeInForce.Gtc, 0, "");

    private static MarketData Bar2(double o, double h, double l, double c) => MarketData.CreateBar(0, 0, 1, 1, o, h, l, c, 1000);

    [Fact]
    public void Market_orders_fill_at_the_open_and_take_slippage()
    {
        Assert.Equal(new FillDecision(true, 100, true), FillRules.Evaluate(NewOrder(10, OrderType.Market), Bar));
        Assert.Equal(new FillDecision(true, 100, true), FillRules.Evaluate(NewOrder(-10, OrderType.Market), Bar));
    }

    [Theory]
    [InlineData(10, 99, true, 99)]     // buy limit inside the range fills at the limit
    [InlineData(10, 101, true, 100)]   // buy limit above the open: gapped through, fills at the open
    [InlineData(10, 96, false, 0)]     // buy limit below the low: no fill
    [InlineData(-10, 102, true, 102)]  // sell limit inside the range
    [InlineData(-10, 99, true, 100)]   // sell limit below the open: fills at the open
    [InlineData(-10, 104, false, 0)]   // sell limit above the high
    public void Limit_orders(double quantity, double limit, bool fills, double price)
    {
        var decision = FillRules.Evaluate(NewOrder(quantity, OrderType.Limit, limit: limit), Bar);
        Assert.Equal(fills, decision.Fills);
        if (fills)
        {
            Assert.Equal(price, decision.Price);
            Assert.False(decision.IsMarketable);
        }
    }

    [Theory]
    [InlineData(10, 102, true, 102)]   // buy stop touched inside the bar
    [InlineData(10, 99, true, 100)]    // buy stop below the open: gapped through, fills at the open
    [InlineData(10, 104, false, 0)]
    [InlineData(-10, 98, true, 98)]    // sell stop touched inside the bar
    [InlineData(-10, 101, true, 100)]  // sell stop above the open: gapped through, fills at the open
    [InlineData(-10, 96, false, 0)]
    public void Stop_orders(double quantity, double stop, bool fills, double price)
    {
        var decision = FillRules.Evaluate(NewOrder(quantity, OrderType.Stop, stop: stop), Bar);
        Assert.Equal(fills, decision.Fills);
        if (fills)
        {
            Assert.Equal(price, decision.Price);
            Assert.True(decision.IsMarketable);
        }
    }

    [Fact]
    public void Stop_limit_triggered_inside_the_bar_fills_at_the_stop_when_the_limit_allows()
    {
        var order = NewOrder(10, OrderType.StopLimit, limit: 103, stop: 102);
        Assert.Equal(new FillDecision(true, 102, false), FillRules.Evaluate(order, Bar));
    }

    [Fact]
    public void Stop_limit_with_limit_below_the_stop_waits_for_the_next_bar_as_a_limit()
    {
        var order = NewOrder(10, OrderType.StopLimit, limit: 101, stop: 102);
        Assert.False(FillRules.Evaluate(order, Bar2(100, 104, 99, 103)).Fills);
        Assert.True(order.StopTriggered);
        Assert.Equal(new FillDecision(true, 101, false), FillRules.Evaluate(order, Bar2(101.5, 102, 100.5, 101)));
    }

    [Fact]
    public void Stop_limit_gapped_through_at_the_open_acts_as_a_limit_from_the_open()
    {
        // Sell stop-limit: stop 99, limit 98.5; the bar opens at 98 (below the stop): triggered at the open,
        // and a sell limit at 98.5 above the open fills when the high reaches it.
        var order = NewOrder(-10, OrderType.StopLimit, limit: 98.5, stop: 99);
        Assert.Equal(new FillDecision(true, 98.5, false), FillRules.Evaluate(order, Bar2(98, 99, 97, 98)));
    }

    [Fact]
    public void Quotes_fill_buys_at_the_ask_and_sells_at_the_bid()
    {
        var quote = MarketData.CreateQuote(0, 0, 1, bid: 99.9, bidSize: 100, ask: 100.1, askSize: 100);
        Assert.Equal(100.1, FillRules.Evaluate(NewOrder(1, OrderType.Market), quote).Price);
        Assert.Equal(99.9, FillRules.Evaluate(NewOrder(-1, OrderType.Market), quote).Price);
    }
}

public class CommissionAndSlippageTests
{
    [Fact]
    public void Percent_commission_is_rate_times_traded_value() =>
        Assert.Equal(10.0, new PercentCommission(0.001).ForOrder(100, 10_000), 12);

    [Fact]
    public void Fixed_commission_is_charged_once_per_order() =>
        Assert.Equal((0.0, 5.0, 5.0), (new FixedCommission(5).ForOrder(0, 0), new FixedCommission(5).ForOrder(10, 1000), new FixedCommission(5).ForOrder(1000, 100_000)));

    [Theory]
    [InlineData(100, 5_000, 1.0)]     // 100 × 0.005 = 0.50, raised to the $1 minimum
    [InlineData(1000, 50_000, 5.0)]   // 1000 × 0.005 = 5.00, within the minimum and the cap (250)
    [InlineData(10_000, 1_000, 5.0)]  // 10,000 × 0.005 = 50, capped at 0.5% of $1,000 = 5
    public void Per_share_commission_with_minimum_and_maximum(double shares, double value, double expected) =>
        Assert.Equal(expected, new PerShareCommission(0.005, 1, 0.005).ForOrder(shares, value), 10);

    [Fact]
    public void Slippage_models_move_the_price_against_the_order()
    {
        Assert.Equal(100.1, new FixedBpsSlippage(10).Apply(100, 5, 0, 0.01), 10);
        Assert.Equal(99.9, new FixedBpsSlippage(10).Apply(100, -5, 0, 0.01), 10);
        Assert.Equal(100.02, new FixedTicksSlippage(2).Apply(100, 5, 0, 0.01), 10);
        Assert.Equal(99.98, new FixedTicksSlippage(2).Apply(100, -5, 0, 0.01), 10);
        // 1,000 of 10,000 shares traded: share 0.1, impact 0.1 × 0.1² = 0.001 of the price.
        Assert.Equal(100.1, new VolumeShareSlippage(0.1).Apply(100, 1000, 10_000, 0.01), 10);
        Assert.Equal(100, SlippageModel.None.Apply(100, 1000, 10_000, 0.01));
    }
}
