using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Results;

/// <summary>
/// Everything a run produced, as written to results.json. Holds no wall-clock figures, so the same config
/// and data give byte-identical results.
/// </summary>
public sealed record BacktestResult
{
    public required string EngineVersion { get; init; }
    /// <summary>SHA-256 over the normalized config, the data version and the engine version.</summary>
    public required string ContentHash { get; init; }
    /// <summary>True when the run was stopped before the end of its data (cancel, SIGTERM, timeout).</summary>
    public required bool Partial { get; init; }
    public required BacktestConfig Config { get; init; }
    public required ResultSummary Summary { get; init; }
    public required PerformanceMetrics Metrics { get; init; }
    public required IReadOnlyList<Trade> Trades { get; init; }
    public required IReadOnlyList<EquityPoint> EquityCurve { get; init; }
    public required IReadOnlyList<DailyEquity> DailyEquity { get; init; }
    public required IReadOnlyList<DailyReturn> DailyReturns { get; init; }
    public required BenchmarkResult Benchmark { get; init; }
    public required IReadOnlyList<MonthlyReturn> MonthlyReturns { get; init; }
    public required IReadOnlyList<OrderRecord> Orders { get; init; }
    public required IReadOnlyList<FillRecord> Fills { get; init; }
    public required IReadOnlyList<InstrumentBreakdown> PerInstrument { get; init; }
    public required IReadOnlyList<OpenPosition> OpenPositions { get; init; }
    public required IReadOnlyList<DataQualityCounts> DataQuality { get; init; }
    /// <summary>Where exchange rates came from, or "none needed".</summary>
    public required string FxRateSource { get; init; }
    /// <summary>Plain-language notes on how to read the results (open positions, halts, thinning).</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}

public sealed record ResultSummary(
    string Strategy,
    IReadOnlyList<string> Instruments,
    string StartDate,
    string EndDate,
    string BaseCurrency,
    double InitialBalance,
    double FinalBalance,
    double TotalReturn,
    double MaxDrawdown,
    int TotalTrades,
    int OpenPositions,
    long ProcessedBars,
    string? HaltedAt);

public readonly record struct DailyReturn(DateOnly Date, double Return);

public sealed record BenchmarkResult(string Instrument, double TotalReturn, IReadOnlyList<DailyEquity> EquityCurve);

public sealed record OrderRecord(
    int Id,
    string Instrument,
    string Side,
    string Type,
    double Quantity,
    double? LimitPrice,
    double? StopPrice,
    string TimeInForce,
    DateTime SubmittedAt,
    string Status,
    double FilledQuantity,
    double? AveragePrice,
    double Commission,
    string? Reason,
    string Tag);

public sealed record FillRecord(int OrderId, string Instrument, DateTime Time, double Quantity, double Price, double Commission, double Slippage);

public sealed record InstrumentBreakdown(
    string Instrument,
    int Trades,
    double NetPnl,
    double WinRate,
    double Commission,
    double TradedValue,
    double FinalQuantity,
    double UnrealizedPnl);

/// <summary>A position still open when the data ended: marked to the last close, not closed.</summary>
public sealed record OpenPosition(
    string Instrument,
    string Side,
    double Quantity,
    double AveragePrice,
    double LastPrice,
    double MarketValue,
    double UnrealizedPnl,
    DateTime EntryTime);
