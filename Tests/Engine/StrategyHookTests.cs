using Backtesting.Engine.Data;
using Backtesting.Engine.Orders;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Engine;

/// <summary>When the engine calls each of a strategy's hooks, and in what order.</summary>
public class StrategyHookTests
{
    [Fact]
    public void Start_comes_first_end_last_and_a_fill_before_the_bar_it_filled_on()
    {
        // Two instruments, three days. On day 0 the strategy buys the first instrument; the order fills at day 1's
        // open, before the strategy sees day 1's bar. A slice ends once both instruments' bars of a day were seen.
        var strategy = new Recording(buyOnFirstBar: true);
        Run(Spec(instruments: [Stock, Other]), strategy, Closes(100, 101, 102), Closes(50, 51, 52));

        Assert.Equal(
        [
            "start",
            "bar 0 day 0", "bar 1 day 0", "slice day 0",
            "fill 0 +10 @ 101", "bar 0 day 1", "bar 1 day 1", "slice day 1",
            "bar 0 day 2", "bar 1 day 2", "slice day 2",
            "end",
        ], strategy.Calls);
    }

    [Fact]
    public void Ticks_reach_on_tick_and_by_default_on_bar()
    {
        var day = Day0.DayNumber;
        var start = Day0.ToDateTime(new TimeOnly(14, 30), DateTimeKind.Utc).Ticks;
        MarketData[] ticks =
        [
            MarketData.CreateTrade(0, start, day, 100, 5),
            MarketData.CreateQuote(0, start + TimeSpan.TicksPerSecond, day, 99.5, 10, 100.5, 10),
        ];

        var overriding = new Recording(buyOnFirstBar: false, recordTicks: true);
        Run(Spec(), overriding, ticks);
        Assert.Equal(["start", "tick 0 TradeTick 100", "slice day 0", "tick 0 QuoteTick 100", "slice day 0", "end"], overriding.Calls);

        // A bar strategy that leaves OnTick alone sees each tick as a bar, priced at the trade or the quote's mid.
        var barsOnly = new Recording(buyOnFirstBar: false);
        Run(Spec(), barsOnly, ticks);
        Assert.Equal(["start", "bar 0 day 0", "slice day 0", "bar 0 day 0", "slice day 0", "end"], barsOnly.Calls);
    }

    /// <summary>Writes down every hook call; optionally buys 10 of the first instrument on its first bar.</summary>
    private sealed class Recording(bool buyOnFirstBar, bool recordTicks = false) : Backtesting.Engine.Strategies.Strategy
    {
        private bool _bought;

        public List<string> Calls { get; } = [];

        public override void OnStart() => Calls.Add("start");

        public override void OnBar(in MarketData bar)
        {
            Calls.Add($"bar {bar.Instrument} day {bar.LocalDay - Day0.DayNumber}");
            if (buyOnFirstBar && !_bought && bar.Instrument == 0)
            {
                _bought = true;
                Buy(0, 10);
            }
        }

        public override void OnTick(in MarketData tick)
        {
            if (recordTicks)
            {
                Calls.Add($"tick {tick.Instrument} {tick.Kind} {tick.Close}");
            }
            else
            {
                base.OnTick(tick);
            }
        }

        public override void OnSliceEnd(DateTime time) => Calls.Add($"slice day {DateOnly.FromDateTime(time).DayNumber - Day0.DayNumber}");

        public override void OnFill(in Fill fill) => Calls.Add($"fill {fill.Instrument} {fill.Quantity:+0;-0} @ {fill.Price}");

        public override void OnEnd() => Calls.Add("end");
    }
}
