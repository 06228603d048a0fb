namespace Backtesting.Api.Hosting;

public static partial class ClusterConnection
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "No silo reachable yet ({Message}); retrying")]
    private static partial void LogNoSilo(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to the cluster")]
    private static partial void LogConnectionLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconnected to the cluster ({Gateways} gateways); re-subscribing to backtest events")]
    private static partial void LogReconnected(ILogger logger, int gateways);
}
