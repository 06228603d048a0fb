using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;

namespace Backtesting.Engine.Strategies.Templates;

/// <summary>
/// Mean reversion on Bollinger bands: buys a close below the lower band and exits at the middle band;
/// with allowShort, shorts a close above the upper band and covers at the middle band.
/// </summary>
public sealed class BollingerBands : Strategy
{
    private Indicators.BollingerBands[] _bands = [];

    [Parameter("Bars in the moving average and standard deviation", Min = 2, Max = 500, Required = true)]
    public int Period { get; set; } = 20;

    [Parameter("Band width in standard deviations", Min = 0.1, Max = 10, Required = true)]
    public double StdDevs { get; set; } = 2;

    [Parameter("Also short above the upper band (needs a margin account)")]
    public bool AllowShort { get; set; }

    public override int WarmupBars => Period;

    public override void OnStart() =>
        _bands = Instruments.Select(_ => new Indicators.BollingerBands(Period, StdDevs)).ToArray();

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        var bands = _bands[i];
        bands.Update(bar.Close);
        if (!bands.IsReady || IsWarmingUp)
        {
            return;
        }

        var quantity = Position(i).Quantity;
        var close = bar.Close;
        if (quantity > 0 && !PriceComparison.IsBelow(close, bands.Middle))
        {
            ExitPosition(i);
        }
        else if (quantity < 0 && !PriceComparison.IsAbove(close, bands.Middle))
        {
            ExitPosition(i);
        }
        else if (quantity == 0 && PriceComparison.IsBelow(close, bands.Lower))
        {
            EnterLong(i);
        }
        else if (quantity == 0 && AllowShort && PriceComparison.IsAbove(close, bands.Upper))
        {
            EnterShort(i);
        }
    }
}
