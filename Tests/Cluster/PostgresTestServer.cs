using System.Diagnostics;
using Npgsql;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// The real PostgreSQL the cluster tests use: the project-local server that ./test.sh starts (BACKTESTING_DB),
/// or, when a test runs on its own, the same script started from here. Each caller gets a fresh database.
/// </summary>
public static class PostgresTestServer
{
    private static readonly Lazy<string> Server = new(Locate);

    /// <summary>
    /// How long creating or dropping a test database may take. DROP DATABASE waits for an immediate checkpoint of
    /// the whole server, and on a loaded machine one took 68 s (35 s of it in fsync), past Npgsql's default of 30 s:
    /// the storage collection's clean-up then failed the run though no test had.
    /// </summary>
    private const int HousekeepingTimeoutSeconds = 600;

    private static string Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("BACKTESTING_DB");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        var info = new ProcessStartInfo("bash", ["-c", "source scripts/postgres.sh && start_postgres >&2 && echo \"$BACKTESTING_DB\""])
        {
            WorkingDirectory = TestPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || string.IsNullOrWhiteSpace(output))
        {
            throw new InvalidOperationException($"could not start PostgreSQL for the tests: {errors}");
        }

        return output.Trim();
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string purpose)
    {
        var name = $"test_{purpose}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(Server.Value))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection) { CommandTimeout = HousekeepingTimeoutSeconds };
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(Server.Value) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>
    /// Drops a test's database and every connection still open to it: idle pooled connections of finished tests
    /// would otherwise pile up until the server refuses new clients.
    /// </summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Server.Value);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection) { CommandTimeout = HousekeepingTimeoutSeconds };
        await drop.ExecuteNonQueryAsync();
    }
}
