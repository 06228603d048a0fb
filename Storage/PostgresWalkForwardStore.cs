using Npgsql;
using static Backtesting.Storage.NpgsqlValues;

namespace Backtesting.Storage;

/// <summary>A walk-forward job's row (sql/041_walkforwards.sql).</summary>
/// <param name="ConfigurationJson">The job as accepted (the optimization's fields plus its validation section).</param>
/// <param name="ResultJson">The windows and the stitched summary, once the job completed; else null.</param>
public sealed record WalkForwardRecord(
    Guid Id,
    string Owner,
    string? Name,
    string ConfigurationJson,
    string Status,
    int WindowsPlanned,
    DateTime CreatedAt,
    DateTime? StartedAt = null,
    DateTime? CompletedAt = null,
    string? ErrorMessage = null,
    string? ResultJson = null);

/// <summary>Walk-forward jobs in PostgreSQL: created once, moved by their grain, their result written once.</summary>
public sealed class PostgresWalkForwardStore(NpgsqlDataSource dataSource)
{
    private readonly JobTable jobs = new(dataSource, "walkforwards", "walkforward_id");

    /// <summary>Stores a new job; false when a job with this id exists already (nothing is changed then).</summary>
    public async Task<bool> CreateAsync(WalkForwardRecord record, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO walkforwards (walkforward_id, owner, name, configuration, status, windows_planned, created_at)
            VALUES (@id, @owner, @name, @configuration::jsonb, @status, @windows, @created)
            ON CONFLICT (walkforward_id) DO NOTHING
            """);
        command.Parameters.AddWithValue("id", record.Id);
        command.Parameters.AddWithValue("owner", record.Owner);
        command.Parameters.AddWithValue("name", DbValue(record.Name));
        command.Parameters.AddWithValue("configuration", record.ConfigurationJson);
        command.Parameters.AddWithValue("status", record.Status);
        command.Parameters.AddWithValue("windows", record.WindowsPlanned);
        command.Parameters.AddWithValue("created", Utc(record.CreatedAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<WalkForwardRecord?> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns}, result::text FROM walkforwards WHERE walkforward_id = @id");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) with { ResultJson = reader.IsDBNull(10) ? null : reader.GetString(10) } : null;
    }

    /// <summary>A page of jobs (without their results), newest first; only <paramref name="owner"/>'s when given, only in <paramref name="status"/> when given.</summary>
    public Task<(IReadOnlyList<WalkForwardRecord> Items, int TotalCount)> ListAsync(string? owner, string? status, int page, int pageSize,
        CancellationToken cancellationToken = default) =>
        jobs.ListAsync(Columns, Read, owner, status, page, pageSize, cancellationToken);

    /// <inheritdoc cref="JobTable.SetStatusAsync"/>
    public Task<bool> SetStatusAsync(Guid id, string status, string? errorMessage = null, DateTime? startedAt = null, DateTime? completedAt = null,
        CancellationToken cancellationToken = default) =>
        jobs.SetStatusAsync(id, status, errorMessage, startedAt, completedAt, cancellationToken);

    /// <summary>Stores the job's result (the same document again is harmless: the grain writes it before it completes, and may write it again after a restart).</summary>
    public async Task SetResultAsync(Guid id, string resultJson, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("UPDATE walkforwards SET result = @result::jsonb WHERE walkforward_id = @id");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("result", resultJson);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string Columns =
        "walkforward_id, owner, name, configuration::text, status, windows_planned, created_at, started_at, completed_at, error_message";

    private static WalkForwardRecord Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetInt32(5),
        reader.GetDateTime(6),
        reader.IsDBNull(7) ? null : reader.GetDateTime(7),
        reader.IsDBNull(8) ? null : reader.GetDateTime(8),
        reader.IsDBNull(9) ? null : reader.GetString(9));
}
