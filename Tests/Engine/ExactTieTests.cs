using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;
using Backtesting.Engine.Strategies.Templates;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Engine;

/// <summary>
/// A plain moving-average cross in exact integer arithmetic: prices as whole units of their decimal grid, window sums
/// as integers, and the comparison fast > slow as Sf·ns > Ss·nf. A tie (equality) is never a cross. Long only: an
/// upward cross while flat buys at the next bar's open; a downward cross while long sells there.
/// </summary>
internal static class ExactCrossReference
{
    public readonly record struct Bar(long Time, long Open, long Close, bool WarmingUp);

    public readonly record struct Trade(long EntryTime, long EntryPrice, long ExitTime, long ExitPrice);

    /// <summary>The closed trades, whether a position is left open, and how many bars the averages tied on after differing.</summary>
    public static (List<Trade> Closed, bool OpenAtEnd, int Ties) Run(IReadOnlyList<Bar> bars, int fast, int slow)
    {
        var closed = new List<Trade>();
        long sumFast = 0, sumSlow = 0, entryTime = 0, entryPrice = 0;
        int previous = 0, pending = 0, ties = 0;
        bool hasPrevious = false, holding = false;
        for (var t = 0; t < bars.Count; t++)
        {
            var bar = bars[t];
            if (pending > 0)
            {
                (holding, entryTime, entryPrice) = (true, bar.Time, bar.Open);
            }
            else if (pending < 0)
            {
                closed.Add(new Trade(entryTime, entryPrice, bar.Time, bar.Open));
                holding = false;
            }

            pending = 0;
            sumFast += bar.Close - (t >= fast ? bars[t - fast].Close : 0);
            sumSlow += bar.Close - (t >= slow ? bars[t - slow].Close : 0);
            if (t + 1 < slow)
            {
                continue;
            }

            var now = ((Int128)sumFast * slow).CompareTo((Int128)sumSlow * fast);
            if (hasPrevious && !bar.WarmingUp)
            {
                ties += now == 0 && previous != 0 ? 1 : 0;
                if (previous <= 0 && now > 0 && !holding)
                {
                    pending = 1;
                }
                else if (previous >= 0 && now < 0 && holding)
                {
                    pending = -1;
                }
            }

            (previous, hasPrevious) = (now, true);
        }

        return (closed, holding, ties);
    }

    /// <summary>A price as whole units of a decimal grid; fails unless the double is exactly that decimal's.</summary>
    public static long Units(double price, double unitsPerOne)
    {
        var units = (long)Math.Round(price * unitsPerOne);
        Assert.True(units / unitsPerOne == price, $"{price:R} is not on the 1/{unitsPerOne} grid");
        return units;
    }
}

/// <summary>Records every bar a run feeds to its strategy, so a reference sees exactly the engine's bars.</summary>
public sealed class BarRecorder : Strategy
{
    private readonly List<(long Time, double Open, double Close, bool WarmingUp)> _bars;

    public BarRecorder() : this([])
    {
    }

    internal BarRecorder(List<(long Time, double Open, double Close, bool WarmingUp)> bars) => _bars = bars;

    [Parameter("Bars in the fast moving average", Min = 1, Max = 500, Required = true)]
    public int FastPeriod { get; set; } = 10;

    [Parameter("Bars in the slow moving average", Min = 2, Max = 1000, Required = true)]
    public int SlowPeriod { get; set; } = 30;

    public override int WarmupBars => SlowPeriod;

    public override void OnBar(in MarketData bar) => _bars.Add((bar.Time, bar.Open, bar.Close, IsWarmingUp));
}

/// <summary>
/// Ties between two averages are ties: the moving-average cross agrees trade for trade with the exact reference, on
/// hand-built cent series full of ties and on the bundled SPY and AAPL minute data.
/// </summary>
public class ExactTieTests
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);

    private static IReadOnlyList<(int Fast, int Slow)> PeriodPairs { get; } = [(2, 3), (3, 7), (5, 20), (10, 30), (12, 26), (20, 50), (50, 200)];

    private static void AssertSameTrades(IReadOnlyList<Backtesting.Engine.Results.Trade> actual, bool actualOpen,
        (List<ExactCrossReference.Trade> Closed, bool OpenAtEnd, int Ties) expected, double unitsPerOne, string what)
    {
        Assert.True(expected.Closed.Count == actual.Count,
            $"{what}: {actual.Count} trades, the exact reference {expected.Closed.Count}");
        for (var i = 0; i < actual.Count; i++)
        {
            var (e, a) = (expected.Closed[i], actual[i]);
            Assert.True(
                (e.EntryTime, e.EntryPrice / unitsPerOne, e.ExitTime, e.ExitPrice / unitsPerOne)
                == (a.EntryTime.Ticks, a.EntryPrice, a.ExitTime.Ticks, a.ExitPrice),
                $"{what}: trade {i} is {a.EntryTime:O} {a.EntryPrice:R} -> {a.ExitTime:O} {a.ExitPrice:R}, the exact reference "
                + $"{new DateTime(e.EntryTime):O} {e.EntryPrice / unitsPerOne:R} -> {new DateTime(e.ExitTime):O} {e.ExitPrice / unitsPerOne:R}");
        }

        Assert.Equal(expected.OpenAtEnd, actualOpen);
    }

    /// <summary>Random walks over a few cent levels: the averages tie again and again, at every window length.</summary>
    public static TheoryData<int, int, int> HandBuiltCases()
    {
        var cases = new TheoryData<int, int, int>();
        for (var seed = 1; seed <= 4; seed++)
        {
            foreach (var (fast, slow) in new[] { (1, 2), (2, 3), (2, 4), (3, 6), (4, 8), (5, 10), (5, 15), (7, 21), (10, 30), (10, 40), (25, 50) })
            {
                cases.Add(seed, fast, slow);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(HandBuiltCases))]
    public void On_cent_series_full_of_ties_the_cross_matches_exact_arithmetic_trade_for_trade(int seed, int fast, int slow)
    {
        var random = new Random(seed);
        var cents = new long[600];
        var level = 16_721L;
        for (var i = 0; i < cents.Length; i++)
        {
            // Mostly flat, with one-cent steps among three levels: equal windows and equal means are common.
            level = Math.Clamp(level + (random.Next(4) == 0 ? random.Next(-1, 2) : 0), 16_720, 16_722);
            cents[i] = level;
        }

        var bars = Closes(cents.Select(c => c / 100.0).ToArray());
        var strategy = new MovingAverageCross { FastPeriod = fast, SlowPeriod = slow };
        var outcome = Run(Spec(balance: 1_000_000, days: cents.Length + 1), strategy, bars);
        var reference = ExactCrossReference.Run(
            bars.Select(b => new ExactCrossReference.Bar(b.Time, ExactCrossReference.Units(b.Open, 100), ExactCrossReference.Units(b.Close, 100), false)).ToList(),
            fast, slow);
        AssertSameTrades(outcome.Portfolio.Trades, outcome.Portfolio.Positions[0].Quantity != 0, reference, 100, $"seed {seed}, {fast}/{slow}");
    }

    public static TheoryData<int> Windows()
    {
        var windows = new TheoryData<int>();
        for (var n = 1; n <= 50; n++)
        {
            windows.Add(n);
        }

        return windows;
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void A_flat_cent_price_never_crosses_whatever_the_windows(int fast)
    {
        foreach (var price in new[] { 167.21, 0.07, 99.99, 1234.56, 33.33 })
        {
            var slow = fast + 1 + (fast * 7 % 13);
            var bars = Closes(Enumerable.Repeat(price, slow + 40).ToArray());
            var outcome = Run(Spec(balance: 100_000_000, days: slow + 41), new MovingAverageCross { FastPeriod = fast, SlowPeriod = slow }, bars);
            Assert.True(outcome.Orders.Count == 0, $"{price} with {fast}/{slow}: {outcome.Orders.Count} orders on a flat price");
        }
    }

    public static TheoryData<string, string, string, int, int> RealMinuteCases()
    {
        var cases = new TheoryData<string, string, string, int, int>();
        foreach (var (fast, slow) in PeriodPairs)
        {
            cases.Add("SPY", "2013-10-07", "2013-10-11", fast, slow);
            cases.Add("AAPL", "2014-06-05", "2014-06-09", fast, slow);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(RealMinuteCases))]
    public void On_bundled_minute_data_the_cross_matches_exact_arithmetic_trade_for_trade(string symbol, string start, string end, int fast, int slow)
    {
        var json = $$$"""
            {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":{{{fast}}},"slowPeriod":{{{slow}}}},
             "startDate":"{{{start}}}","endDate":"{{{end}}}","instruments":["{{{symbol}}}"],"initialBalance":1000000,
             "dataConfiguration":{"resolution":"minute","adjustment":"raw"},
             "executionSettings":{"fillModel":"nextBarOpen","slippage":{"model":"none"},"commission":{"model":"none"}},
             "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100} } }
            """;
        var recorded = new List<(long Time, double Open, double Close, bool WarmingUp)>();
        var strategies = StrategyCatalog.Templates.With([StrategyDescriptor.For(nameof(BarRecorder), "records bars", () => new BarRecorder(recorded))]);
        var today = new DateOnly(2026, 11, 24);
        BacktestSpec Valid(BacktestConfig config)
        {
            var outcome = ConfigValidator.Validate(config, Data, strategies, ValidationPolicy.Local, today);
            Assert.True(outcome.IsValid, string.Join("; ", outcome.Errors.Select(e => e.Message)));
            return outcome.Spec!;
        }

        var config = ConfigValidator.Parse(json).Config!;
        var result = new BacktestRun(Valid(config), Data, strategies).Execute();
        recorded.Clear();
        new BacktestRun(Valid(config with { StrategyClass = nameof(BarRecorder) }), Data, strategies).Execute();

        const double unitsPerOne = 10_000; // LEAN equity prices are whole 1/10000 of a dollar
        var reference = ExactCrossReference.Run(
            recorded.Select(b => new ExactCrossReference.Bar(b.Time, ExactCrossReference.Units(b.Open, unitsPerOne),
                ExactCrossReference.Units(b.Close, unitsPerOne), b.WarmingUp)).ToList(),
            fast, slow);
        Assert.True(reference.Closed.Count > 0, "the period holds crosses");
        AssertSameTrades(result.Trades, result.OpenPositions.Count > 0, reference, unitsPerOne, $"{symbol} {fast}/{slow}");
    }

    [Fact]
    public void The_bundled_minute_data_holds_exact_ties_between_the_averages()
    {
        foreach (var symbol in new[] { "SPY", "AAPL" })
        {
            var ties = 0;
            Assert.True(Data.Catalog.TryResolve(symbol, out var instrument));
            var range = Data.Catalog.Availability(instrument, Resolution.Minute, DataType.Bars)!;
            using var source = Data.Open(instrument, 0,
                new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, range.First, range.Last));
            var bars = new List<ExactCrossReference.Bar>();
            var buffer = new MarketData[4096];
            for (var n = source.Read(buffer); n > 0; n = source.Read(buffer))
            {
                bars.AddRange(buffer.Take(n).Select(b => new ExactCrossReference.Bar(b.Time, ExactCrossReference.Units(b.Open, 10_000),
                    ExactCrossReference.Units(b.Close, 10_000), false)));
            }

            foreach (var (fast, slow) in PeriodPairs)
            {
                ties += ExactCrossReference.Run(bars, fast, slow).Ties;
            }

            // The cases above would not tell a tie from a cross if there were none to tell.
            Assert.True(ties > 0, $"{symbol}: no tie");
        }
    }
}
