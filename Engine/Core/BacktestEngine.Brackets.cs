using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Orders;

namespace Backtesting.Engine.Core;

// Brackets: with riskSettings.stops, every change of a position replaces its stop-loss and take-profit, a
// one-cancels-the-other pair the engine owns (OrderRole.StopLoss, OrderRole.TakeProfit) at prices on the tick grid.
public sealed partial class BacktestEngine
{
    /// <summary>
    /// When one point reaches both sides of a bracket, the side that must act first comes first in the walk
    /// (<see cref="FillRules.PartnerFirst"/>: the side the point opened through, else the stop); its fill then cancels
    /// the other. Without a bracket the order of submission stands.
    /// </summary>
    private void OrderBracketPairs(in MarketData point)
    {
        for (var i = 0; i < _scratch.Count; i++)
        {
            if (_scratch[i].OcoPartner is not { IsOpen: true } partner)
            {
                continue;
            }

            var j = _scratch.IndexOf(partner, i + 1);
            if (j > i && FillRules.PartnerFirst(_scratch[i], partner, point))
            {
                (_scratch[i], _scratch[j]) = (partner, _scratch[i]);
            }
        }
    }

    /// <summary>A bracket order filled in full: its partner has nothing left to protect.</summary>
    private void CancelBracketPartner(Order filled)
    {
        if (filled.OcoPartner is { } partner)
        {
            Cancel(partner, OrderReasons.BracketPartnerFilled);
        }
    }

    /// <summary>Keeps the stop-loss / take-profit bracket in line with the position after a fill.</summary>
    private void SyncProtectiveOrders(int instrument, double before)
    {
        var stops = _risk.Stops;
        if (stops.StopLossPercent <= 0 && stops.TakeProfitPercent <= 0)
        {
            return;
        }

        var position = Portfolio.Positions[instrument];
        if (position.Quantity == before)
        {
            return;
        }

        var list = _openOrders[instrument];
        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (list[i].IsProtective)
            {
                var order = list[i];
                list.RemoveAt(i);
                if (order.IsOpen)
                {
                    Close(order, OrderStatus.Cancelled, OrderReasons.BracketReplaced);
                }
            }
        }

        if (position.Quantity == 0)
        {
            return;
        }

        var direction = Math.Sign(position.Quantity);
        var average = position.AveragePrice;
        Order? stopLoss = null;
        Order? takeProfit = null;
        if (stops.StopLossPercent > 0)
        {
            stopLoss = _allOrders.Add(instrument, -position.Quantity, OrderType.Stop, 0,
                RoundToTick(average * (1 - direction * stops.StopLossPercent), instrument), TimeInForce.Gtc, CurrentTime, OrderRole.StopLoss.Tag(), OrderRole.StopLoss);
        }

        if (stops.TakeProfitPercent > 0)
        {
            takeProfit = _allOrders.Add(instrument, -position.Quantity, OrderType.Limit,
                RoundToTick(average * (1 + direction * stops.TakeProfitPercent), instrument), 0, TimeInForce.Gtc, CurrentTime, OrderRole.TakeProfit.Tag(), OrderRole.TakeProfit);
        }

        if (stopLoss is not null && takeProfit is not null)
        {
            stopLoss.OcoPartner = takeProfit;
            takeProfit.OcoPartner = stopLoss;
        }

        foreach (var order in new[] { stopLoss, takeProfit })
        {
            if (order is not null)
            {
                // The bracket acts from the next point of the instrument, never on the bar that opened it.
                order.SessionDay = -1;
                list.Add(order);
            }
        }
    }

    /// <summary>Protective prices sit on the instrument's tick grid (decimal arithmetic avoids 110.00000000000001).</summary>
    private double RoundToTick(double price, int instrument)
    {
        var tick = (decimal)AllInstruments[instrument].TickSize;
        return tick > 0 ? (double)(Math.Round((decimal)price / tick, MidpointRounding.AwayFromZero) * tick) : price;
    }
}
