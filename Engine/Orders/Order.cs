namespace Backtesting.Engine.Orders;

public enum OrderType
{
    Market,
    Limit,
    Stop,
    StopLimit,
}

public enum TimeInForce
{
    /// <summary>Good for the first trading session the order can act in, then expires.</summary>
    Day,
    /// <summary>Good until cancelled.</summary>
    Gtc,
}

public enum OrderStatus
{
    Working,
    PartiallyFilled,
    Filled,
    Cancelled,
    Rejected,
    Expired,
}

/// <summary>
/// Why an order exists. Only the engine sets it: every order a strategy sends is <see cref="Strategy"/>, whatever
/// its tag says, so a strategy cannot borrow the exemptions of the engine's own orders (a bracket does not count
/// against the position limits; the drawdown halt's exits pass the halt).
/// </summary>
public enum OrderRole
{
    Strategy,
    StopLoss,
    TakeProfit,
    DrawdownHalt,
}

public static class OrderRoles
{
    /// <summary>The tag the engine gives its own orders (the orders' tag in results): stopLoss, takeProfit, drawdownHalt.</summary>
    public static string Tag(this OrderRole role) => role switch
    {
        OrderRole.StopLoss => "stopLoss",
        OrderRole.TakeProfit => "takeProfit",
        OrderRole.DrawdownHalt => "drawdownHalt",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "a strategy's order carries the strategy's own tag"),
    };
}

/// <summary>
/// An order as the engine tracks it. Quantity is signed: positive buys, negative sells.
/// A handle on the order's entry in the run's <see cref="OrderLog"/>: what the order is and how it ended live there,
/// once, in a compact record; this object holds only the working state matching needs. Mutable on purpose: fills
/// update the entry in place.
/// </summary>
public sealed class Order
{
    private readonly OrderLog _log;
    private readonly OrderEntry[] _chunk;
    private readonly int _slot;

    internal Order(OrderLog log, OrderEntry[] chunk, int slot, int id)
    {
        _log = log;
        _chunk = chunk;
        _slot = slot;
        Id = id;
    }

    /// <summary>A standalone order, in a log of its own: for checking an order outside a run.</summary>
    internal Order(int id, int instrument, double quantity, OrderType type, double limitPrice, double stopPrice,
        TimeInForce timeInForce, long submittedAt, string tag, OrderRole role = OrderRole.Strategy)
    {
        var logged = new OrderLog().Add(instrument, quantity, type, limitPrice, stopPrice, timeInForce, submittedAt, tag, role);
        (_log, _chunk, _slot, Id) = (logged._log, logged._chunk, logged._slot, id);
    }

    private ref OrderEntry Entry => ref _chunk[_slot];

    public int Id { get; }
    public int Instrument => Entry.Instrument;
    public double Quantity => Entry.Quantity;
    public OrderType Type => (OrderType)Entry.Type;
    /// <summary>Limit price (Limit and StopLimit), else 0.</summary>
    public double LimitPrice => _log.LimitPrice(Entry.Prices);
    /// <summary>Stop (trigger) price (Stop and StopLimit), else 0.</summary>
    public double StopPrice => _log.StopPrice(Entry.Prices);
    public TimeInForce TimeInForce => (TimeInForce)Entry.TimeInForce;
    public long SubmittedAt => Entry.SubmittedAt;
    /// <summary>A label: the strategy's tag, or for the engine's own orders their role's (stopLoss, takeProfit, drawdownHalt).</summary>
    public string Tag => _log.Text(Entry.Tag)!;
    /// <summary>Who placed it and why; the engine decides on this, never on the tag.</summary>
    public OrderRole Role => (OrderRole)Entry.Role;
    /// <summary>A stop-loss or take-profit of the engine's bracket.</summary>
    internal bool IsProtective => Role is OrderRole.StopLoss or OrderRole.TakeProfit;

    public OrderStatus Status
    {
        get => (OrderStatus)Entry.Status;
        internal set => Entry.Status = (byte)value;
    }

    public double FilledQuantity
    {
        get => Entry.FilledQuantity;
        internal set => Entry.FilledQuantity = value;
    }

    public double AveragePrice
    {
        get => Entry.AveragePrice;
        internal set => Entry.AveragePrice = value;
    }

    public double Commission
    {
        get => Entry.Commission;
        internal set => Entry.Commission = value;
    }

    public string? Reason
    {
        get => _log.Text(Entry.Reason);
        internal set => Entry.Reason = _log.Intern(value);
    }

    public long ClosedAt
    {
        get => Entry.ClosedAt;
        internal set => Entry.ClosedAt = value;
    }

    /// <summary>A stop-limit whose stop has been hit now behaves as a limit order.</summary>
    internal bool StopTriggered { get; set; }
    /// <summary>Local trading day the order first acted in (DAY orders expire after it).</summary>
    internal int SessionDay { get; set; } = -1;
    /// <summary>The protective order (stop-loss / take-profit) paired with this one: one cancels the other.</summary>
    internal Order? OcoPartner { get; set; }

    public bool IsBuy => Quantity > 0;
    public double RemainingQuantity => Quantity - FilledQuantity;
    public bool IsOpen => Status is OrderStatus.Working or OrderStatus.PartiallyFilled;
}

/// <summary>
/// One execution of (part of) an order. Price and slippage in the instrument's quote currency; commission in
/// the base currency; <paramref name="FxRate"/> converts quote into base at the time of the fill.
/// </summary>
public readonly record struct Fill(
    int OrderId,
    int Instrument,
    long Time,
    double Quantity,
    double Price,
    double Commission,
    double Slippage,
    double FxRate);
