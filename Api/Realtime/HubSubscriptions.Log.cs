namespace Backtesting.Api.Realtime;

public sealed partial class HubSubscriptions
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Relaying backtest {Id} to its SignalR group failed")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The SignalR feed of backtest {Id} failed")]
    private static partial void LogFeedFailed(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cleaning up the SignalR feed of backtest {Id} failed")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, Guid id);
}
