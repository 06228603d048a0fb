using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Hosting;

// The silo setup's log messages, source-generated.
public static partial class SiloSetup
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Docker runner: {Reason}; Backtesting:Docker:FallbackToProcess is set, so backtests run as local processes")]
    private static partial void LogDockerFallback(ILogger logger, string reason);
}
