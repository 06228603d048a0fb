using Npgsql;
using NpgsqlTypes;
using static Backtesting.Storage.NpgsqlValues;

namespace Backtesting.Storage;

/// <summary>
/// The statements every table of jobs shares (optimizations, walk-forwards: an id, an owner, a status word, the
/// created, started and completed times and an error): moving a job to a status, one page of a listing, deleting.
/// The table and column names are the stores' constants, never a caller's input.
/// </summary>
internal sealed class JobTable(NpgsqlDataSource dataSource, string table, string idColumn)
{
    /// <summary>Moves a job to a status; the start and end times are kept once set. False when there is no such job.</summary>
    public async Task<bool> SetStatusAsync(Guid id, string status, string? errorMessage, DateTime? startedAt, DateTime? completedAt,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE {table}
               SET status = @status, error_message = @error,
                   started_at = COALESCE(started_at, @started), completed_at = COALESCE(@completed, completed_at)
             WHERE {idColumn} = @id
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("error", NpgsqlDbType.Text, DbValue(errorMessage));
        command.Parameters.AddWithValue("started", NpgsqlDbType.TimestampTz, DbValue(Utc(startedAt)));
        command.Parameters.AddWithValue("completed", NpgsqlDbType.TimestampTz, DbValue(Utc(completedAt)));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// A page of jobs, newest first, read by <paramref name="read"/> from <paramref name="columns"/>; only
    /// <paramref name="owner"/>'s when given, only those in <paramref name="status"/> when given. The total comes with
    /// the page in one round trip, and is still answered for a page past the last.
    /// </summary>
    public async Task<(IReadOnlyList<T> Items, int TotalCount)> ListAsync<T>(string columns, Func<NpgsqlDataReader, T> read,
        string? owner, string? status, int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        const string Filter = "(@owner::text IS NULL OR owner = @owner) AND (@status::text IS NULL OR status = @status)";
        await using var command = dataSource.CreateCommand($"""
            SELECT {columns}, count(*) OVER () FROM {table} WHERE {Filter}
             ORDER BY created_at DESC, {idColumn}
             LIMIT @limit OFFSET @offset
            """);
        AddFilter(command, owner, status);
        command.Parameters.AddWithValue("limit", pageSize);
        command.Parameters.AddWithValue("offset", (long)(page - 1) * pageSize);
        var items = new List<T>();
        var total = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(read(reader));
                total = (int)reader.GetInt64(reader.FieldCount - 1);
            }
        }

        if (items.Count == 0 && page > 1)
        {
            await using var count = dataSource.CreateCommand($"SELECT count(*) FROM {table} WHERE {Filter}");
            AddFilter(count, owner, status);
            total = (int)(long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return (items, total);
    }

    /// <summary>Deletes a job (and what the schema deletes with it); false when there is no such job.</summary>
    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"DELETE FROM {table} WHERE {idColumn} = @id");
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static void AddFilter(NpgsqlCommand command, string? owner, string? status)
    {
        command.Parameters.AddWithValue("owner", NpgsqlDbType.Text, DbValue(owner));
        command.Parameters.AddWithValue("status", NpgsqlDbType.Text, DbValue(status));
    }
}
