using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;

namespace Backtesting.Engine.Strategies.Templates;

/// <summary>
/// Buys when RSI (Wilder) falls below the oversold level and exits when it rises above the overbought
/// level; with allowShort, shorts above overbought and covers below oversold.
/// </summary>
public sealed class RsiMeanReversion : Strategy
{
    private Rsi[] _rsi = [];

    [Parameter("Bars in the RSI (Wilder smoothing)", Min = 2, Max = 200, Required = true)]
    public int Period { get; set; } = 14;

    [Parameter("RSI level below which to buy", Min = 0, Max = 100)]
    public double Oversold { get; set; } = 30;

    [Parameter("RSI level above which to exit (or short)", Min = 0, Max = 100)]
    public double Overbought { get; set; } = 70;

    [Parameter("Also short above the overbought level (needs a margin account)")]
    public bool AllowShort { get; set; }

    public override int WarmupBars => Period + 1;

    public override IEnumerable<ValidationError> ValidateParameters()
    {
        if (Oversold >= Overbought)
        {
            yield return new ValidationError("strategyConfig.oversold", "lessThan",
                $"oversold ({Oversold}) must be less than overbought ({Overbought})");
        }
    }

    public override void OnStart() => _rsi = Instruments.Select(_ => new Rsi(Period)).ToArray();

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        var rsi = _rsi[i];
        rsi.Update(bar.Close);
        if (!rsi.IsReady || IsWarmingUp)
        {
            return;
        }

        var quantity = Position(i).Quantity;
        if (rsi.Value < Oversold)
        {
            if (quantity < 0)
            {
                ExitPosition(i);
            }

            if (quantity <= 0)
            {
                EnterLong(i);
            }
        }
        else if (rsi.Value > Overbought)
        {
            if (quantity > 0)
            {
                ExitPosition(i);
            }

            if (AllowShort && quantity >= 0)
            {
                EnterShort(i);
            }
        }
    }
}
