using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Engine;

/// <summary>
/// A stop-loss / take-profit bracket against every order of events one point can bring: a point that opens at or
/// beyond a level fills that side at the open, first; a bar that opens between the levels and reaches both fills the
/// stop (the conservative choice); a point that reaches one side fills that side. Long and short, for every fill model.
/// Entry at 100 with a 5% stop and a 10% target: long stop 95, target 110; the short side is the mirror image
/// (every price p becomes 200 − p: stop 105, target 90).
/// </summary>
public class BracketSameBarTests
{
    private const double Entry = 100;

    private static ScriptedStrategy Script(params (int Bar, Action<ScriptedStrategy, int> Action)[] steps) =>
        new(steps.ToDictionary(s => s.Bar, s => s.Action));

    /// <summary>Mirror of a price around the entry, turning a long scenario into the short one.</summary>
    private static double Mirror(double price) => (2 * Entry) - price;

    public enum Exit
    {
        None,
        Stop,
        Target,
    }

    /// <summary>Scenarios in long terms: the test bar (open, high, low, close), which side exits, and at what price.</summary>
    public static TheoryData<string, double, double, double, double, Exit, double> LongScenarios() => new()
    {
        { "opens above the target, falls through the stop", 112, 113, 90, 95, Exit.Target, 112 },
        { "opens below the stop, rises through the target", 93, 115, 92, 100, Exit.Stop, 93 },
        { "opens between and reaches both", 100, 111, 94, 100, Exit.Stop, 95 },
        { "opens between and reaches both, closing high", 100, 111, 94, 110.5, Exit.Stop, 95 },
        { "reaches only the target", 100, 111, 99, 105, Exit.Target, 110 },
        { "reaches only the stop", 100, 101, 94, 96, Exit.Stop, 95 },
        { "opens exactly at the target, falls through the stop", 110, 111, 94, 100, Exit.Target, 110 },
        { "opens exactly at the stop, rises through the target", 95, 111, 94, 100, Exit.Stop, 95 },
        { "opens between, touches both levels exactly", 100, 110, 95, 100, Exit.Stop, 95 },
        { "touches the target exactly only", 100, 110, 96, 100, Exit.Target, 110 },
        { "touches the stop exactly only", 100, 104, 95, 100, Exit.Stop, 95 },
        { "opens above the target and stays above", 120, 125, 118, 121, Exit.Target, 120 },
        { "opens below the stop and stays below", 80, 82, 70, 75, Exit.Stop, 80 },
        { "reaches neither", 100, 109.99, 95.01, 100, Exit.None, 0 },
    };

    public static TheoryData<string, double, double, double, double, Exit, double, bool, FillModel> AllScenarios()
    {
        var all = new TheoryData<string, double, double, double, double, Exit, double, bool, FillModel>();
        foreach (var row in LongScenarios())
        {
            var (name, o, h, l, c, exit, price) = ((string)row[0], (double)row[1], (double)row[2], (double)row[3], (double)row[4], (Exit)row[5], (double)row[6]);
            foreach (var fillModel in new[] { FillModel.NextBarOpen, FillModel.SameBarClose })
            {
                all.Add(name, o, h, l, c, exit, price, false, fillModel);
                all.Add(name, Mirror(o), Mirror(l), Mirror(h), Mirror(c), exit, exit == Exit.None ? 0 : Mirror(price), true, fillModel);
            }
        }

        return all;
    }

    private static BacktestSpec BracketSpec(FillModel fillModel, DataType dataType = DataType.Bars) =>
        Spec(fillModel: fillModel, account: AccountType.Margin, balance: 100_000, configure: cfg => cfg with
        {
            RiskSettings = new RiskSettings { Stops = new StopSettings { StopLossPercent = 0.05, TakeProfitPercent = 0.1 }, MaxLeverage = 2 },
        }) with
        {
            DataType = dataType,
            Resolution = dataType == DataType.Ticks ? Resolution.Tick : Resolution.Daily,
        };

    private static void AssertExit(EngineOutcome outcome, bool isShort, Exit exit, double price, string scenario)
    {
        var stop = outcome.Orders.Single(o => o.Type == OrderType.Stop);
        var target = outcome.Orders.Single(o => o.Type == OrderType.Limit);
        Assert.Equal(isShort ? Mirror(95) : 95, stop.StopPrice);
        Assert.Equal(isShort ? Mirror(110) : 110, target.LimitPrice);
        switch (exit)
        {
            case Exit.None:
                Assert.True(stop.IsOpen && target.IsOpen, $"{scenario}: the bracket is still working");
                return;
            case Exit.Stop:
                Assert.True(stop.Status == OrderStatus.Filled, $"{scenario}: the stop fills (target {target.Status})");
                Assert.Equal(OrderStatus.Cancelled, target.Status);
                break;
            default:
                Assert.True(target.Status == OrderStatus.Filled, $"{scenario}: the target fills (stop {stop.Status})");
                Assert.Equal(OrderStatus.Cancelled, stop.Status);
                break;
        }

        var trade = Assert.Single(outcome.Portfolio.Trades);
        Assert.Equal(price, trade.ExitPrice);
        Assert.Equal(0, outcome.Portfolio.Positions[0].Quantity);
    }

    [Theory]
    [MemberData(nameof(AllScenarios))]
    public void One_bar_against_a_bracket_exits_the_side_the_rule_says(string scenario, double o, double h, double l, double c,
        Exit exit, double price, bool isShort, FillModel fillModel)
    {
        // Bar 0 submits the entry; it fills at 100 (bar 1's open or bar 0's close). Bar 1 is quiet, bar 2 is the test.
        var bars = Daily((Entry, Entry, Entry, Entry, 1e6), (Entry, Entry, Entry, Entry, 1e6), (o, h, l, c, 1e6));
        var outcome = Run(BracketSpec(fillModel), Script((0, (s, i) => _ = isShort ? s.DoSell(i, 10) : s.DoBuy(i, 10))), bars);
        Assert.Equal(Entry, outcome.Fills[0].Price);
        AssertExit(outcome, isShort, exit, price, scenario);
    }

    public static TheoryData<double, Exit, bool, bool> TickJumps()
    {
        var all = new TheoryData<double, Exit, bool, bool>();
        foreach (var (price, exit) in new[] { (112.0, Exit.Target), (110.0, Exit.Target), (93.0, Exit.Stop), (95.0, Exit.Stop), (100.0, Exit.None) })
        {
            foreach (var quotes in new[] { false, true })
            {
                all.Add(price, exit, false, quotes);
                all.Add(Mirror(price), exit, true, quotes);
            }
        }

        return all;
    }

    [Theory]
    [MemberData(nameof(TickJumps))]
    public void A_tick_that_jumps_to_or_past_a_level_fills_that_side_at_its_price(double price, Exit exit, bool isShort, bool quotes)
    {
        var day = Day0.DayNumber;
        var start = Day0.ToDateTime(new TimeOnly(14, 30), DateTimeKind.Utc).Ticks;
        MarketData At(int second, double p) => quotes
            ? MarketData.CreateQuote(0, start + (second * TimeSpan.TicksPerSecond), day, p, 1e6, p, 1e6)
            : MarketData.CreateTrade(0, start + (second * TimeSpan.TicksPerSecond), day, p, 1e6);
        var ticks = new[] { At(0, Entry), At(1, Entry), At(2, Entry), At(3, price), At(4, price) };
        var outcome = Run(BracketSpec(FillModel.NextTick, DataType.Ticks),
            Script((0, (s, i) => _ = isShort ? s.DoSell(i, 10) : s.DoBuy(i, 10))), ticks);
        Assert.Equal(Entry, outcome.Fills[0].Price);
        AssertExit(outcome, isShort, exit, price, $"tick at {price}");
    }
}
