using Backtesting.Tests.Cluster;

namespace Backtesting.Tests.Storage;

/// <summary>
/// The project-local PostgreSQL server (see <see cref="PostgresTestServer"/>), shared by every storage test class.
/// Each test class asks for databases of its own, dropped when the run ends.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly List<string> _databases = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var connectionString = await PostgresTestServer.CreateDatabaseAsync("storage");
        lock (_databases)
        {
            _databases.Add(connectionString);
        }

        return connectionString;
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
        foreach (var connectionString in _databases)
        {
            await PostgresTestServer.DropDatabaseAsync(connectionString);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
