namespace Backtesting.Api.Realtime;

/// <summary>The log lines of <see cref="StreamRelay{TEvent}"/> (one set for every stream namespace it relays).</summary>
internal static partial class RelayLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Resuming the subscription of {Namespace} {Id} failed; subscribing anew")]
    public static partial void ResumeFailed(ILogger logger, Exception exception, string @namespace, Guid id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropping the old subscription of {Namespace} {Id} failed")]
    public static partial void DropFailed(ILogger logger, Exception exception, string @namespace, Guid id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-subscribed to the events of {Namespace} {Id} after reconnecting")]
    public static partial void Resubscribed(ILogger logger, string @namespace, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-subscribing to {Namespace} {Id} failed")]
    public static partial void ResubscribeFailed(ILogger logger, Exception exception, string @namespace, Guid id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unsubscribing from {Namespace} {Id} failed")]
    public static partial void UnsubscribeFailed(ILogger logger, Exception exception, string @namespace, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Namespace} {Id} sent an event that is not JSON")]
    public static partial void NotJson(ILogger logger, Exception exception, string @namespace, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event stream of {Namespace} {Id} failed")]
    public static partial void StreamFailed(ILogger logger, Exception exception, string @namespace, Guid id);
}
