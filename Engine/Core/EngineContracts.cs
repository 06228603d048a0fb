using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Core;

// What goes into and comes out of a BacktestEngine: the options a caller sets, the observer it is told through while
// the run goes, and the outcome it gets at the end.

/// <summary>Where the run is, for progress reports and checkpoints.</summary>
public readonly record struct EngineProgress(
    long ProcessedPoints,
    long TotalPoints,
    long CurrentTime,
    int CurrentDay,
    double Equity,
    double Cash,
    double UnrealizedPnl,
    double Drawdown,
    int TradesClosed);

/// <summary>Receives what the engine produces while it runs. Calls come on the engine's thread.</summary>
public interface IBacktestObserver
{
    /// <summary>Called every few thousand points and at the end; the observer decides what to report.</summary>
    void OnHeartbeat(in EngineProgress progress);

    void OnTradeClosed(Trade trade);

    /// <summary>Called when a trading day's end-of-day equity is known.</summary>
    void OnDailyEquity(DailyEquity point, double drawdown);
}

public sealed record EngineOptions
{
    /// <summary>Most per-bar equity points kept; beyond it the curve is thinned evenly (daily points are always kept).</summary>
    public int MaxEquityPoints { get; init; } = 10_000;
    /// <summary>Points between heartbeats (and cancellation checks).</summary>
    public int HeartbeatInterval { get; init; } = 4096;
    /// <summary>Run silently (no observer calls) until this many points were processed: resuming from a checkpoint.</summary>
    public long SilentUntil { get; init; }
}

/// <summary>What a run produced, before metrics and packaging.</summary>
public sealed record EngineOutcome
{
    public required PortfolioState Portfolio { get; init; }
    public required IReadOnlyList<Order> Orders { get; init; }
    public required IReadOnlyList<Fill> Fills { get; init; }
    public required IReadOnlyList<EquityPoint> EquityCurve { get; init; }
    public required IReadOnlyList<DailyEquity> DailyEquity { get; init; }
    public required IReadOnlyList<DailyEquity> BenchmarkDaily { get; init; }
    public required DrawdownTracker Drawdown { get; init; }
    public required long ProcessedPoints { get; init; }
    public required double Exposure { get; init; }
    public required bool Cancelled { get; init; }
    public required DateTime? HaltedAt { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public required IReadOnlyList<Instrument> AllInstruments { get; init; }
    public required double[] LastCloses { get; init; }
}
