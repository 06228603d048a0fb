using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Logging;

namespace Backtesting.Grains;

// The backtest grain's log messages, source-generated.
public sealed partial class BacktestGrain
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Backtest {Id}: the runner refused to {Action} the run")]
    private partial void LogRunnerRefused(Exception exception, Guid id, string action);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Backtest {Id} lost its run ({State}); restarting from its checkpoint")]
    private partial void LogRunLost(Guid id, BacktestState state);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Backtest {Id} cannot start: {Reason}")]
    private partial void LogRunnerUnavailable(Guid id, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Backtest {Id} cannot run its custom strategy: {Reason}")]
    private partial void LogCustomStrategyRefused(Guid id, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Backtest {Id}: {Reason}")]
    private partial void LogProtocolBroken(Guid id, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "Supervising backtest {Id} failed")]
    private partial void LogSupervisionFailed(Exception exception, Guid id);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning,
        Message = "Backtest {Id}: dropped a line from its worker ({Reason}); further ones are only counted")]
    private partial void LogLineDropped(Guid id, string? reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Backtest {Id} lost its slot; stopping and queueing again")]
    private partial void LogSlotLost(Guid id);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Backtest {Id}: {Reason}; stopping it")]
    private partial void LogTimedOut(Guid id, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Backtest {Id}: publishing its completion failed; it ended {State}")]
    private partial void LogCompletionNotPublished(Exception exception, Guid id, BacktestState state);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning,
        Message = "Backtest {Id}: publishing on its stream failed; the events are dropped ({Dropped} so far), the run goes on")]
    private partial void LogEventsNotPublished(Exception exception, Guid id, long dropped);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Backtest {Id}: its partial results are not kept: {Reason}")]
    private partial void LogPartialResultsRefused(Guid id, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug,
        Message = "Backtest {Id}: timings start-up {StartupMs} ms, data {DataMs} ms, engine {EngineMs} ms, results {ResultsMs} ms, total {TotalMs} ms")]
    private partial void LogTimings(Guid id, double startupMs, double dataMs, double engineMs, double resultsMs, double totalMs);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning,
        Message = "Backtest {Id}: releasing its run failed; the backtest ends all the same (a leftover container or process is the reaper's)")]
    private partial void LogRunReleaseFailed(Exception exception, Guid id);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning,
        Message = "Backtest {Id}: its supervision was interrupted ({Reason}); the run ends and starts again once the cluster answers")]
    private partial void LogSupervisionInterrupted(Exception exception, Guid id, string reason);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Backtest {Id}: restarting its interrupted run failed; trying again")]
    private partial void LogRecoveryRetryFailed(Exception exception, Guid id);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Backtest {Id}: its run could not start for now ({Reason}); trying again shortly")]
    private partial void LogRunnerInterrupted(Guid id, string reason);

    [LoggerMessage(EventId = 18, Level = LogLevel.Warning,
        Message = "Backtest {Id}: its run was interrupted ({Reason}) while {State}; restarting it from its checkpoint")]
    private partial void LogRunInterruptedRestart(Guid id, BacktestState state, string reason);

    [LoggerMessage(EventId = 19, Level = LogLevel.Warning,
        Message = "Backtest {Id} ended {State}, but giving its slot back or storing its end failed; settled again shortly")]
    private partial void LogEndNotSettled(Exception exception, Guid id, BacktestState state);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning,
        Message = "Backtest {Id}: starting its attempt was interrupted ({Reason}); starting it again shortly")]
    private partial void LogStartInterrupted(Exception exception, Guid id, string reason);

    [LoggerMessage(EventId = 21, Level = LogLevel.Error,
        Message = "Backtest {Id}: the cluster could not be reached for longer than its grace ({Grace}); the backtest fails")]
    private partial void LogGaveUpUnreachable(Exception exception, Guid id, TimeSpan grace);
}
