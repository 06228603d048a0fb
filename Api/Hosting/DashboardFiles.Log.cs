namespace Backtesting.Api.Hosting;

public static partial class DashboardFiles
{
    [LoggerMessage(Level = LogLevel.Information, Message = "No built dashboard (Web/dist); / shows a page that links to Swagger")]
    private static partial void LogNoDashboard(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving the dashboard from {Folder}")]
    private static partial void LogServing(ILogger logger, string folder);
}
