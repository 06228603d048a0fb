using System.Text.Json.Serialization;

namespace Backtesting.Engine.Protocol;

// The seed's progress contract, camelCase on the wire: one home for the worker's stdout lines, the
// grains' streams and the API's SignalR/WebSocket messages. Every message is
// { "type": ..., "backtestId": ..., "timestamp": ..., "data": {...} }.

public static class MessageTypes
{
    public const string Progress = "backtest_progress";
    public const string Error = "backtest_error";
    public const string Complete = "backtest_complete";
    /// <summary>Closed trades (<see cref="TradeBatchData"/>), sent as they happen, in small batches, so clients can list trades live.</summary>
    public const string Trade = "backtest_trade";
    /// <summary>End-of-day equity points (<see cref="EquityBatchData"/>), sent as they happen, in small batches, so clients can draw the curve live.</summary>
    public const string Equity = "backtest_equity";
    /// <summary>Where a run's time went (<see cref="BacktestTimingsData"/>), printed once by <c>--timings</c>: a diagnostic, never an error.</summary>
    public const string Timings = "backtest_timings";
}

/// <summary>
/// The split of a run's wall time, in milliseconds: start-up (process start to the engine's start, less data time),
/// data (opening, building and reading market data, and its data versions), engine (the run less its data time),
/// results (writing results.json) and total (process start to this line). Then the JIT's work, which a loaded host
/// changes far less than it changes wall time: the methods the JIT compiled and the time it spent compiling them, by
/// the engine's start and by this line (the process's figures; in a host that runs the worker in-process, the host's).
/// </summary>
public sealed record BacktestTimingsData(double StartupMs, double DataMs, double EngineMs, double ResultsMs, double TotalMs,
    long StartupJitMethods = 0, double StartupJitMs = 0, long JitMethods = 0, double JitMs = 0);

public sealed record BacktestMessage<TData>(
    string Type,
    string BacktestId,
    DateTime Timestamp,
    TData Data);

public sealed record ProgressInfo(
    double Percentage,
    string CurrentDate,
    long ProcessedBars,
    long TotalBars,
    double EstimatedTimeRemaining,
    double ProcessingRate);

public sealed record StatisticsInfo(
    int TradesExecuted,
    double CurrentBalance,
    double UnrealizedPnl,
    double Drawdown);

/// <param name="MemoryUsage">MB.</param>
/// <param name="CpuUsage">Percent of one core.</param>
/// <param name="DiskIO">MB/s read and written.</param>
public sealed record PerformanceInfo(
    double MemoryUsage,
    double CpuUsage,
    double DiskIO);

public sealed record BacktestProgressData(
    ProgressInfo Progress,
    StatisticsInfo Statistics,
    PerformanceInfo Performance)
{
    /// <summary>The progress of a backtest that has not reported any yet: all zeros.</summary>
    public static readonly BacktestProgressData None = new(
        new ProgressInfo(0, "", 0, 0, 0, 0), new StatisticsInfo(0, 0, 0, 0), new PerformanceInfo(0, 0, 0));
}

public static class ErrorTypes
{
    public const string Validation = "validation";
    public const string Execution = "execution";
    public const string Data = "data";
    public const string Timeout = "timeout";
    public const string Memory = "memory";
}

public sealed record BacktestErrorDetails(
    string? StackTrace,
    string? FailedAtDate,
    string? FailedInstrument,
    bool Recoverable,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<Strategies.ValidationError>? ValidationErrors = null);

public sealed record BacktestErrorData(
    string ErrorType,
    string ErrorMessage,
    BacktestErrorDetails? ErrorDetails);

public sealed record CompletionSummary(
    int TotalTrades,
    double FinalBalance,
    double TotalReturn,
    double MaxDrawdown);

/// <summary>The status of a <c>backtest_complete</c> message: the words of the lifecycle's end states.</summary>
public static class CompletionStatus
{
    public const string Completed = LifecycleWords.Completed;
    public const string Cancelled = LifecycleWords.Cancelled;
    public const string Failed = LifecycleWords.Failed;
}

public sealed record BacktestCompleteData(
    string Status,
    double ExecutionTime,
    CompletionSummary Summary,
    string ResultsUrl,
    bool Partial = false);

public sealed record EquityUpdateData(string Date, double Equity, double Drawdown);

/// <summary>The data of a <c>backtest_trade</c> line: trades closed since the previous one, in order.</summary>
public sealed record TradeBatchData(IReadOnlyList<Results.Trade> Trades);

/// <summary>
/// The data of a <c>backtest_equity</c> line: end-of-day equity since the previous one, in date order, as three columns
/// of equal length; point i is (<c>dates[i]</c>, <c>equity[i]</c>, <c>drawdown[i]</c>). Columns, because the property
/// names repeated in every point were half of its bytes, and every live byte goes to every subscriber.
/// </summary>
public sealed record EquityBatchData(IReadOnlyList<string> Dates, IReadOnlyList<double> Equity, IReadOnlyList<double> Drawdown)
{
    public static EquityBatchData Of(IReadOnlyList<EquityUpdateData> points) => new(
        points.Select(p => p.Date).ToArray(), points.Select(p => p.Equity).ToArray(), points.Select(p => p.Drawdown).ToArray());
}
