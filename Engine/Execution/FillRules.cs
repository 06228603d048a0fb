using Backtesting.Engine.Data;
using Backtesting.Engine.Orders;

namespace Backtesting.Engine.Execution;

/// <summary>Where an order fills against one bar or tick, before slippage and volume limits.</summary>
public readonly record struct FillDecision(bool Fills, double Price, bool IsMarketable)
{
    public static readonly FillDecision NoFill = new(false, 0, false);
}

/// <summary>
/// The fill rules for working orders against the next market data point of their instrument.
/// Bars: market orders fill at the open; limits and stops trigger on the bar's high/low and fill at
/// their price, or at the open when the price gapped through it. Ticks: prices are the trade price,
/// or the ask for buys and the bid for sells on quotes. Marketable fills (market orders and triggered
/// stops) take slippage; limit fills do not.
/// </summary>
public static class FillRules
{
    public static FillDecision Evaluate(Order order, in MarketData point)
    {
        var buy = order.IsBuy;
        double open, high, low;
        if (point.Kind == MarketDataKind.QuoteTick)
        {
            // A buyer meets the ask, a seller the bid.
            var side = buy ? point.Ask : point.Bid;
            if (side <= 0)
            {
                return FillDecision.NoFill;
            }

            open = high = low = side;
        }
        else
        {
            open = point.Open;
            high = point.High;
            low = point.Low;
        }

        switch (order.Type)
        {
            case OrderType.Market:
                return new FillDecision(true, open, true);

            case OrderType.Limit:
                return EvaluateLimit(buy, order.LimitPrice, open, high, low);

            case OrderType.Stop:
                if (buy)
                {
                    if (open >= order.StopPrice)
                    {
                        return new FillDecision(true, open, true);
                    }

                    return high >= order.StopPrice ? new FillDecision(true, order.StopPrice, true) : FillDecision.NoFill;
                }

                if (open <= order.StopPrice)
                {
                    return new FillDecision(true, open, true);
                }

                return low <= order.StopPrice ? new FillDecision(true, order.StopPrice, true) : FillDecision.NoFill;

            case OrderType.StopLimit:
                return EvaluateStopLimit(order, buy, open, high, low);

            default:
                return FillDecision.NoFill;
        }
    }

    /// <summary>
    /// Whether, of two one-cancels-the-other orders (a bracket's stop-loss and take-profit), <paramref name="partner"/>
    /// must act before <paramref name="order"/> on this point, when both could fill on it. The open-gap rule decides
    /// first: a point that opens at or beyond one order's level fills that order, at the open, before anything else
    /// happens in the bar. A bar that opens between the two levels and reaches both: the path inside the bar is
    /// unknown, so the conservative choice is taken, the stop (the adverse exit) first. A stop-limit is left in the
    /// order given, since evaluating it arms its trigger.
    /// </summary>
    public static bool PartnerFirst(Order order, Order partner, in MarketData point)
    {
        if (order.Type == OrderType.StopLimit || partner.Type == OrderType.StopLimit
            || !Evaluate(partner, point).Fills || !Evaluate(order, point).Fills)
        {
            return false;
        }

        var orderAtOpen = ReachedAtOpen(order, point);
        var partnerAtOpen = ReachedAtOpen(partner, point);
        if (orderAtOpen != partnerAtOpen)
        {
            return partnerAtOpen;
        }

        return partner.Type == OrderType.Stop && order.Type != OrderType.Stop;
    }

    /// <summary>Whether the point's opening price (for a quote, the side the order trades against) reaches the order's level.</summary>
    private static bool ReachedAtOpen(Order order, in MarketData point)
    {
        var buy = order.IsBuy;
        var open = point.Kind == MarketDataKind.QuoteTick ? (buy ? point.Ask : point.Bid) : point.Open;
        return order.Type switch
        {
            OrderType.Market => true,
            OrderType.Limit => buy ? open <= order.LimitPrice : open >= order.LimitPrice,
            OrderType.Stop => buy ? open >= order.StopPrice : open <= order.StopPrice,
            _ => false,
        };
    }

    private static FillDecision EvaluateLimit(bool buy, double limit, double open, double high, double low)
    {
        if (buy)
        {
            if (open <= limit)
            {
                return new FillDecision(true, open, false);
            }

            return low <= limit ? new FillDecision(true, limit, false) : FillDecision.NoFill;
        }

        if (open >= limit)
        {
            return new FillDecision(true, open, false);
        }

        return high >= limit ? new FillDecision(true, limit, false) : FillDecision.NoFill;
    }

    private static FillDecision EvaluateStopLimit(Order order, bool buy, double open, double high, double low)
    {
        if (order.StopTriggered)
        {
            return EvaluateLimit(buy, order.LimitPrice, open, high, low);
        }

        var stop = order.StopPrice;
        var triggeredAtOpen = buy ? open >= stop : open <= stop;
        if (triggeredAtOpen)
        {
            order.StopTriggered = true;
            return EvaluateLimit(buy, order.LimitPrice, open, high, low);
        }

        var triggeredIntrabar = buy ? high >= stop : low <= stop;
        if (!triggeredIntrabar)
        {
            return FillDecision.NoFill;
        }

        order.StopTriggered = true;
        // Triggered inside the bar: the limit is marketable at the stop price only when it allows it.
        // When the limit is beyond the stop, the bar's path after the trigger is unknown, so the order
        // conservatively waits for the next bar as a plain limit.
        var limitAllowsStop = buy ? order.LimitPrice >= stop : order.LimitPrice <= stop;
        return limitAllowsStop ? new FillDecision(true, stop, false) : FillDecision.NoFill;
    }
}
