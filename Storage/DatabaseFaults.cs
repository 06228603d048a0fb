using System.Net.Sockets;
using Npgsql;

namespace Backtesting.Storage;

/// <summary>
/// Which database errors mean "PostgreSQL is unreachable or restarting, try again shortly" rather than a fault of the
/// request: a connection refused, cut or timed out, the server shutting down (<c>57P01</c> admin shutdown, <c>57P02</c>
/// crash shutdown), starting or recovering (<c>57P03</c>), or out of connections (<c>53300</c>), and any SQLSTATE of class
/// <c>08</c> (connection exception). After a restart every pooled connection is dead and the first command on each fails
/// this way; Npgsql does not drop them by itself, so whoever meets one clears the pool (<see cref="NpgsqlDataSource.Clear"/>).
/// The exception is looked through (inner and aggregated exceptions), since callers wrap it (a grain's storage error arrives
/// as an OrleansException around the Npgsql one).
/// </summary>
public static class DatabaseFaults
{
    private static readonly string[] UnavailableStates = [PostgresErrorCodes.AdminShutdown, PostgresErrorCodes.CrashShutdown,
        PostgresErrorCodes.CannotConnectNow, PostgresErrorCodes.TooManyConnections];

    public static bool IsUnavailable(Exception exception)
    {
        for (var depth = 0; depth < 8 && exception is not null; depth++)
        {
            switch (exception)
            {
                case PostgresException postgres when State(postgres) is { } state:
                    return state.StartsWith("08", StringComparison.Ordinal) || UnavailableStates.Contains(state);
                case NpgsqlException { IsTransient: true }:
                    return true;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Any(IsUnavailable);
                case NpgsqlException { InnerException: SocketException or IOException or TimeoutException }:
                    return true;
            }

            exception = exception.InnerException!;
        }

        return false;
    }

    /// <summary>
    /// The SQLSTATE; for an exception that crossed a grain call (Orleans rebuilds it from its message and inner exception,
    /// not its properties) read from the message, which Npgsql starts with the state ("57P01: terminating connection ...").
    /// </summary>
    private static string? State(PostgresException postgres)
    {
        if (postgres.SqlState is { Length: 5 } state)
        {
            return state;
        }

        var message = postgres.Message;
        return message.Length > 6 && message[5] == ':' && message[..5].All(char.IsAsciiLetterOrDigit) ? message[..5] : null;
    }
}
