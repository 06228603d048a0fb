using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Runners;

internal sealed partial class DockerContainerHandle
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {Container}: its log stream ended early: {Error}")]
    private static partial void LogStreamEndedEarly(ILogger logger, string container, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {Container} exited with {Code}; its stderr ends with: {Tail}")]
    private static partial void LogExitedWithStderr(ILogger logger, string container, int code, string tail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {Container} could not be removed: {Error}")]
    private static partial void LogNotRemoved(ILogger logger, string container, string error);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Container {Container} ended (exit code {Code}) as its Docker daemon went away: an interruption, not a death")]
    private static partial void LogEndedWithDaemon(ILogger logger, string container, int code);
}
