using Backtesting.Api.Backtests;
using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Api.Hosting;

/// <summary>
/// The one place a request meets PostgreSQL being away (<see cref="DatabaseFaults"/>), wherever the request met it (the key
/// lookup of authentication, a route's read, a grain's write): the API's pool is cleared, since after a restart every
/// connection it holds is dead and each would fail its first command; a read (GET or HEAD, which changes nothing) is then
/// tried once more on a fresh connection, so it succeeds as soon as the server is back; anything else, or a read that fails
/// again, answers 503 with Retry-After (<see cref="Problems.DatabaseUnavailable"/>), never 500. Placed before
/// authentication, so the key lookup is covered too.
/// </summary>
internal sealed partial class DatabaseUnavailable(RequestDelegate next, NpgsqlDataSource dataSource, ILogger<DatabaseUnavailable> log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var isRead = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        try
        {
            await next(context);
            return;
        }
        catch (Exception e) when (DatabaseFaults.IsUnavailable(e) && !context.Response.HasStarted)
        {
            dataSource.Clear();
            LogUnavailable(log, context.Request.Method, context.Request.Path.Value, isRead, e);
            if (!isRead)
            {
                context.Response.Clear();
                await Problems.DatabaseUnavailable().ExecuteAsync(context);
                return;
            }
        }

        context.Response.Clear();
        try
        {
            await next(context);
        }
        catch (Exception e) when (DatabaseFaults.IsUnavailable(e) && !context.Response.HasStarted)
        {
            dataSource.Clear();
            LogStillUnavailable(log, context.Request.Method, context.Request.Path.Value, e);
            context.Response.Clear();
            await Problems.DatabaseUnavailable().ExecuteAsync(context);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path}: the database is unreachable or restarting; pool cleared, read tried again: {Again}")]
    private static partial void LogUnavailable(ILogger logger, string method, string? path, bool again, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path}: the database is still unreachable; answered 503")]
    private static partial void LogStillUnavailable(ILogger logger, string method, string? path, Exception exception);
}
