using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Sizing;

namespace Backtesting.Engine.Core;

// Execution: working orders matched against each point (FillRules decides whether and at what price), the
// same-bar-close fills, and a fill applied to the account within the volume cap, slippage, commission and buying power.
public sealed partial class BacktestEngine
{
    // Reused by every walk over an instrument's working orders (a fill can cancel others under the walk).
    private readonly List<Order> _scratch = new();
    private readonly ChunkedList<Fill> _fills = new();
    private readonly bool _fillAtClose;
    private readonly double _participation;

    private void MatchOrders(in MarketData point, bool reducingOnly)
    {
        var list = _openOrders[point.Instrument];
        if (list.Count == 0)
        {
            return;
        }

        // Fills can cancel other orders (brackets, rejections), so walk a copy and prune afterwards.
        _scratch.Clear();
        _scratch.AddRange(list);
        OrderBracketPairs(point);
        foreach (var order in _scratch)
        {
            if (!order.IsOpen)
            {
                continue;
            }

            var position = Portfolio.Positions[point.Instrument].Quantity;
            var reduces = position != 0 && Math.Sign(order.Quantity) != Math.Sign(position);
            if (reduces != reducingOnly)
            {
                continue;
            }

            if (order.SessionDay < 0)
            {
                order.SessionDay = point.LocalDay;
            }
            else if (order.TimeInForce == TimeInForce.Day && point.LocalDay > order.SessionDay)
            {
                Close(order, OrderStatus.Expired, OrderReasons.DayExpired);
                continue;
            }

            var decision = FillRules.Evaluate(order, point);
            if (decision.Fills)
            {
                Execute(order, point, decision);
            }
        }

        list.RemoveAll(IsClosed);
    }

    private void FillNewMarketOrdersAtClose(in MarketData point)
    {
        var list = _openOrders[point.Instrument];
        if (list.Count == 0)
        {
            return;
        }

        var atClose = point;
        atClose.Open = atClose.High = atClose.Low = point.Close;
        atClose.Time = point.EndTime;
        if (point.Kind == MarketDataKind.QuoteTick)
        {
            atClose.Kind = MarketDataKind.TradeTick;
        }

        _scratch.Clear();
        _scratch.AddRange(list);
        foreach (var order in _scratch)
        {
            if (!order.IsOpen || order.Type != OrderType.Market || order.SubmittedAt != CurrentTime || order.FilledQuantity != 0)
            {
                continue;
            }

            order.SessionDay = point.LocalDay;
            Execute(order, atClose, new FillDecision(true, point.Close, true));
        }

        list.RemoveAll(IsClosed);
    }

    /// <summary>Fills (part of) an order, or closes it when the account refuses; the caller prunes closed orders.</summary>
    private void Execute(Order order, in MarketData point, FillDecision decision)
    {
        var instrument = order.Instrument;
        var remaining = order.RemainingQuantity;
        var quantity = remaining;
        var lot = LotSize(instrument);
        if (_participation > 0 && point.Volume > 0)
        {
            var cap = Lots.RoundDown(_participation * point.Volume, lot);
            if (cap < lot)
            {
                return;
            }

            quantity = Math.Sign(remaining) * Math.Min(Math.Abs(remaining), cap);
        }

        var price = decision.IsMarketable
            ? _spec.Slippage.Apply(decision.Price, quantity, point.Volume, AllInstruments[instrument].TickSize)
            : decision.Price;
        var fx = FxRate(instrument, point);
        var filledAfter = order.FilledQuantity + quantity;
        var valueAfter = order.AveragePrice * order.FilledQuantity + price * quantity;
        var commissionQuote = _spec.Commission.ForOrder(filledAfter, valueAfter) - order.Commission;
        var commissionBase = commissionQuote * fx;

        var refusal = Portfolio.CheckBuyingPower(instrument, quantity, price, fx, commissionBase);
        if (refusal is not null)
        {
            Close(order, order.FilledQuantity == 0 ? OrderStatus.Rejected : OrderStatus.Cancelled, refusal);
            return;
        }

        var before = Portfolio.Positions[instrument].Quantity;
        // A fill against a bar happens during it (at its open or at a level touched inside it): stamped at the
        // bar's start. Same-bar-close fills come with Time set to the close.
        var closed = Portfolio.Apply(instrument, point.Time, quantity, price, fx, commissionBase);
        order.AveragePrice = valueAfter / filledAfter;
        order.FilledQuantity = filledAfter;
        order.Commission += commissionQuote;
        order.Status = Math.Abs(order.RemainingQuantity) < 1e-12 ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
        if (order.Status == OrderStatus.Filled)
        {
            order.ClosedAt = CurrentTime;
        }

        var fill = new Fill(order.Id, instrument, point.Time, quantity, price, commissionBase, price - decision.Price, fx);
        _fills.Add(fill);
        if (closed >= 0 && !Silent && _observer is { } observer)
        {
            // The trade is kept as a compact entry: a Trade object is made only for the observer.
            observer.OnTradeClosed(Portfolio.Trades[closed]);
        }

        if (order.Status == OrderStatus.Filled)
        {
            CancelBracketPartner(order);
        }

        SyncProtectiveOrders(instrument, before);
        _strategy.OnFill(fill);
    }
}
