using System.Globalization;
using System.Reflection;
using Npgsql;

namespace Backtesting.Storage;

/// <summary>One of the numbered scripts of the top-level <c>sql/</c> folder, e.g. <c>010_app_schema.sql</c>.</summary>
public sealed record MigrationScript(int Version, string Name, string Sql);

/// <summary>
/// Brings a database up to date with the project's scripts. Each script not yet recorded in
/// <c>schema_version</c> runs in its own transaction together with the row that records it, in version
/// order. Scripts are append-only: a script once applied is never run again, so a change is a new number.
/// </summary>
public static class SchemaMigrator
{
    // pg_advisory_lock key shared by every migrator ("BTSchema" in ASCII); advisory locks are per database.
    private const long LockKey = 0x4254_5363_6865_6D61;

    private const string CreateVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER PRIMARY KEY,
            script     TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """;

    private static readonly Lazy<IReadOnlyList<MigrationScript>> EmbeddedScripts = new(LoadScripts);

    /// <summary>The embedded scripts, in the order they are applied.</summary>
    public static IReadOnlyList<MigrationScript> Scripts => EmbeddedScripts.Value;

    /// <summary>
    /// Applies every script the database has not recorded yet. Safe to call from several processes at once:
    /// callers queue on a PostgreSQL advisory lock and each finds what the previous one applied.
    /// </summary>
    /// <returns>The versions this call applied (empty when the database was up to date).</returns>
    public static async Task<IReadOnlyList<int>> ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        // A connection of its own, outside the pool: the advisory lock belongs to the session, and closing an
        // unpooled connection ends the session, which releases the lock whatever happened before.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);

        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", LockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(CreateVersionTable, connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new HashSet<int>();
        await using (var read = new NpgsqlCommand("SELECT version FROM schema_version", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var appliedNow = new List<int>();
        foreach (var script in Scripts.Where(s => !applied.Contains(s.Version)))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var run = new NpgsqlCommand(script.Sql, connection, transaction))
            {
                await run.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = new NpgsqlCommand(
                "INSERT INTO schema_version (version, script) VALUES (@version, @script)", connection, transaction))
            {
                record.Parameters.AddWithValue("version", script.Version);
                record.Parameters.AddWithValue("script", script.Name);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            appliedNow.Add(script.Version);
        }

        return appliedNow;
    }

    private static List<MigrationScript> LoadScripts()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("sql/", StringComparison.Ordinal)))
        {
            var name = resource["sql/".Length..];
            var underscore = name.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(name.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"SQL script '{name}' is not named NNN_description.sql");
            }

            scripts.Add(new MigrationScript(version, name, ReadResource(assembly, resource)));
        }

        var duplicate = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two SQL scripts share version {duplicate.Key}: {string.Join(", ", duplicate.Select(s => s.Name))}");
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        return scripts;
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded script {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
