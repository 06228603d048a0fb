using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies.Templates;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Engine;

/// <summary>
/// The templates' short side on hand-made closes (open = high = low = close, orders fill at the next bar's open,
/// a margin account): each shorts where its rule says and covers where its rule says, worked out below.
/// </summary>
public class TemplateShortSideTests
{
    // A fixed 100 shares an order; the balance covers that at leverage 1 (a short's gross exposure counts too).
    private static readonly BacktestSpec Margin = Spec(account: AccountType.Margin, configure: c => c with { AccountType = "margin" },
        balance: 100_000);

    [Fact]
    public void Bollinger_bands_short_a_close_above_the_upper_band_and_cover_at_the_middle()
    {
        // Period 5, one standard deviation (population). Bar 5: window 100,100,100,100,110: mean 102, sd 4, upper 106;
        // 110 > 106, so short, filled at bar 6's open, 108. Bar 7: window 100,100,110,108,95: mean 102.6; 95 is at or
        // below it, so cover, filled at bar 8's open, 100. Bars 8 and 9 (100) stay inside the bands: nothing more.
        var outcome = Run(Margin, new BollingerBands { Period = 5, StdDevs = 1, AllowShort = true }, BollingerCloses);

        AssertOneShort(outcome, entry: 108, exit: 100, open: null);
    }

    [Fact]
    public void Without_allow_short_the_same_closes_never_sell_short()
    {
        // The spike above the upper band is let pass; the drop to 95 is below the lower band (97.0), so it buys.
        var outcome = Run(Margin, new BollingerBands { Period = 5, StdDevs = 1 }, BollingerCloses);

        Assert.All(outcome.Orders, o => Assert.True(o.Quantity > 0, $"order {o.Id} sells {-o.Quantity}"));
        Assert.Equal(100, outcome.Portfolio.Positions[0].Quantity);
        Assert.Equal(100, outcome.Portfolio.Positions[0].AveragePrice);
    }

    private static MarketData[] BollingerCloses => Closes(100, 100, 100, 100, 100, 110, 108, 95, 100, 100);

    [Fact]
    public void The_moving_average_cross_shorts_the_downward_cross_and_reverses_on_the_upward_one()
    {
        // SMA 2 and 3. Bar 3: fast 99.5 < slow 99.67, after 100 >= 100 on bar 2: a downward cross, so short, filled
        // at bar 4's open, 97. Bar 6: fast 97.5 > slow 97.33, after 96.5 <= 97.33: an upward cross, so cover and
        // buy, both filled at bar 7's open, 102. A losing short: (97 - 102) a share.
        var outcome = Run(Margin, new MovingAverageCross { FastPeriod = 2, SlowPeriod = 3, AllowShort = true },
            Closes(100, 100, 100, 99, 97, 96, 99, 102, 103, 103));

        AssertOneShort(outcome, entry: 97, exit: 102, open: (100, 102));
    }

    [Fact]
    public void Donchian_shorts_a_close_below_the_entry_channel_and_covers_above_the_exit_channel()
    {
        // Entry channel 3 bars, exit channel 2, both over the bars before the current one. Bar 4: lowest low of bars
        // 1-3 is 99; 97 < 99, so short, filled at bar 5's open, 96. Bar 7: highest high of bars 5-6 is 96; 98 > 96,
        // so cover, filled at bar 8's open, 99. Bar 8: highest high of bars 5-7 is 98; 99 > 98, so buy, filled at bar
        // 9's open, 99.
        var outcome = Run(Margin, new DonchianBreakout { EntryPeriod = 3, ExitPeriod = 2, AllowShort = true },
            Closes(100, 100, 99, 100, 97, 96, 95, 98, 99, 99));

        AssertOneShort(outcome, entry: 96, exit: 99, open: (100, 99));
    }

    [Fact]
    public void Rsi_shorts_above_overbought_and_reverses_long_below_oversold()
    {
        // Period 2, Wilder smoothing. Changes +1,+1: average gain 1, loss 0, RSI 100 at bar 2 (above 70), so short,
        // filled at bar 3's open, 103 (further rises add nothing: already short). Bar 5 (-1): gain 0.5, loss 0.5, RSI 50.
        // Bar 6 (-1): gain 0.25, loss 0.75, RSI 25 (below 30), so cover and buy, both filled at bar 7's open, 101.
        var outcome = Run(Margin, new RsiMeanReversion { Period = 2, Oversold = 30, Overbought = 70, AllowShort = true },
            Closes(100, 101, 102, 103, 104, 103, 102, 101, 100, 100));

        AssertOneShort(outcome, entry: 103, exit: 101, open: (100, 101)); // the reversal's long, still open
    }

    /// <summary>
    /// One closed trade, a short of 100 from <paramref name="entry"/> to <paramref name="exit"/>; then flat (null) or
    /// the <paramref name="open"/> position.
    /// </summary>
    private static void AssertOneShort(EngineOutcome outcome, double entry, double exit, (double Quantity, double AveragePrice)? open)
    {
        var trade = Assert.Single(outcome.Portfolio.Trades);
        Assert.Equal(TradeSide.Short, trade.Side);
        Assert.Equal(100, trade.Quantity);
        Assert.Equal((entry, exit), (trade.EntryPrice, trade.ExitPrice));
        Assert.Equal((entry - exit) * trade.Quantity, trade.Pnl, 9);
        var position = outcome.Portfolio.Positions[0];
        Assert.Equal(open?.Quantity ?? 0, position.Quantity);
        if (open is { } expected)
        {
            Assert.Equal(expected.AveragePrice, position.AveragePrice);
        }
    }
}
