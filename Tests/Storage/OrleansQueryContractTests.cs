using Npgsql;
using NpgsqlTypes;

namespace Backtesting.Tests.Storage;

/// <summary>
/// The stored Orleans queries run the way the AdoNet providers run them (text from OrleansQuery, @Name
/// parameters with the providers' CLR types), including the conflict paths a healthy cluster rarely takes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OrleansQueryContractTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Cluster = "cluster-a";
    private const string Service = "service-a";
    private static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private string _db = "";

    public async Task InitializeAsync() => _db = await postgres.CreateMigratedDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Membership_writes_succeed_only_from_the_current_version()
    {
        Assert.Equal(1, await ScalarAsync("InsertMembershipVersionKey", ("DeploymentId", Cluster)));
        Assert.Equal(0, await ScalarAsync("InsertMembershipVersionKey", ("DeploymentId", Cluster)));

        // Before any member the version row still comes back, with NULL member columns.
        var empty = await RowsAsync("MembershipReadAllKey", ("DeploymentId", Cluster));
        Assert.Single(empty);
        Assert.Equal(DBNull.Value, empty[0]["starttime"]);
        Assert.Equal(0, empty[0]["version"]);

        Assert.Equal(1, await InsertSiloAsync(port: 11111, version: 0, status: 3, proxyPort: 30000));
        Assert.Equal(0, await InsertSiloAsync(port: 11112, version: 0, status: 3, proxyPort: 30001)); // stale version
        Assert.Equal(0, await InsertSiloAsync(port: 11111, version: 1, status: 3, proxyPort: 30000)); // silo exists
        Assert.Equal(1, await InsertSiloAsync(port: 11112, version: 1, status: 1, proxyPort: 0));
        Assert.Equal(2, await VersionAsync());

        Assert.Equal(0, await UpdateSiloAsync(port: 11112, status: 3, version: 1)); // stale
        Assert.Equal(0, await UpdateSiloAsync(port: 19999, status: 3, version: 2)); // no such silo
        Assert.Equal(2, await VersionAsync());
        Assert.Equal(1, await UpdateSiloAsync(port: 11112, status: 6, version: 2));
        Assert.Equal(3, await VersionAsync());

        // Heartbeats change the time, not the version.
        await ExecuteAsync("UpdateIAmAlivetimeKey", ("DeploymentId", Cluster), ("Address", "127.0.0.1"), ("Port", 11111),
            ("Generation", 7), ("IAmAliveTime", T0.AddMinutes(5)));
        Assert.Equal(3, await VersionAsync());

        var row = Assert.Single(await RowsAsync("MembershipReadRowKey", ("DeploymentId", Cluster), ("Address", "127.0.0.1"),
            ("Port", 11111), ("Generation", 7)));
        Assert.Equal(T0.AddMinutes(5), row["iamalivetime"]);
        Assert.Equal("silo-11111", row["siloname"]);
        var missing = Assert.Single(await RowsAsync("MembershipReadRowKey", ("DeploymentId", Cluster), ("Address", "127.0.0.1"),
            ("Port", 1), ("Generation", 7)));
        Assert.Equal(DBNull.Value, missing["starttime"]);
        Assert.Equal(3, missing["version"]);

        var gateways = await RowsAsync("GatewaysQueryKey", ("DeploymentId", Cluster), ("Status", 3));
        Assert.Equal([30000], gateways.Select(g => (int)g["proxyport"]));

        // Only members that stopped heartbeating before the cutoff and are not Active go.
        await ExecuteAsync("CleanupDefunctSiloEntriesKey", ("DeploymentId", Cluster), ("IAmAliveTime", T0.AddMinutes(1)));
        Assert.Equal([11111], (await RowsAsync("MembershipReadAllKey", ("DeploymentId", Cluster))).Select(r => (int)r["port"]));

        await ExecuteAsync("DeleteMembershipTableEntriesKey", ("DeploymentId", Cluster));
        Assert.Empty(await RowsAsync("MembershipReadAllKey", ("DeploymentId", Cluster)));
    }

    [Fact]
    public async Task Grain_state_writes_detect_a_second_writer()
    {
        var grain = Grain(n0: 1, n1: 2, extension: null);
        Assert.Equal(1, await WriteAsync(grain, version: null, payload: [1]));
        Assert.Null(await WriteAsync(grain, version: null, payload: [9])); // another activation wrote first
        Assert.Equal(2, await WriteAsync(grain, version: 1, payload: [2]));
        Assert.Null(await WriteAsync(grain, version: 1, payload: [9])); // stale ETag

        var read = Assert.Single(await RowsAsync("ReadFromStorageKey", grain));
        Assert.Equal(new byte[] { 2 }, read["payloadbinary"]);
        Assert.Equal(2, read["version"]);

        Assert.Empty(await RowsAsync("ClearStorageKey", [.. grain, Param("GrainStateVersion", 1)])); // stale
        var cleared = Assert.Single(await RowsAsync("ClearStorageKey", [.. grain, Param("GrainStateVersion", 2)]));
        Assert.Equal(3, cleared.Values.Single());
        read = Assert.Single(await RowsAsync("ReadFromStorageKey", grain));
        Assert.Equal(DBNull.Value, read["payloadbinary"]);
        Assert.Equal(4, await WriteAsync(grain, version: 3, payload: [4]));
    }

    [Fact]
    public async Task Grain_state_identity_is_the_full_key()
    {
        // Same numbers, different extension (none, empty, text), other state name, other service: six states.
        (object? Extension, string Type, string Service)[] identities =
        [
            (null, "probe", Service), ("", "probe", Service), ("x", "probe", Service), ("x", "other", Service),
            ("x", "probe", "service-b"), (null, "probe", "service-b"),
        ];
        foreach (var (extension, type, service) in identities)
        {
            Assert.Equal(1, await WriteAsync(Grain(5, 6, extension, type, service), version: null, payload: [1]));
        }

        Assert.Equal(6L, await SchemaMigratorTests.ScalarAsync<long>(_db, "SELECT count(*) FROM orleans_storage"));

        // The unique index refuses a second row for an existing identity, whatever writes it.
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => SchemaMigratorTests.ScalarAsync<object>(_db, $"""
            INSERT INTO orleans_storage (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension, grain_id_hash,
                                         grain_type_hash, payload, version)
            VALUES ('{Service}', 'probe', 5, 6, NULL, 0, 0, NULL, 1)
            """));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
    }

    [Fact]
    public async Task Reminders_upsert_read_by_range_and_delete_by_version()
    {
        async Task<int> Upsert(string grainId, string name, int hash) => (int)(await ScalarAsync("UpsertReminderRowKey",
            ("ServiceId", Service), ("GrainId", grainId), ("ReminderName", name), ("StartTime", T0), ("Period", 60_000),
            ("GrainHash", hash)))!;

        Assert.Equal(0, await Upsert("probe/1", "a", -100));
        Assert.Equal(1, await Upsert("probe/1", "a", -100));
        Assert.Equal(0, await Upsert("probe/1", "b", -100));
        Assert.Equal(0, await Upsert("probe/2", "a", 500));
        Assert.Equal(0, await Upsert("probe/3", "a", int.MaxValue));

        Assert.Equal(["a", "b"], (await RowsAsync("ReadReminderRowsKey", ("ServiceId", Service), ("GrainId", "probe/1")))
            .Select(r => (string)r["remindername"]).Order());
        var one = Assert.Single(await RowsAsync("ReadReminderRowKey", ("ServiceId", Service), ("GrainId", "probe/1"), ("ReminderName", "a")));
        Assert.Equal(60_000L, one["period"]);
        Assert.Equal(T0, one["starttime"]);
        Assert.Equal(1, one["version"]);

        // (begin, end] without wrapping, and the wrapped complement.
        Assert.Equal(["probe/2"], (await RowsAsync("ReadRangeRows1Key", ("ServiceId", Service), ("BeginHash", -100), ("EndHash", 500)))
            .Select(r => (string)r["grainid"]));
        Assert.Equal(["probe/1", "probe/1", "probe/3"], (await RowsAsync("ReadRangeRows2Key", ("ServiceId", Service), ("BeginHash", 500), ("EndHash", -100)))
            .Select(r => (string)r["grainid"]).Order());

        Assert.Equal(0, await ScalarAsync("DeleteReminderRowKey", ("ServiceId", Service), ("GrainId", "probe/1"), ("ReminderName", "a"), ("Version", 0)));
        Assert.Equal(1, await ScalarAsync("DeleteReminderRowKey", ("ServiceId", Service), ("GrainId", "probe/1"), ("ReminderName", "a"), ("Version", 1)));
        await ExecuteAsync("DeleteReminderRowsKey", ("ServiceId", Service));
        Assert.Equal(0L, await SchemaMigratorTests.ScalarAsync<long>(_db, "SELECT count(*) FROM orleans_reminders"));
    }

    private Task<object?> InsertSiloAsync(int port, int version, int status, int proxyPort) => ScalarAsync("InsertMembershipKey",
        ("DeploymentId", Cluster), ("Address", "127.0.0.1"), ("Port", port), ("Generation", 7), ("SiloName", $"silo-{port}"),
        ("HostName", "host"), ("Status", status), ("ProxyPort", proxyPort), ("StartTime", T0), ("IAmAliveTime", T0),
        ("Version", version));

    private Task<object?> UpdateSiloAsync(int port, int status, int version) => ScalarAsync("UpdateMembershipKey",
        ("DeploymentId", Cluster), ("Address", "127.0.0.1"), ("Port", port), ("Generation", 7), ("Status", status),
        ("SuspectTimes", "127.0.0.1:11111@7,2026-01-01 12:00:00.000 GMT"), ("IAmAliveTime", T0), ("Version", version));

    private async Task<int> VersionAsync() =>
        await SchemaMigratorTests.ScalarAsync<int>(_db, $"SELECT version FROM orleans_membership_version WHERE deployment_id = '{Cluster}'");

    private static NpgsqlParameter[] Grain(long n0, long n1, object? extension, string type = "probe", string service = Service) =>
    [
        Param("GrainIdHash", 42), Param("GrainIdN0", n0), Param("GrainIdN1", n1), Param("GrainTypeHash", 43),
        Param("GrainTypeString", type), Param("ServiceId", service),
        new NpgsqlParameter("GrainIdExtensionString", NpgsqlDbType.Text) { Value = extension ?? DBNull.Value },
    ];

    private async Task<int?> WriteAsync(NpgsqlParameter[] grain, int? version, byte[] payload)
    {
        var value = await ScalarAsync("WriteToStorageKey",
            [.. grain, new NpgsqlParameter("GrainStateVersion", NpgsqlDbType.Integer) { Value = version ?? (object)DBNull.Value },
             Param("PayloadBinary", payload)]);
        return value is DBNull ? null : (int?)value;
    }

    private static NpgsqlParameter Param(string name, object value) => new(name, value);

    private Task<object?> ScalarAsync(string key, params (string Name, object Value)[] parameters) =>
        ScalarAsync(key, parameters.Select(p => Param(p.Name, p.Value)).ToArray());

    private async Task<object?> ScalarAsync(string key, NpgsqlParameter[] parameters)
    {
        var rows = await RowsAsync(key, parameters);
        return Assert.Single(Assert.Single(rows).Values);
    }

    private Task ExecuteAsync(string key, params (string Name, object Value)[] parameters) =>
        RowsAsync(key, parameters.Select(p => Param(p.Name, p.Value)).ToArray());

    private Task<List<Dictionary<string, object>>> RowsAsync(string key, params (string Name, object Value)[] parameters) =>
        RowsAsync(key, parameters.Select(p => Param(p.Name, p.Value)).ToArray());

    /// <summary>Runs the query stored under <paramref name="key"/>; rows come back keyed by lower-case column name.</summary>
    private async Task<List<Dictionary<string, object>>> RowsAsync(string key, NpgsqlParameter[] parameters)
    {
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        string sql;
        await using (var lookup = new NpgsqlCommand("SELECT QueryText FROM OrleansQuery WHERE QueryKey = @key", connection))
        {
            lookup.Parameters.AddWithValue("key", key);
            sql = (string)(await lookup.ExecuteScalarAsync())!;
        }

        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters.Select(p => p.Clone()).ToArray()); // a parameter belongs to one command
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object>();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i).ToLowerInvariant()] = reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}
