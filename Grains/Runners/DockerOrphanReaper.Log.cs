using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Runners;

public sealed partial class DockerOrphanReaper
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Looking for orphaned backtest containers failed")]
    private static partial void LogReapFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Docker runner: {Reason}; backtests will fail until it answers")]
    private static partial void LogDaemonUnreachable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removing container {Container} ({State}) of backtest {Id}, which no longer runs")]
    private static partial void LogRemoving(ILogger logger, string container, string state, Guid id);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Backtest containers found at start: {Removed} removed, {Kept} left to their active backtests")]
    private static partial void LogReaped(ILogger logger, int removed, int kept);
}
