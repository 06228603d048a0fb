using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;

namespace Backtesting.Engine.Strategies;

/// <summary>
/// Base class of every strategy, template or custom. The engine calls the hooks in time order; a
/// strategy reads the portfolio and places orders through the protected members. Signals are taken on
/// a bar's close; when orders fill is the fill model's business, not the strategy's.
/// </summary>
public abstract class Strategy
{
    private BacktestEngine? _engine;

    internal void Attach(BacktestEngine engine) => _engine = engine;

    private BacktestEngine Engine => _engine ?? throw new InvalidOperationException("The strategy is not attached to an engine.");

    /// <summary>Called once before the first data point.</summary>
    public virtual void OnStart()
    {
    }

    /// <summary>Called for each bar, after working orders were matched against it.</summary>
    public virtual void OnBar(in MarketData bar)
    {
    }

    /// <summary>Called for each tick; by default a tick is handled like a bar, so bar strategies run on ticks.</summary>
    public virtual void OnTick(in MarketData tick) => OnBar(tick);

    /// <summary>Called once all instruments' points of one timestamp were seen (for cross-instrument decisions).</summary>
    public virtual void OnSliceEnd(DateTime time)
    {
    }

    /// <summary>Called after each fill of one of this strategy's or the engine's orders.</summary>
    public virtual void OnFill(in Fill fill)
    {
    }

    /// <summary>Called once after the last data point.</summary>
    public virtual void OnEnd()
    {
    }

    /// <summary>Rules across parameters (e.g. fast below slow); per-parameter types and ranges come from the schema.</summary>
    public virtual IEnumerable<ValidationError> ValidateParameters() => [];

    /// <summary>Bars needed before the strategy's indicators produce signals (for the warm-up setting's docs and checks).</summary>
    public virtual int WarmupBars => 0;

    // What a strategy can see.
    protected IReadOnlyList<Instrument> Instruments => Engine.Instruments;
    protected DateTime Time => new(Engine.CurrentTime, DateTimeKind.Utc);
    /// <summary>True while the engine replays bars before the start date; orders are not accepted then.</summary>
    protected bool IsWarmingUp => Engine.IsWarmingUp;
    protected double Equity => Engine.Portfolio.Equity;
    protected double Cash => Engine.Portfolio.Cash;
    protected Position Position(int instrument) => Engine.Portfolio.Positions[instrument];
    protected IReadOnlyList<Order> OpenOrders(int instrument) => Engine.OpenOrders(instrument);

    // What a strategy can do. Every call returns the order (or null when nothing was sent).
    protected Order? Buy(int instrument, double quantity, string tag = "") =>
        Engine.Submit(instrument, Math.Abs(quantity), OrderType.Market, 0, 0, TimeInForce.Gtc, tag);

    protected Order? Sell(int instrument, double quantity, string tag = "") =>
        Engine.Submit(instrument, -Math.Abs(quantity), OrderType.Market, 0, 0, TimeInForce.Gtc, tag);

    protected Order? SubmitOrder(int instrument, double signedQuantity, OrderType type, double limitPrice = 0,
        double stopPrice = 0, TimeInForce timeInForce = TimeInForce.Gtc, string tag = "") =>
        Engine.Submit(instrument, signedQuantity, type, limitPrice, stopPrice, timeInForce, tag);

    protected bool Cancel(Order order) => Engine.Cancel(order, OrderReasons.CancelledByStrategy);

    /// <summary>Opens or adds to a long position sized by the risk settings (weight scales the size).</summary>
    protected Order? EnterLong(int instrument, double weight = 1, string tag = "entry") =>
        Engine.Enter(instrument, +1, weight, tag);

    /// <summary>Opens or adds to a short position sized by the risk settings (needs a margin account).</summary>
    protected Order? EnterShort(int instrument, double weight = 1, string tag = "entry") =>
        Engine.Enter(instrument, -1, weight, tag);

    /// <summary>Cancels the instrument's working orders and closes its position at market.</summary>
    protected Order? ExitPosition(int instrument, string tag = "exit") => Engine.Exit(instrument, tag);

    /// <summary>Moves the position to the size that weight × the sizing rule gives (0 closes it).</summary>
    protected Order? TargetWeight(int instrument, double weight, string tag = "rebalance") =>
        Engine.Target(instrument, weight, tag);
}
