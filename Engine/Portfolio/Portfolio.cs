using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Portfolio;

public enum AccountType
{
    /// <summary>No borrowing: buys need the cash, and no short selling.</summary>
    Cash,
    /// <summary>Borrowing and shorting up to the leverage limit on gross exposure.</summary>
    Margin,
}

/// <summary>
/// One instrument's netted position and the round trip it is part of. Prices in the instrument's quote
/// currency; cash flows and P&amp;L in the base currency at the FX rate of each fill.
/// </summary>
public sealed class Position
{
    internal Position(int index, Instrument instrument)
    {
        Index = index;
        Instrument = instrument;
        InstrumentId = instrument.Id;
    }

    public int Index { get; }
    public Instrument Instrument { get; }
    /// <summary><see cref="Data.Instrument.Id"/>, built once: Id is computed and each closed trade needs it.</summary>
    internal string InstrumentId { get; }
    public double Quantity { get; internal set; }
    /// <summary>Average cost of the open quantity, quote currency.</summary>
    public double AveragePrice { get; internal set; }
    public double LastPrice { get; internal set; }
    /// <summary>Base-currency units per quote-currency unit, as of the last mark.</summary>
    public double FxRate { get; internal set; } = 1;
    public bool IsOpen => Quantity != 0;
    public double MarketValue => Quantity * LastPrice * FxRate;
    public double UnrealizedPnl => Quantity * (LastPrice - AveragePrice) * FxRate;

    // The open round trip.
    internal long EntryTime;
    internal double EntryQuantity;
    internal double EntryValueQuote;
    internal double ExitQuantity;
    internal double ExitValueQuote;
    /// <summary>Sum of signed base-currency cash flows of the trade's fills, before commission.</summary>
    internal double TradeCashFlow;
    internal double EntryCostBase;
    internal double TradeCommission;
    internal double Mae;
    internal double Mfe;
    internal int BarsHeld;
    internal TradeSide Side;
}

/// <summary>
/// Cash and netted positions in the base currency. Equity is cash plus every position marked at its
/// last price; a short sale's proceeds sit in cash and the position's value is negative.
/// </summary>
public sealed class PortfolioState
{
    private readonly TradeLog _trades;
    // Positions with a non-zero quantity: every path that moves a quantity off or back to zero counts here.
    private int _openCount;

    public PortfolioState(IReadOnlyList<Instrument> instruments, double initialCash, AccountType accountType, double maxLeverage)
    {
        Positions = new Position[instruments.Count];
        for (var i = 0; i < instruments.Count; i++)
        {
            Positions[i] = new Position(i, instruments[i]);
        }

        _trades = new TradeLog(Positions);
        Cash = initialCash;
        InitialCash = initialCash;
        AccountType = accountType;
        MaxLeverage = maxLeverage;
    }

    public Position[] Positions { get; }
    public double Cash { get; private set; }
    public double InitialCash { get; }
    public AccountType AccountType { get; }
    public double MaxLeverage { get; }
    public IReadOnlyList<Trade> Trades => _trades;
    public int OpenPositionCount => _openCount;
    public double TotalCommission { get; private set; }
    /// <summary>Sum of |quantity × price| of every fill, base currency.</summary>
    public double TradedValue { get; private set; }

    public double Equity
    {
        get
        {
            var equity = Cash;
            if (_openCount == 0)
            {
                // Flat: nothing to add (asked once per slice, so worth skipping the walk over every position).
                return equity;
            }

            foreach (var p in Positions)
            {
                if (p.Quantity != 0)
                {
                    equity += p.Quantity * p.LastPrice * p.FxRate;
                }
            }

            return equity;
        }
    }

    public double GrossExposure
    {
        get
        {
            var gross = 0.0;
            foreach (var p in Positions)
            {
                if (p.Quantity != 0)
                {
                    gross += Math.Abs(p.Quantity * p.LastPrice * p.FxRate);
                }
            }

            return gross;
        }
    }

    public double UnrealizedPnl
    {
        get
        {
            var total = 0.0;
            foreach (var p in Positions)
            {
                if (p.Quantity != 0)
                {
                    total += p.UnrealizedPnl;
                }
            }

            return total;
        }
    }

    /// <summary>
    /// Why a fill of <paramref name="quantity"/> at <paramref name="price"/> would break the account's
    /// rules, or null when it is allowed. Reducing a position is always allowed.
    /// </summary>
    public string? CheckBuyingPower(int instrument, double quantity, double price, double fxRate, double commissionBase)
    {
        var position = Positions[instrument];
        var after = position.Quantity + quantity;
        var reduces = Math.Abs(after) < Math.Abs(position.Quantity) && Math.Sign(after) * Math.Sign(position.Quantity) >= 0;
        if (reduces)
        {
            return null;
        }

        var cost = quantity * price * fxRate;
        if (AccountType == AccountType.Cash)
        {
            if (after < 0)
            {
                return "short selling needs a margin account (accountType: margin)";
            }

            var needed = cost + commissionBase;
            if (needed > Cash + 1e-9)
            {
                return $"insufficient cash: needs {needed:F2}, has {Cash:F2}";
            }

            return null;
        }

        // Margin: gross exposure after the fill must stay within maxLeverage × equity.
        var grossOther = GrossExposure - Math.Abs(position.Quantity * position.LastPrice * position.FxRate);
        var grossAfter = grossOther + Math.Abs(after * price * fxRate);
        var equityAfter = Equity - commissionBase + position.Quantity * (price - position.LastPrice) * fxRate;
        if (equityAfter <= 0 || grossAfter > MaxLeverage * equityAfter + 1e-6)
        {
            return $"exceeds buying power: gross exposure {grossAfter:F2} > {MaxLeverage:G} × equity {equityAfter:F2}";
        }

        return null;
    }

    /// <summary>Applies one fill; closes (and returns) the round trip when the position returns to flat or reverses.</summary>
    public Trade? ApplyFill(int instrument, long time, double quantity, double price, double fxRate, double commissionBase)
    {
        var closed = Apply(instrument, time, quantity, price, fxRate, commissionBase);
        return closed < 0 ? null : _trades[closed];
    }

    /// <summary>Applies one fill; the index in <see cref="Trades"/> of the round trip it closed, else -1.</summary>
    internal int Apply(int instrument, long time, double quantity, double price, double fxRate, double commissionBase)
    {
        var p = Positions[instrument];
        p.LastPrice = price;
        p.FxRate = fxRate;
        Cash -= quantity * price * fxRate + commissionBase;
        TotalCommission += commissionBase;
        TradedValue += Math.Abs(quantity * price * fxRate);

        var before = p.Quantity;
        var after = before + quantity;
        var closed = -1;

        if (before != 0 && Math.Sign(after) != Math.Sign(before))
        {
            // Closes the trade (and maybe opens the reverse one with the rest of the fill).
            var closingQuantity = -before;
            var share = closingQuantity / quantity;
            AddExit(p, closingQuantity, price, fxRate, commissionBase * share);
            closed = CloseTrade(p, time);
            p.Quantity = 0;
            p.AveragePrice = 0;
            _openCount--;
            var rest = quantity - closingQuantity;
            if (rest != 0)
            {
                OpenTrade(p, time, rest, price, fxRate, commissionBase * (1 - share));
            }
        }
        else if (before == 0)
        {
            OpenTrade(p, time, quantity, price, fxRate, commissionBase);
        }
        else if (Math.Abs(after) > Math.Abs(before))
        {
            p.AveragePrice = (p.AveragePrice * Math.Abs(before) + price * Math.Abs(quantity)) / Math.Abs(after);
            p.Quantity = after;
            p.EntryQuantity += Math.Abs(quantity);
            p.EntryValueQuote += Math.Abs(quantity) * price;
            p.EntryCostBase += Math.Abs(quantity * price * fxRate);
            p.TradeCashFlow -= quantity * price * fxRate;
            p.TradeCommission += commissionBase;
        }
        else
        {
            AddExit(p, quantity, price, fxRate, commissionBase);
            p.Quantity = after;
        }

        return closed;
    }

    private void OpenTrade(Position p, long time, double quantity, double price, double fxRate, double commissionBase)
    {
        p.Quantity = quantity;
        p.AveragePrice = price;
        p.Side = quantity > 0 ? TradeSide.Long : TradeSide.Short;
        p.EntryTime = time;
        p.EntryQuantity = Math.Abs(quantity);
        p.EntryValueQuote = Math.Abs(quantity) * price;
        p.EntryCostBase = Math.Abs(quantity * price * fxRate);
        p.ExitQuantity = 0;
        p.ExitValueQuote = 0;
        p.TradeCashFlow = -quantity * price * fxRate;
        p.TradeCommission = commissionBase;
        p.Mae = 0;
        p.Mfe = 0;
        p.BarsHeld = 0;
        _openCount++;
    }

    private static void AddExit(Position p, double quantity, double price, double fxRate, double commissionBase)
    {
        p.ExitQuantity += Math.Abs(quantity);
        p.ExitValueQuote += Math.Abs(quantity) * price;
        p.TradeCashFlow -= quantity * price * fxRate;
        p.TradeCommission += commissionBase;
    }

    private int CloseTrade(Position p, long time)
    {
        var pnl = p.TradeCashFlow - p.TradeCommission;
        return _trades.Add(new TradeEntry
        {
            Instrument = p.Index,
            Side = p.Side,
            Quantity = p.EntryQuantity,
            EntryTime = p.EntryTime,
            EntryPrice = p.EntryValueQuote / p.EntryQuantity,
            ExitTime = time,
            ExitPrice = p.ExitValueQuote / p.ExitQuantity,
            Pnl = pnl,
            ReturnPct = p.EntryCostBase > 0 ? pnl / p.EntryCostBase : 0,
            Commission = p.TradeCommission,
            Mae = Math.Min(0, p.Mae),
            Mfe = Math.Max(0, p.Mfe),
            BarsHeld = p.BarsHeld,
        });
    }

    /// <summary>Marks a position at a bar: last price, FX rate, and the trade's excursions over the bar's range.</summary>
    internal void Mark(int instrument, in MarketData point, double fxRate)
    {
        var p = Positions[instrument];
        p.LastPrice = point.Close;
        p.FxRate = fxRate;
        if (p.Quantity == 0)
        {
            return;
        }

        var worst = p.Quantity > 0 ? point.Low : point.High;
        var best = p.Quantity > 0 ? point.High : point.Low;
        var adverse = p.Quantity * (worst - p.AveragePrice) * fxRate;
        var favourable = p.Quantity * (best - p.AveragePrice) * fxRate;
        if (adverse < p.Mae)
        {
            p.Mae = adverse;
        }

        if (favourable > p.Mfe)
        {
            p.Mfe = favourable;
        }

        p.BarsHeld++;
    }
}
