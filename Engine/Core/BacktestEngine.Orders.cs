using Backtesting.Engine.Orders;

namespace Backtesting.Engine.Core;

// The working-order book: every order ever placed, the working ones per instrument, and the calls a strategy places
// and cancels orders through. A new order passes the pre-trade checks (PreTradeRisk) before it works; sized entries
// take their quantity from the PositionSizer.
public sealed partial class BacktestEngine
{
    private static readonly Predicate<Order> IsClosed = order => !order.IsOpen;
    // Per instrument, in order of submission: the orders still working.
    private readonly List<Order>[] _openOrders;
    private readonly OrderLog _allOrders = new();

    internal IReadOnlyList<Order> OpenOrders(int instrument) => _openOrders[instrument];

    private bool AnyOpenOrders()
    {
        foreach (var list in _openOrders)
        {
            if (list.Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A strategy's order: its tag is only a label, its role always <see cref="OrderRole.Strategy"/>.</summary>
    internal Order? Submit(int instrument, double quantity, OrderType type, double limitPrice, double stopPrice,
        TimeInForce timeInForce, string tag) =>
        Submit(instrument, quantity, type, limitPrice, stopPrice, timeInForce, tag, OrderRole.Strategy);

    private Order? Submit(int instrument, double quantity, OrderType type, double limitPrice, double stopPrice,
        TimeInForce timeInForce, string tag, OrderRole role)
    {
        if (IsWarmingUp || instrument < 0 || instrument >= _tradable || quantity == 0 || !double.IsFinite(quantity))
        {
            return null;
        }

        var order = _allOrders.Add(instrument, quantity, type, limitPrice, stopPrice, timeInForce, CurrentTime, tag, role);
        var reason = _preTradeRisk.Check(order, _halted);
        if (reason is not null)
        {
            Close(order, OrderStatus.Rejected, reason);
            return order;
        }

        _openOrders[instrument].Add(order);
        return order;
    }

    internal bool Cancel(Order order, string reason)
    {
        if (!order.IsOpen)
        {
            return false;
        }

        _openOrders[order.Instrument].Remove(order);
        Close(order, OrderStatus.Cancelled, reason);
        return true;
    }

    private void Close(Order order, OrderStatus status, string? reason)
    {
        order.Status = status;
        order.Reason = reason;
        order.ClosedAt = CurrentTime;
    }

    private void CancelWorking(int instrument, bool includeProtective, string reason)
    {
        var list = _openOrders[instrument];
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var order = list[i];
            if (includeProtective || !order.IsProtective)
            {
                list.RemoveAt(i);
                Close(order, OrderStatus.Cancelled, reason);
            }
        }
    }

    internal Order? Enter(int instrument, int direction, double weight, string tag)
    {
        var quantity = SizeFor(instrument, weight);
        if (quantity <= 0)
        {
            return RejectedSizing(instrument, direction, tag);
        }

        return Submit(instrument, direction * quantity, OrderType.Market, 0, 0, TimeInForce.Gtc, tag);
    }

    internal Order? Exit(int instrument, string tag)
    {
        CancelWorking(instrument, includeProtective: true, OrderReasons.ReplacedByExit);
        var quantity = Portfolio.Positions[instrument].Quantity;
        return quantity == 0 ? null : Submit(instrument, -quantity, OrderType.Market, 0, 0, TimeInForce.Gtc, tag);
    }

    internal Order? Target(int instrument, double weight, string tag)
    {
        CancelWorking(instrument, includeProtective: false, OrderReasons.ReplacedByRebalance);
        var target = weight == 0 ? 0 : Math.Sign(weight) * SizeFor(instrument, Math.Abs(weight));
        var delta = target - Portfolio.Positions[instrument].Quantity;
        var lot = LotSize(instrument);
        if (Math.Abs(delta) < lot - 1e-12)
        {
            return null;
        }

        return Submit(instrument, delta, OrderType.Market, 0, 0, TimeInForce.Gtc, tag);
    }

    private Order? RejectedSizing(int instrument, int direction, string tag)
    {
        if (IsWarmingUp)
        {
            return null;
        }

        var order = _allOrders.Add(instrument, direction, OrderType.Market, 0, 0, TimeInForce.Gtc, CurrentTime, tag, OrderRole.Strategy);
        Close(order, OrderStatus.Rejected, OrderReasons.BelowOneLot);
        return order;
    }

    /// <summary>The unsigned quantity the sizing rule gives for the instrument now, rounded down to whole lots.</summary>
    internal double SizeFor(int instrument, double weight)
    {
        var atr = _atr[instrument];
        return _sizer.Quantity(weight, _lastClose[instrument], _fxRate[instrument], Portfolio.Equity,
            atr is { IsReady: true } ? atr.Value : 0, LotSize(instrument));
    }

    private double LotSize(int instrument)
    {
        var lot = AllInstruments[instrument].LotSize;
        return lot > 0 ? lot : 1;
    }
}
