using System.Net.Sockets;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;

namespace Backtesting.Tests.Storage;

/// <summary>
/// Which database errors mean "away for now" (503 with Retry-After and the pool cleared) and which are a real fault: every
/// SQLSTATE the rule names, class 08, states of other classes, I/O failures, wrappers, and an error that crossed a grain
/// call through the Orleans serializer as the API receives it (rebuilt from its message: its SqlState property is lost).
/// </summary>
public sealed class DatabaseFaultsTests
{
    private static PostgresException Postgres(string state) => new("message", "FATAL", "FATAL", state);

    public static TheoryData<string, bool> States => new()
    {
        { PostgresErrorCodes.AdminShutdown, true },
        { PostgresErrorCodes.CrashShutdown, true },
        { PostgresErrorCodes.CannotConnectNow, true },
        { PostgresErrorCodes.TooManyConnections, true },
        { PostgresErrorCodes.ConnectionException, true },
        { PostgresErrorCodes.ConnectionFailure, true },
        { PostgresErrorCodes.SqlClientUnableToEstablishSqlConnection, true },
        { PostgresErrorCodes.UniqueViolation, false },
        { PostgresErrorCodes.ForeignKeyViolation, false },
        { PostgresErrorCodes.SyntaxError, false },
        { PostgresErrorCodes.QueryCanceled, false },
        { PostgresErrorCodes.SerializationFailure, false },
    };

    [Theory]
    [MemberData(nameof(States))]
    public void A_state_is_unavailable_alone_wrapped_and_aggregated(string state, bool unavailable)
    {
        Assert.Equal(unavailable, DatabaseFaults.IsUnavailable(Postgres(state)));
        Assert.Equal(unavailable, DatabaseFaults.IsUnavailable(new InvalidOperationException("outer", Postgres(state))));
        Assert.Equal(unavailable, DatabaseFaults.IsUnavailable(new AggregateException(new InvalidOperationException("x"), Postgres(state))));
    }

    [Fact]
    public void A_cut_or_refused_connection_is_unavailable_and_other_errors_are_not()
    {
        Assert.True(DatabaseFaults.IsUnavailable(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())));
        Assert.True(DatabaseFaults.IsUnavailable(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(DatabaseFaults.IsUnavailable(new NpgsqlException("timeout", new TimeoutException())));
        Assert.False(DatabaseFaults.IsUnavailable(new NpgsqlException("bad")));
        Assert.False(DatabaseFaults.IsUnavailable(new InvalidOperationException("no database here")));
        Assert.False(DatabaseFaults.IsUnavailable(new IOException("a file, not the database")));
    }

    [Theory]
    [MemberData(nameof(States))]
    public void A_storage_error_that_crossed_a_grain_call_keeps_its_meaning(string state, bool unavailable)
    {
        // A grain's state read on a connection the restart killed: Orleans wraps it, serializes it to the caller.
        using var services = new ServiceCollection().AddBacktestingSerialization().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var thrown = new OrleansException("Error from storage provider AdoNetGrainStorage.backtest during ReadStateAsync", Postgres(state));
        var received = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(thrown));
        Assert.NotNull(received);
        Assert.Equal(unavailable, DatabaseFaults.IsUnavailable(received));
    }
}
