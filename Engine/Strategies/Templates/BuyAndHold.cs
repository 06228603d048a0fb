using Backtesting.Engine.Data;

namespace Backtesting.Engine.Strategies.Templates;

/// <summary>Buys every instrument on its first bar in range, in equal weights of the sizing rule, and holds.</summary>
public sealed class BuyAndHold : Strategy
{
    private bool[] _bought = [];

    public override void OnStart() => _bought = new bool[Instruments.Count];

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        if (IsWarmingUp || _bought[i])
        {
            return;
        }

        _bought[i] = true;
        EnterLong(i, 1.0 / Instruments.Count);
    }
}
