namespace Backtesting.Api.Admin;

public static partial class OrleansDashboardProxy
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "The Orleans dashboard at {Url} is not reachable")]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string url);
}
