using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Backtesting.Tests.Storage;

/// <summary>
/// Two silos (TestCluster, in this process) on the Orleans AdoNet providers (Invariant "Npgsql") over the project's own SQL:
/// membership, grain state and reminders all live in a fresh PostgreSQL database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OrleansProviderTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const int Active = 3;
    private const int Dead = 6;

    private const string ConnectionStringKey = "BacktestingTestDb";

    private string _db = "";
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _db = await postgres.CreateMigratedDatabaseAsync();
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        // Configurators are created by type, so the database reaches them through the host configuration.
        builder.Properties[ConnectionStringKey] = _db;
        builder.AddSiloBuilderConfigurator<SiloOnPostgres>();
        builder.AddClientBuilderConfigurator<ClientOnPostgres>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    private sealed class SiloOnPostgres : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var db = silo.Configuration[ConnectionStringKey];
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = db;
            });
            silo.AddAdoNetGrainStorage("Default", o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = db;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = db;
            });
            silo.Services.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            // The test assembly also holds the cluster's grains, whose contracts carry engine records.
            silo.Services.AddBacktestingSerialization();
        }
    }

    private sealed class ClientOnPostgres : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder client)
        {
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = configuration[ConnectionStringKey];
            });
            client.Services.AddBacktestingSerialization();
        }
    }

    [Fact]
    public async Task Silos_join_through_the_membership_table_and_state_survives_deactivation()
    {
        var members = await MembersAsync();
        Assert.Equal(2, members.Count);
        Assert.All(members, m => Assert.Equal(Active, m.Status));
        Assert.True(await SchemaMigratorTests.ScalarAsync<int>(_db,
            $"SELECT version FROM orleans_membership_version WHERE deployment_id = '{_cluster.Options.ClusterId}'") >= 2);

        var grain = _cluster.Client.GetGrain<IProbeGrain>(Guid.NewGuid());
        await grain.SetValue("first");
        await grain.SetValue("second");
        var before = await grain.Read();
        await grain.Deactivate();

        // The next call activates the grain afresh (new activation id), which reads its state from PostgreSQL.
        var after = await WaitForAsync(() => grain.Read(), s => s.ActivationId != before.ActivationId);
        Assert.Equal("second", after.Value);

        var rows = await SchemaMigratorTests.QueryAsync(_db,
            "SELECT grain_type, version, payload IS NOT NULL FROM orleans_storage",
            r => (Type: r.GetString(0), Version: r.GetInt32(1), HasPayload: r.GetBoolean(2)));
        Assert.Equal([("probe", 2, true)], rows);

        // Stopping a silo marks it Dead in the table: UpdateMembershipKey at work.
        await _cluster.StopSiloAsync(_cluster.Silos[^1]);
        members = await MembersAsync();
        Assert.Equal([Active, Dead], members.Select(m => m.Status).Order());
    }

    [Fact]
    public async Task A_reminder_is_stored_fires_and_is_removed()
    {
        var grain = _cluster.Client.GetGrain<IProbeGrain>(Guid.NewGuid());
        await grain.StartReminder(TimeSpan.FromSeconds(1));

        var reminders = await SchemaMigratorTests.QueryAsync(_db,
            "SELECT reminder_name, period FROM orleans_reminders", r => (r.GetString(0), r.GetInt64(1)));
        Assert.Equal([(ProbeGrain.ReminderName, 1000L)], reminders);

        var ticked = await WaitForAsync(() => grain.Read(), s => s.ReminderTicks >= 2, TimeSpan.FromSeconds(60));
        Assert.True(ticked.ReminderTicks >= 2);

        await grain.StopReminder();
        Assert.Equal(0L, await SchemaMigratorTests.ScalarAsync<long>(_db, "SELECT count(*) FROM orleans_reminders"));
    }

    private Task<List<(string Address, int Port, int Status)>> MembersAsync() =>
        SchemaMigratorTests.QueryAsync(_db,
            $"SELECT address, port, status FROM orleans_membership WHERE deployment_id = '{_cluster.Options.ClusterId}' ORDER BY port",
            r => (r.GetString(0), r.GetInt32(1), r.GetInt32(2)));

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(200);
        }
    }
}
