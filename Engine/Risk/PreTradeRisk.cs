using Backtesting.Engine.Configuration;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;

namespace Backtesting.Engine.Risk;

/// <summary>
/// The checks an order passes before it joins the working orders; buying power is the account's business at the
/// fill. In order: once the drawdown halt struck, only the halt's own exits pass; limit and stop prices must be
/// positive; and an order that enlarges its instrument's exposure (the position plus the entries still working) must
/// stay within riskSettings.limits. An order that reduces passes the limits, and the engine's bracket orders neither
/// count as working entries nor are ever judged against the limits.
/// </summary>
public sealed class PreTradeRisk
{
    // Tolerances that keep a position sized exactly at a limit inside it despite binary rounding.
    private const double QuantityTolerance = 1e-9;
    private const double ValueTolerance = 1e-6;

    private readonly RiskLimits _limits;
    private readonly PortfolioState _portfolio;
    private readonly IReadOnlyList<IReadOnlyList<Order>> _working;
    private readonly IReadOnlyList<double> _lastClose;
    private readonly IReadOnlyList<double> _fxRate;
    private readonly int _tradable;

    /// <param name="limits">riskSettings.limits.</param>
    /// <param name="portfolio">The account the positions are read from.</param>
    /// <param name="working">The working orders, per instrument (read as they are when an order is checked).</param>
    /// <param name="lastClose">The last close per instrument, quote currency (0 when none yet).</param>
    /// <param name="fxRate">The quote-to-base rate per instrument.</param>
    /// <param name="tradable">How many instruments, from the first, the strategy trades (the rest is the benchmark).</param>
    public PreTradeRisk(RiskLimits limits, PortfolioState portfolio, IReadOnlyList<IReadOnlyList<Order>> working,
        IReadOnlyList<double> lastClose, IReadOnlyList<double> fxRate, int tradable)
    {
        _limits = limits;
        _portfolio = portfolio;
        _working = working;
        _lastClose = lastClose;
        _fxRate = fxRate;
        _tradable = tradable;
    }

    /// <summary>Why the order is refused, or null when it may work.</summary>
    /// <param name="order">The new order, not yet among the working orders.</param>
    /// <param name="halted">Whether the drawdown halt has struck.</param>
    public string? Check(Order order, bool halted)
    {
        if (halted && order.Role != OrderRole.DrawdownHalt)
        {
            return OrderReasons.Halted;
        }

        if ((order.Type is OrderType.Limit or OrderType.StopLimit && !(order.LimitPrice > 0))
            || (order.Type is OrderType.Stop or OrderType.StopLimit && !(order.StopPrice > 0)))
        {
            return OrderReasons.NonPositivePrice;
        }

        var instrument = order.Instrument;
        var position = _portfolio.Positions[instrument].Quantity;
        var pending = 0.0;
        var working = _working[instrument];
        for (var i = 0; i < working.Count; i++)
        {
            if (!working[i].IsProtective)
            {
                pending += working[i].RemainingQuantity;
            }
        }

        var after = position + pending + order.Quantity;
        var increases = Math.Abs(after) > Math.Abs(position + pending);
        if (!increases)
        {
            return null;
        }

        var limits = _limits;
        if (limits.MaxPositionQuantity > 0 && Math.Abs(after) > limits.MaxPositionQuantity + QuantityTolerance)
        {
            return $"position limit: |{after:G}| exceeds maxPositionQuantity {limits.MaxPositionQuantity:G}";
        }

        var price = _lastClose[instrument];
        if (limits.MaxPositionPercent > 0 && price > 0)
        {
            var value = Math.Abs(after * price * _fxRate[instrument]);
            var cap = limits.MaxPositionPercent * _portfolio.Equity;
            if (value > cap + ValueTolerance)
            {
                return $"position limit: value {value:F2} exceeds maxPositionPercent {limits.MaxPositionPercent:G} of equity ({cap:F2})";
            }
        }

        if (limits.MaxOpenPositions > 0 && position == 0 && pending == 0)
        {
            var holding = 0;
            for (var i = 0; i < _tradable; i++)
            {
                if (_portfolio.Positions[i].Quantity != 0 || HasWorkingEntry(i))
                {
                    holding++;
                }
            }

            if (holding >= limits.MaxOpenPositions)
            {
                return $"position limit: already {holding} open positions (maxOpenPositions {limits.MaxOpenPositions})";
            }
        }

        return null;
    }

    private bool HasWorkingEntry(int instrument)
    {
        var working = _working[instrument];
        for (var i = 0; i < working.Count; i++)
        {
            if (!working[i].IsProtective)
            {
                return true;
            }
        }

        return false;
    }
}
