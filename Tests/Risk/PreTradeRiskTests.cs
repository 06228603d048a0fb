using Backtesting.Engine.Configuration;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Risk;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Risk;

/// <summary>
/// Every check an order passes before it works: positive prices, the drawdown halt, and every position limit
/// riskSettings.limits offers (buying power and leverage are the account's, at the fill).
/// </summary>
public class PreTradeRiskTests
{
    /// <summary>The limits this class has a spec for; riskSettings.limits must offer exactly these.</summary>
    private static readonly string[] Specified =
        [nameof(RiskLimits.MaxPositionQuantity), nameof(RiskLimits.MaxPositionPercent), nameof(RiskLimits.MaxOpenPositions)];

    /// <summary>Two instruments at 100 (the second quoted at <paramref name="fxRate"/>), 10,000 in cash, nothing held.</summary>
    private sealed class Book(RiskLimits limits, double fxRate = 1)
    {
        private int _nextId = 1;

        public PortfolioState Portfolio { get; } = new([Stock, EuroStock], 10_000, AccountType.Margin, 10);
        public List<Order>[] Working { get; } = [[], []];
        public PreTradeRisk Risk => new(limits, Portfolio, Working, [100, 100], [1, fxRate], 2);

        public Order New(int instrument, double quantity, OrderType type = OrderType.Market, double limit = 0, double stop = 0,
            OrderRole role = OrderRole.Strategy) =>
            new(_nextId++, instrument, quantity, type, limit, stop, TimeInForce.Gtc, 0, "", role);

        public Book Holding(int instrument, double quantity)
        {
            Portfolio.ApplyFill(instrument, 0, quantity, 100, 1, 0);
            return this;
        }

        public Book With(Order order)
        {
            Working[order.Instrument].Add(order);
            return this;
        }

        public string? Check(Order order, bool halted = false) => Risk.Check(order, halted);
    }

    [Fact]
    public void Every_limit_the_config_offers_has_a_spec_here() =>
        Assert.Equal(Specified.Order(), typeof(RiskLimits).GetProperties().Select(p => p.Name).Order());

    [Fact]
    public void Limit_and_stop_prices_must_be_positive()
    {
        var book = new Book(new RiskLimits());
        Assert.All(new[] { book.New(0, 1, OrderType.Limit), book.New(0, 1, OrderType.Stop), book.New(0, 1, OrderType.StopLimit, limit: 100),
            book.New(0, 1, OrderType.StopLimit, stop: 100), book.New(0, 1, OrderType.Limit, limit: double.NaN) },
            order => Assert.Equal(OrderReasons.NonPositivePrice, book.Check(order)));
        Assert.Null(book.Check(book.New(0, 1, OrderType.StopLimit, limit: 99, stop: 100)));
    }

    [Fact]
    public void Once_the_drawdown_halt_struck_only_the_halts_own_exits_pass()
    {
        var book = new Book(new RiskLimits()).Holding(0, 10);
        Assert.Equal(OrderReasons.Halted, book.Check(book.New(0, -10), halted: true));
        Assert.Null(book.Check(book.New(0, -10, role: OrderRole.DrawdownHalt), halted: true));
    }

    [Fact]
    public void Max_position_quantity_caps_the_position_plus_the_working_entries()
    {
        var book = new Book(new RiskLimits { MaxPositionQuantity = 5 }).Holding(0, 1);
        book.With(book.New(0, 2));
        Assert.Null(book.Check(book.New(0, 2)));
        Assert.Equal("position limit: |6| exceeds maxPositionQuantity 5", book.Check(book.New(0, 3)));
        Assert.Equal("position limit: |-6| exceeds maxPositionQuantity 5", book.Check(book.New(0, -9)));
    }

    [Fact]
    public void Max_position_percent_caps_the_position_value_in_the_base_currency_as_a_fraction_of_equity()
    {
        var book = new Book(new RiskLimits { MaxPositionPercent = 0.5 }, fxRate: 2);
        Assert.Null(book.Check(book.New(0, 50)));
        Assert.Equal("position limit: value 5100.00 exceeds maxPositionPercent 0.5 of equity (5000.00)", book.Check(book.New(0, 51)));
        Assert.Null(book.Check(book.New(1, 25)));
        Assert.Equal("position limit: value 5200.00 exceeds maxPositionPercent 0.5 of equity (5000.00)", book.Check(book.New(1, 26)));
    }

    [Fact]
    public void Max_open_positions_counts_instruments_held_and_instruments_with_a_working_entry()
    {
        var held = new Book(new RiskLimits { MaxOpenPositions = 1 }).Holding(0, 1);
        var entering = new Book(new RiskLimits { MaxOpenPositions = 1 });
        entering.With(entering.New(0, 1));
        Assert.All(new[] { held, entering }, book =>
        {
            Assert.Equal("position limit: already 1 open positions (maxOpenPositions 1)", book.Check(book.New(1, 1)));
            Assert.Null(book.Check(book.New(0, 1)));
        });
    }

    [Fact]
    public void An_order_that_does_not_enlarge_the_position_passes_every_limit()
    {
        var book = new Book(new RiskLimits { MaxPositionQuantity = 1, MaxPositionPercent = 0.01, MaxOpenPositions = 1 }).Holding(0, 10).Holding(1, 10);
        Assert.Null(book.Check(book.New(0, -5)));
        Assert.Null(book.Check(book.New(0, -20)));
    }

    [Fact]
    public void The_engines_bracket_orders_are_not_working_entries()
    {
        var book = new Book(new RiskLimits { MaxPositionQuantity = 10, MaxOpenPositions = 1 }).Holding(0, 10);
        book.With(book.New(0, -10, OrderType.Stop, stop: 90, role: OrderRole.StopLoss))
            .With(book.New(0, -10, OrderType.Limit, limit: 110, role: OrderRole.TakeProfit));
        Assert.Equal("position limit: |11| exceeds maxPositionQuantity 10", book.Check(book.New(0, 1)));

        var flat = new Book(new RiskLimits { MaxOpenPositions = 1 });
        flat.With(flat.New(0, -10, OrderType.Stop, stop: 90, role: OrderRole.StopLoss));
        Assert.Null(flat.Check(flat.New(1, 1)));
    }
}
