using Microsoft.Extensions.Logging;

namespace Backtesting.Grains;

// The optimization grain's log messages, source-generated.
public sealed partial class OptimizationGrain
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Optimization {Id} is {State} ({Detail})")]
    private partial void LogMoved(Guid id, Backtesting.Grains.Interfaces.OptimizationState state, string? detail);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Optimization {Id} failed: {Reason}")]
    private partial void LogFailed(Guid id, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Optimization {Id}: trial {Trial} reached the target ({Objective}); no new batch starts")]
    private partial void LogTargetReached(Guid id, int trial, double objective);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Optimization {Id}: live events are not being published ({Dropped} dropped so far)")]
    private partial void LogEventsNotPublished(Exception exception, Guid id, long dropped);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Optimization {Id} was stored but never queued (its silo went away): its submission is finished now")]
    private partial void LogResumingSubmission(Guid id);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Optimization {Id}: stopping batch {Batch} failed; it reports its own end")]
    private partial void LogBatchStopFailed(Exception exception, Guid id, int batch);
}
