namespace Backtesting.Api.Auth;

public sealed partial class KeyRevocationListener
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Not listening for key revocations; retrying in {Delay}")]
    private static partial void LogNotListening(ILogger logger, Exception exception, TimeSpan delay);
}
