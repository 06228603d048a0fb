namespace Backtesting.Api.Hosting;

internal sealed partial class RequestLogging
{
    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} -> {Status} in {ElapsedMs:F1} ms ({User})")]
    private static partial void LogRequest(ILogger logger, string method, string? path, int status, double elapsedMs, string user);
}
