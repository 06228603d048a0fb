using Microsoft.Extensions.Logging;

namespace Backtesting.Grains;

// The walk-forward grain's log messages, source-generated.
public sealed partial class WalkForwardGrain
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Walk-forward {Id} is {State} ({Detail})")]
    private partial void LogMoved(Guid id, Backtesting.Grains.Interfaces.OptimizationState state, string? detail);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Walk-forward {Id}: window {Window} is {Step}")]
    private partial void LogWindow(Guid id, int window, string step);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Walk-forward {Id}: a step failed and is tried again on the next tick")]
    private partial void LogStepFailed(Exception exception, Guid id);
}
