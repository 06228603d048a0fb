namespace Backtesting.Api.Realtime;

public static partial class WebSocketRoutes
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Relaying backtest {Id} over /ws/backtest failed")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, Guid id);
}
