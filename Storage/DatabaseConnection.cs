namespace Backtesting.Storage;

/// <summary>
/// Where the silos, the API and the key command find PostgreSQL: the configured connection string
/// (<c>ConnectionStrings:Backtesting</c>), else the <c>BACKTESTING_DB</c> environment variable. An empty value counts
/// as unset in both places, so a blank variable never reaches Npgsql as a connection string.
/// </summary>
public static class DatabaseConnection
{
    /// <summary>The name under <c>ConnectionStrings</c>.</summary>
    public const string Name = "Backtesting";

    /// <summary>The environment variable accepted as a convenience (scripts/postgres.sh exports it).</summary>
    public const string EnvironmentVariable = "BACKTESTING_DB";

    public static string Resolve(string? configured, string? fromEnvironment) =>
        configured is { Length: > 0 } ? configured
        : fromEnvironment is { Length: > 0 } ? fromEnvironment
        : throw new InvalidOperationException($"set ConnectionStrings__{Name} or {EnvironmentVariable}");

    /// <summary>The same rule, with the environment variable read from this process.</summary>
    public static string Resolve(string? configured) =>
        Resolve(configured, Environment.GetEnvironmentVariable(EnvironmentVariable));
}
