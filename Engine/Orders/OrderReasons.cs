namespace Backtesting.Engine.Orders;

/// <summary>
/// Why the engine closed an order without filling it (or before it filled in full): the <see cref="Order.Reason"/> a
/// result shows. Words for people; the engine decides on an order's <see cref="OrderRole"/> and status, never on these.
/// The position limits' refusals carry their figures and are worded where they are checked (PreTradeRisk).
/// </summary>
public static class OrderReasons
{
    public const string Halted = "trading halted: drawdown limit reached";
    public const string NonPositivePrice = "limit and stop prices must be positive";
    public const string BelowOneLot = "position sizing gives less than one lot";
    public const string DayExpired = "DAY order expired at the end of its session";
    public const string CancelledByStrategy = "cancelled by strategy";
    public const string ReplacedByExit = "replaced by exit";
    public const string ReplacedByRebalance = "replaced by rebalance";
    public const string BracketPartnerFilled = "the other side of the bracket filled";
    public const string BracketReplaced = "bracket replaced after the position changed";
}
