using Microsoft.Extensions.Logging;

namespace Backtesting.Grains;

// The compile grain's log messages, source-generated.
public sealed partial class StrategyCompileGrain
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Compiling a strategy for {Owner} failed: {Reason}")]
    private static partial void LogCompileUnavailable(ILogger logger, string owner, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Compiling a strategy for {Owner}: {Detail}")]
    private static partial void LogCompileWithoutResult(ILogger logger, string owner, string detail);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Strategy {Name} of {Owner}: version {Version} ({State})")]
    private static partial void LogStored(ILogger logger, string name, string owner, int version, string state);
}
