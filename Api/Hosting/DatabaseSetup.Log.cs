namespace Backtesting.Api.Hosting;

internal sealed partial class DatabaseSetup
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema scripts {Versions}")]
    private static partial void LogApplied(ILogger logger, IReadOnlyList<int> versions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The bootstrap admin key (Api:BootstrapAdminKey) was revoked and stays revoked: configure a new one")]
    private static partial void LogBootstrapKeyRevoked(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin key for {User} is stored")]
    private static partial void LogAdminKeyStored(ILogger logger, string user);
}
