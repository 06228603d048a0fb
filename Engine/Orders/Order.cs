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
/// Mutable on purpose: it lives in the engine's working set and is updated in place by fills.
/// </summary>
public sealed class Order
{
    internal Order(int id, int instrument, double quantity, OrderType type, double limitPrice,
        double stopPrice, TimeInForce timeInForce, long submittedAt, string tag, OrderRole role = OrderRole.Strategy)
    {
        Id = id;
        Instrument = instrument;
        Quantity = quantity;
        Type = type;
        LimitPrice = limitPrice;
        StopPrice = stopPrice;
        TimeInForce = timeInForce;
        SubmittedAt = submittedAt;
        Tag = tag;
        Role = role;
    }

    public int Id { get; }
    public int Instrument { get; }
    public double Quantity { get; }
    public OrderType Type { get; }
    /// <summary>Limit price (Limit and StopLimit), else 0.</summary>
    public double LimitPrice { get; }
    /// <summary>Stop (trigger) price (Stop and StopLimit), else 0.</summary>
    public double StopPrice { get; }
    public TimeInForce TimeInForce { get; }
    public long SubmittedAt { get; }
    /// <summary>A label: the strategy's tag, or for the engine's own orders their role's (stopLoss, takeProfit, drawdownHalt).</summary>
    public string Tag { get; }
    /// <summary>Who placed it and why; the engine decides on this, never on the tag.</summary>
    public OrderRole Role { get; }
    /// <summary>A stop-loss or take-profit of the engine's bracket.</summary>
    internal bool IsProtective => Role is OrderRole.StopLoss or OrderRole.TakeProfit;

    public OrderStatus Status { get; internal set; } = OrderStatus.Working;
    public double FilledQuantity { get; internal set; }
    public double AveragePrice { get; internal set; }
    public double Commission { get; internal set; }
    public string? Reason { get; internal set; }
    public long ClosedAt { get; internal set; }
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
