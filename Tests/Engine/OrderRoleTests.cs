using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Strategies;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Engine;

/// <summary>
/// The engine's own orders (bracket, drawdown-halt exits) are told apart by their role, never by their tag: a
/// strategy that tags its orders with an engine role's name, in any casing, is treated like any other strategy.
/// </summary>
public class OrderRoleTests
{
    private const string PlainTag = "entry";

    /// <summary>Every engine role's name, as its tag, its enum name, upper and lower case.</summary>
    public static TheoryData<string> EngineRoleNames()
    {
        var names = new TheoryData<string>();
        foreach (var role in Enum.GetValues<OrderRole>().Where(r => r != OrderRole.Strategy))
        {
            foreach (var name in new[] { role.Tag(), role.ToString(), role.Tag().ToUpperInvariant(), role.Tag().ToLowerInvariant() }.Distinct())
            {
                names.Add(name);
            }
        }

        return names;
    }

    [Fact]
    public void Every_engine_role_has_a_distinct_tag_and_a_strategys_order_has_the_strategy_role()
    {
        var roles = Enum.GetValues<OrderRole>().Where(r => r != OrderRole.Strategy).ToList();
        Assert.Equal(roles.Count, roles.Select(r => r.Tag()).Distinct().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => OrderRole.Strategy.Tag());

        var outcome = Run(Spec(), new TaggingStrategy("stopLoss", (s, i, tag) => s.DoBuy(i, 1, tag)), Closes(100, 100, 100));
        Assert.All(outcome.Orders, o => Assert.Equal((OrderRole.Strategy, "stopLoss"), (o.Role, o.Tag)));
    }

    [Theory]
    [MemberData(nameof(EngineRoleNames))]
    public void A_strategy_tagging_orders_with_an_engine_role_stays_within_the_position_limit(string tag)
    {
        // Ten one-share buys sent on the first bar against a limit of 2 shares: the third and later are refused.
        var spec = Spec(configure: c => c with { RiskSettings = new RiskSettings { Limits = new RiskLimits { MaxPositionQuantity = 2 } } });
        MarketData[] bars = Closes(100, 100, 100, 100);
        EngineOutcome Scenario(string t) => Run(spec, new TaggingStrategy(t, (s, i, x) =>
        {
            for (var n = 0; n < 10 && s.Bar == 0; n++)
            {
                s.DoBuy(i, 1, x);
            }
        }), bars);

        var outcome = Scenario(tag);
        Assert.Equal(2, outcome.Fills.Count);
        Assert.Equal(2, outcome.Portfolio.Positions[0].Quantity);
        Assert.Equal(8, outcome.Orders.Count(o => o.Status == OrderStatus.Rejected && o.Reason!.Contains("exceeds maxPositionQuantity 2", StringComparison.Ordinal)));
        AssertSameTreatment(Scenario(PlainTag), outcome);
    }

    [Theory]
    [MemberData(nameof(EngineRoleNames))]
    public void A_strategy_tagging_orders_with_an_engine_role_is_stopped_by_the_drawdown_halt(string tag)
    {
        var spec = Spec(configure: c => c with { RiskSettings = new RiskSettings { DrawdownHalt = 0.1 } });
        // Bar 2: 5,000 cash + 50 × 70 = 8,500, a 15% drawdown: halt, the engine sells the 50 at bar 3's open 72.
        // From bar 3 on the strategy keeps buying five shares a bar under the engine role's name.
        var bars = Daily((100, 100, 100, 100, 1e6), (100, 100, 100, 100, 1e6), (80, 80, 70, 70, 1e6),
            (72, 72, 72, 72, 1e6), (75, 75, 75, 75, 1e6), (76, 76, 76, 76, 1e6), (77, 77, 77, 77, 1e6));
        EngineOutcome Scenario(string t) => Run(spec, new TaggingStrategy(t, (s, i, x) =>
        {
            if (s.Bar == 0)
            {
                s.DoBuy(i, 50, PlainTag);
            }
            else if (s.Bar >= 3)
            {
                s.DoBuy(i, 5, x);
            }
        }), bars);

        var outcome = Scenario(tag);
        Assert.NotNull(outcome.HaltedAt);
        var afterHalt = outcome.Orders.Where(o => o.Role == OrderRole.Strategy && o.Tag == tag).ToList();
        Assert.Equal(4, afterHalt.Count);
        Assert.All(afterHalt, o => Assert.Equal((OrderStatus.Rejected, "trading halted: drawdown limit reached"), (o.Status, o.Reason)));
        var exit = Assert.Single(outcome.Orders, o => o.Role == OrderRole.DrawdownHalt);
        Assert.Equal((OrderRole.DrawdownHalt.Tag(), OrderStatus.Filled), (exit.Tag, exit.Status));
        Assert.Equal(2, outcome.Fills.Count); // the entry and the halt's exit, nothing after
        Assert.Equal(0, outcome.Portfolio.Positions[0].Quantity);
        AssertSameTreatment(Scenario(PlainTag), outcome);
    }

    [Theory]
    [MemberData(nameof(EngineRoleNames))]
    public void A_strategy_order_tagged_with_an_engine_role_is_not_replaced_with_the_bracket(string tag)
    {
        var spec = Spec(configure: c => c with
        {
            RiskSettings = new RiskSettings { Stops = new StopSettings { StopLossPercent = 0.05, TakeProfitPercent = 0.1 } },
        });
        // Bar 0: buy 10 (filled at bar 1's open 100, bracket 95 / 110) and a GTC limit buy of 5 at 96 under the
        // engine role's name. The bracket placed after the first fill must not cancel it: bar 2's low 96 fills it.
        var bars = Daily((100, 100, 100, 100, 1e6), (100, 101, 99, 100, 1e6), (97, 98, 96, 97, 1e6), (97, 97, 97, 97, 1e6));
        EngineOutcome Scenario(string t) => Run(spec, new TaggingStrategy(t, (s, i, x) =>
        {
            if (s.Bar == 0)
            {
                s.DoBuy(i, 10, PlainTag);
                s.DoSubmit(i, 5, OrderType.Limit, 96, x);
            }
        }), bars);

        var outcome = Scenario(tag);
        var limit = Assert.Single(outcome.Orders, o => o.Tag == tag && !o.IsProtective);
        Assert.Equal((OrderRole.Strategy, OrderStatus.Filled, 96.0), (limit.Role, limit.Status, limit.AveragePrice));
        Assert.Equal(15, outcome.Portfolio.Positions[0].Quantity);
        Assert.All(outcome.Orders.Where(o => o.IsProtective), o => Assert.Equal(o.Role.Tag(), o.Tag));
        AssertSameTreatment(Scenario(PlainTag), outcome);
    }

    /// <summary>Everything but the tag is the same as the run with an ordinary tag.</summary>
    private static void AssertSameTreatment(EngineOutcome plain, EngineOutcome tagged)
    {
        static object Shape(Order o) => (o.Id, o.Role, o.Type, o.Quantity, o.Status, o.FilledQuantity, o.AveragePrice, o.Reason, o.ClosedAt);
        Assert.Equal(plain.Orders.Select(Shape), tagged.Orders.Select(Shape));
        Assert.Equal(plain.Fills, tagged.Fills);
        Assert.Equal(plain.Portfolio.Equity, tagged.Portfolio.Equity);
    }

    /// <summary>Runs its action on every bar of instrument 0 with the tag it was given.</summary>
    private sealed class TaggingStrategy(string tag, Action<TaggingStrategy, int, string> onBar) : Strategy
    {
        public int Bar { get; private set; } = -1;

        public override void OnBar(in MarketData bar)
        {
            Bar++;
            onBar(this, bar.Instrument, tag);
        }

        public Order? DoBuy(int i, double quantity, string t) => Buy(i, quantity, t);

        public Order? DoSubmit(int i, double quantity, OrderType type, double limit, string t) =>
            SubmitOrder(i, quantity, type, limitPrice: limit, tag: t);
    }
}
