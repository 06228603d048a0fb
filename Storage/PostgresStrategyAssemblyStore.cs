using Npgsql;
using NpgsqlTypes;

namespace Backtesting.Storage;

/// <summary>
/// A custom strategy version's compiled assembly, as a compile-only run of one worker version made it
/// (<c>sql/042_strategy_assemblies.sql</c>).
/// </summary>
/// <param name="WorkerVersion">The runner's identity of the worker that compiled it (and that may load it).</param>
/// <param name="SourceHash">The source hash the compile reported (the version's content hash).</param>
/// <param name="CompilerVersion">The compiling worker's compiler identity, which a batch's worker checks against its own.</param>
/// <param name="AssemblyHash">SHA-256 (hex) of <paramref name="Assembly"/> as the compile reported it.</param>
/// <param name="SchemaJson">The schema the compile read from the source.</param>
public sealed record StrategyAssembly(
    Guid StrategyId,
    int Version,
    string WorkerVersion,
    string SourceHash,
    string CompilerVersion,
    byte[] Assembly,
    string AssemblyHash,
    string SchemaJson);

/// <summary>
/// Where compiled custom strategies are kept, one per strategy version and worker version. The rows are written once
/// and never changed; a second save of the same key keeps the first (both came from the same deterministic compile).
/// Reads take no owner: the grain that calls it has already resolved the version for its owner.
/// </summary>
public sealed class PostgresStrategyAssemblyStore(NpgsqlDataSource dataSource)
{
    /// <summary>The compile of this version by this worker version, or null.</summary>
    public async Task<StrategyAssembly?> GetAsync(Guid strategyId, int version, string workerVersion, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT source_hash, compiler_version, assembly, assembly_hash, schema::text FROM custom_strategy_assemblies
             WHERE strategy_id = @id AND version = @version AND worker_version = @worker
            """);
        command.Parameters.AddWithValue("id", strategyId);
        command.Parameters.AddWithValue("version", version);
        command.Parameters.AddWithValue("worker", workerVersion);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StrategyAssembly(strategyId, version, workerVersion, reader.GetString(0), reader.GetString(1), (byte[])reader[2],
            reader.GetString(3), reader.GetString(4));
    }

    /// <summary>Stores a compile (the first one of its key wins) and returns the row as stored.</summary>
    public async Task<StrategyAssembly> SaveAsync(StrategyAssembly compiled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        await using (var command = dataSource.CreateCommand("""
            INSERT INTO custom_strategy_assemblies
                (strategy_id, version, worker_version, source_hash, compiler_version, assembly, assembly_hash, schema)
            VALUES (@id, @version, @worker, @source, @compiler, @assembly, @hash, @schema)
            ON CONFLICT (strategy_id, version, worker_version) DO NOTHING
            """))
        {
            command.Parameters.AddWithValue("id", compiled.StrategyId);
            command.Parameters.AddWithValue("version", compiled.Version);
            command.Parameters.AddWithValue("worker", compiled.WorkerVersion);
            command.Parameters.AddWithValue("source", compiled.SourceHash);
            command.Parameters.AddWithValue("compiler", compiled.CompilerVersion);
            command.Parameters.AddWithValue("assembly", NpgsqlDbType.Bytea, compiled.Assembly);
            command.Parameters.AddWithValue("hash", compiled.AssemblyHash);
            command.Parameters.AddWithValue("schema", NpgsqlDbType.Jsonb, compiled.SchemaJson);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return await GetAsync(compiled.StrategyId, compiled.Version, compiled.WorkerVersion, cancellationToken)
            ?? throw new InvalidOperationException($"the compile of strategy {compiled.StrategyId} version {compiled.Version} was not stored");
    }
}
