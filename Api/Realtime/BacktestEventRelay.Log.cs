namespace Backtesting.Api.Realtime;

public sealed partial class BacktestEventRelay
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Resuming the subscription of {Id} failed; subscribing anew")]
    private static partial void LogResumeFailed(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropping the old subscription of {Id} failed")]
    private static partial void LogDropFailed(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-subscribed to the events of backtest {Id} after reconnecting")]
    private static partial void LogResubscribed(ILogger logger, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-subscribing to backtest {Id} failed")]
    private static partial void LogResubscribeFailed(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unsubscribing from backtest {Id} failed")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backtest {Id} sent an event that is not JSON")]
    private static partial void LogNotJson(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event stream of backtest {Id} failed")]
    private static partial void LogStreamFailed(ILogger logger, Exception exception, Guid id);
}
