namespace Backtesting.Api.Realtime;

public sealed partial class OptimizationSubscriptions
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Relaying optimization {Id} to a hub connection failed")]
    private static partial void LogPumpFailed(ILogger logger, Exception exception, Guid id);
}
