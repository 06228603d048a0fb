using Backtesting.Engine.Orders;

namespace Backtesting.Engine.Core;

// The drawdown halt (riskSettings.drawdownHalt): once the drawdown from the peak reaches the limit, every working
// order is cancelled and every position closed at market by the engine's own orders (OrderRole.DrawdownHalt); from
// then on the pre-trade checks refuse every other order.
public sealed partial class BacktestEngine
{
    private readonly double _drawdownHalt;
    private bool _halted;
    private long _haltedAt;

    private void CheckDrawdownHalt()
    {
        var limit = _drawdownHalt;
        if (_halted || limit <= 0 || _drawdown.CurrentDrawdown > -limit)
        {
            return;
        }

        _halted = true;
        _haltedAt = CurrentTime;
        for (var i = 0; i < _tradable; i++)
        {
            CancelWorking(i, includeProtective: true, OrderReasons.Halted);
            var quantity = Portfolio.Positions[i].Quantity;
            if (quantity != 0)
            {
                Submit(i, -quantity, OrderType.Market, 0, 0, TimeInForce.Gtc, OrderRole.DrawdownHalt.Tag(), OrderRole.DrawdownHalt);
            }
        }
    }
}
