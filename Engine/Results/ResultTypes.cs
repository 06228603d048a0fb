using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Results;

public enum TradeSide
{
    Long,
    Short,
}

/// <summary>
/// A closed round trip: from the fill that opened a position (from flat) to the fill that brought it
/// back to flat or reversed it. Prices are quantity-weighted averages of the entry and exit fills.
/// </summary>
public sealed record Trade
{
    public required int Id { get; init; }
    public required string Instrument { get; init; }
    public required TradeSide Side { get; init; }
    public required double Quantity { get; init; }
    public required DateTime EntryTime { get; init; }
    public required double EntryPrice { get; init; }
    public required DateTime ExitTime { get; init; }
    public required double ExitPrice { get; init; }
    /// <summary>Net P&amp;L in the base currency, after commissions on entry and exit.</summary>
    public required double Pnl { get; init; }
    /// <summary>Net P&amp;L as a fraction of the entry value (both in the base currency).</summary>
    public required double ReturnPct { get; init; }
    /// <summary>Commission paid on the entry and exit fills, base currency.</summary>
    public required double Commission { get; init; }
    /// <summary>Maximum adverse excursion: worst unrealized P&amp;L while open, base currency (≤ 0).</summary>
    public required double Mae { get; init; }
    /// <summary>Maximum favourable excursion: best unrealized P&amp;L while open, base currency (≥ 0).</summary>
    public required double Mfe { get; init; }
    public required int BarsHeld { get; init; }
}

/// <summary>One point of the equity curve, base currency.</summary>
public readonly record struct EquityPoint(DateTime Time, double Equity, double Cash, double Drawdown);

/// <summary>End-of-day equity for one trading date, base currency.</summary>
public readonly record struct DailyEquity(DateOnly Date, double Equity);

/// <summary>
/// What an optimization trial keeps of a run: the metrics, the daily returns (E_t / E_{t-1} − 1, the initial balance
/// first), the closed trades' count, whether the run stopped early, the content hash; each equal to the full result's.
/// </summary>
public sealed record RunFigures(PerformanceMetrics Metrics, double[] DailyReturns, int TotalTrades, bool Partial, string ContentHash);
