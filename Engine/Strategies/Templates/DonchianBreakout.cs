using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;

namespace Backtesting.Engine.Strategies.Templates;

/// <summary>
/// Turtle-style breakout: buys a close above the highest high of the previous entryPeriod bars and
/// exits on a close below the lowest low of the previous exitPeriod bars (mirrored for shorts).
/// The channels are read before the current bar is added, so a bar is compared with the ones before it.
/// </summary>
public sealed class DonchianBreakout : Strategy
{
    private DonchianChannel[] _entry = [];
    private DonchianChannel[] _exit = [];

    [Parameter("Bars in the entry channel", Min = 2, Max = 500, Required = true)]
    public int EntryPeriod { get; set; } = 20;

    [Parameter("Bars in the exit channel", Min = 1, Max = 500, Required = true)]
    public int ExitPeriod { get; set; } = 10;

    [Parameter("Also trade downside breakouts short (needs a margin account)")]
    public bool AllowShort { get; set; }

    public override int WarmupBars => Math.Max(EntryPeriod, ExitPeriod) + 1;

    public override void OnStart()
    {
        _entry = Instruments.Select(_ => new DonchianChannel(EntryPeriod)).ToArray();
        _exit = Instruments.Select(_ => new DonchianChannel(ExitPeriod)).ToArray();
    }

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        var entry = _entry[i];
        var exit = _exit[i];
        if (entry.IsReady && exit.IsReady && !IsWarmingUp)
        {
            var quantity = Position(i).Quantity;
            var close = bar.Close;
            if (quantity > 0 && PriceComparison.IsBelow(close, exit.Lower))
            {
                ExitPosition(i);
            }
            else if (quantity < 0 && PriceComparison.IsAbove(close, exit.Upper))
            {
                ExitPosition(i);
            }
            else if (quantity == 0 && PriceComparison.IsAbove(close, entry.Upper))
            {
                EnterLong(i);
            }
            else if (quantity == 0 && AllowShort && PriceComparison.IsBelow(close, entry.Lower))
            {
                EnterShort(i);
            }
        }

        entry.Update(bar.High, bar.Low);
        exit.Update(bar.High, bar.Low);
    }
}
