using Microsoft.Extensions.Logging;

namespace Backtesting.Grains;

// The strategy assembly grain's log messages, source-generated.
public sealed partial class StrategyAssemblyGrain
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Compiled custom strategy {StrategyId} version {Version} once for its batches: assembly {AssemblyHash} ({WorkerVersion})")]
    private static partial void LogCompiled(ILogger logger, Guid strategyId, int version, string assemblyHash, string workerVersion);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "No precompiled strategy for {Key}: {Reason}; its batches compile the source themselves")]
    private static partial void LogNotPrecompiled(ILogger logger, string key, string reason);
}
