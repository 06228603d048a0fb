using System.Diagnostics;
using Npgsql;

namespace Backtesting.Tests.Storage;

/// <summary>
/// The project-local PostgreSQL server, shared by every storage test class. Uses BACKTESTING_DB when set
/// (./test.sh starts the cluster and exports it), else starts the cluster itself through
/// scripts/postgres.sh. Each test class asks for a database of its own, dropped when the run ends.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly List<string> _databases = [];
    private string? _serverConnectionString;

    /// <summary>Connection string to the server's <c>postgres</c> database.</summary>
    public string ServerConnectionString => _serverConnectionString ?? throw new InvalidOperationException("Not started");

    public async Task InitializeAsync()
    {
        var connectionString = Environment.GetEnvironmentVariable("BACKTESTING_DB");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = await StartClusterAsync();
        }

        _serverConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres" }.ConnectionString;
        await using var connection = new NpgsqlConnection(_serverConnectionString);
        await connection.OpenAsync();
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync($"CREATE DATABASE {name}");
        lock (_databases)
        {
            _databases.Add(name);
        }

        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>A fresh database with every script applied.</summary>
    public async Task<string> CreateMigratedDatabaseAsync()
    {
        var connectionString = await CreateDatabaseAsync();
        await Backtesting.Storage.SchemaMigrator.ApplyAsync(connectionString);
        return connectionString;
    }

    public async Task DisposeAsync()
    {
        if (_serverConnectionString is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        foreach (var name in _databases)
        {
            await ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs start_postgres from scripts/postgres.sh and reads the connection string it exports.</summary>
    private static async Task<string> StartClusterAsync()
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = TestPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("source scripts/postgres.sh && start_postgres && echo \"$BACKTESTING_DB\"");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = (await stdout).Trim();
        if (process.ExitCode != 0 || output.Length == 0)
        {
            throw new InvalidOperationException($"start_postgres failed ({process.ExitCode}): {await stderr}");
        }

        return output.Split('\n')[^1];
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
