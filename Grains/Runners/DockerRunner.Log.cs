using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Runners;

public sealed partial class DockerRunner
{
    [LoggerMessage(Level = LogLevel.Information,
        Message = "Backtest {Id}: reattaching to container {Container}, still running from attempt {Attempt}")]
    private static partial void LogReattaching(ILogger logger, Guid id, string container, string attempt);
}
