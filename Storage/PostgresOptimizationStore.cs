using System.Buffers.Binary;
using Npgsql;
using NpgsqlTypes;
using static Backtesting.Storage.NpgsqlValues;

namespace Backtesting.Storage;

/// <summary>An optimization job's row (sql/040_optimizations.sql).</summary>
/// <param name="ConfigurationJson">The job's request as accepted (base config, parameter space, method, objective, ...).</param>
public sealed record OptimizationRecord(
    Guid Id,
    string Owner,
    string? Name,
    string ConfigurationJson,
    string Status,
    int Priority,
    int TrialsPlanned,
    DateTime CreatedAt,
    DateTime? StartedAt = null,
    DateTime? CompletedAt = null,
    string? ErrorMessage = null);

/// <summary>One finished trial of a job.</summary>
/// <param name="MetricsJson">Every metric of the run's metrics object; null when the trial never ran.</param>
/// <param name="Objective">The job's objective for this trial; null when infeasible or undefined.</param>
/// <param name="DailyReturns">The trial's daily returns (float32, as the worker prints them), or null.</param>
public sealed record TrialRow(
    int TrialNumber,
    string ParametersJson,
    string? MetricsJson,
    double? Objective,
    bool Feasible,
    string? InfeasibleReason,
    int? TotalTrades,
    string? ContentHash,
    float[]? DailyReturns = null);

/// <summary>
/// What a page of trials is: sorted by a metric of <c>metrics</c> (or the objective when null; or the trial number when
/// <paramref name="ByTrialNumber"/>), a feasibility filter, 1-based page.
/// </summary>
public sealed record TrialQuery(string? SortMetric = null, bool Descending = true, bool? Feasible = null, int Page = 1, int PageSize = 50,
    bool ByTrialNumber = false);

/// <summary>How far a job's stored trials got: how many, how many feasible, and the highest and lowest objective.</summary>
public sealed record TrialTally(int Trials, int FeasibleTrials, double? MaxObjective, double? MinObjective);

public sealed record TrialPage(IReadOnlyList<TrialRow> Items, int TotalCount);

/// <summary>
/// One cell of a two-parameter surface: the best value of a metric over the feasible trials with these two values
/// (whatever the other parameters were; null when none is feasible), and how many trials the cell holds.
/// </summary>
/// <param name="X">The first parameter's value as JSON text (e.g. <c>10</c> or <c>"sma"</c>).</param>
public sealed record SurfaceCell(string X, string Y, double? Best, int Trials, int FeasibleTrials);

/// <summary>
/// Optimization jobs and their trials in PostgreSQL. Trials are written in batches, one round trip each, and each
/// (job, trial number) is stored once: a repeated trial (a resumed batch printing again what it printed before its
/// checkpoint reached disk) is ignored, never an error and never a second row.
/// </summary>
public sealed class PostgresOptimizationStore(NpgsqlDataSource dataSource)
{
    private readonly JobTable jobs = new(dataSource, "optimizations", "optimization_id");

    /// <summary>Stores a new job; false when a job with this id exists already (nothing is changed then).</summary>
    public async Task<bool> CreateAsync(OptimizationRecord record, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO optimizations (optimization_id, owner, name, configuration, status, priority, trials_planned, created_at)
            VALUES (@id, @owner, @name, @configuration::jsonb, @status, @priority, @planned, @created)
            ON CONFLICT (optimization_id) DO NOTHING
            """);
        command.Parameters.AddWithValue("id", record.Id);
        command.Parameters.AddWithValue("owner", record.Owner);
        command.Parameters.AddWithValue("name", DbValue(record.Name));
        command.Parameters.AddWithValue("configuration", record.ConfigurationJson);
        command.Parameters.AddWithValue("status", record.Status);
        command.Parameters.AddWithValue("priority", record.Priority);
        command.Parameters.AddWithValue("planned", record.TrialsPlanned);
        command.Parameters.AddWithValue("created", Utc(record.CreatedAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<OptimizationRecord?> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {RecordColumns} FROM optimizations WHERE optimization_id = @id");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    /// <summary>A page of jobs, newest first; only <paramref name="owner"/>'s when given, only those in <paramref name="status"/> when given.</summary>
    public Task<(IReadOnlyList<OptimizationRecord> Items, int TotalCount)> ListAsync(string? owner, string? status, int page, int pageSize,
        CancellationToken cancellationToken = default) =>
        jobs.ListAsync(RecordColumns, ReadRecord, owner, status, page, pageSize, cancellationToken);

    /// <inheritdoc cref="JobTable.SetStatusAsync"/>
    public Task<bool> SetStatusAsync(Guid id, string status, string? errorMessage = null, DateTime? startedAt = null, DateTime? completedAt = null,
        CancellationToken cancellationToken = default) =>
        jobs.SetStatusAsync(id, status, errorMessage, startedAt, completedAt, cancellationToken);

    /// <summary>Deletes a job and its trials; false when there is no such job.</summary>
    public Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken = default) => jobs.DeleteAsync(id, cancellationToken);

    /// <summary>
    /// Stores a batch of trials in one statement; a trial already stored for this job is left as it is. Returns how
    /// many rows were new. Throws <see cref="KeyNotFoundException"/> when the job does not exist.
    /// </summary>
    public async Task<int> SaveTrialsAsync(Guid id, IReadOnlyList<TrialRow> trials, CancellationToken cancellationToken = default)
    {
        if (trials.Count == 0)
        {
            return await ExistsAsync(id, cancellationToken) ? 0 : throw new KeyNotFoundException($"No optimization {id}");
        }

        await using var batch = dataSource.CreateBatch();
        // Locks the job's row for the insert's transaction, and tells a missing job from a batch of repeats.
        var job = new NpgsqlBatchCommand("SELECT 1 FROM optimizations WHERE optimization_id = @id FOR KEY SHARE");
        job.Parameters.AddWithValue("id", id);
        batch.BatchCommands.Add(job);
        var insert = new NpgsqlBatchCommand("""
            INSERT INTO optimization_trials (optimization_id, trial_number, parameters, metrics, objective, feasible,
                                             infeasible_reason, total_trades, content_hash, daily_returns)
            SELECT @id, t.trial_number, t.parameters::jsonb, t.metrics::jsonb, t.objective, t.feasible, t.reason, t.trades,
                   t.hash, t.returns
              FROM unnest(@trial_number, @parameters, @metrics, @objective, @feasible, @reason, @trades, @hash, @returns)
                   AS t(trial_number, parameters, metrics, objective, feasible, reason, trades, hash, returns)
             WHERE EXISTS (SELECT 1 FROM optimizations WHERE optimization_id = @id)
            ON CONFLICT (optimization_id, trial_number) DO NOTHING
            """);
        insert.Parameters.AddWithValue("id", id);
        AddColumn(insert, "trial_number", NpgsqlDbType.Integer, trials, t => t.TrialNumber);
        AddColumn(insert, "parameters", NpgsqlDbType.Text, trials, t => t.ParametersJson);
        AddColumn(insert, "metrics", NpgsqlDbType.Text, trials, t => t.MetricsJson);
        AddColumn(insert, "objective", NpgsqlDbType.Double, trials, t => t.Objective is { } o && double.IsFinite(o) ? o : (double?)null);
        AddColumn(insert, "feasible", NpgsqlDbType.Boolean, trials, t => t.Feasible);
        AddColumn(insert, "reason", NpgsqlDbType.Text, trials, t => t.InfeasibleReason);
        AddColumn(insert, "trades", NpgsqlDbType.Integer, trials, t => t.TotalTrades);
        AddColumn(insert, "hash", NpgsqlDbType.Text, trials, t => t.ContentHash);
        AddColumn(insert, "returns", NpgsqlDbType.Bytea, trials, t => t.DailyReturns is { } r ? ReturnsBytes(r) : null);
        batch.BatchCommands.Add(insert);
        bool exists;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            exists = await reader.ReadAsync(cancellationToken);
        }

        return exists ? insert.RecordsAffected : throw new KeyNotFoundException($"No optimization {id}");
    }

    /// <summary>The trial numbers stored for a job, ascending (what a resumed job need not run again).</summary>
    public async Task<IReadOnlyList<int>> TrialNumbersAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT trial_number FROM optimization_trials WHERE optimization_id = @id ORDER BY trial_number");
        command.Parameters.AddWithValue("id", id);
        var numbers = new List<int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            numbers.Add(reader.GetInt32(0));
        }

        return numbers;
    }

    /// <summary>
    /// A page of a job's trials. Sorted by <see cref="TrialQuery.SortMetric"/> of the metrics (the objective when
    /// null), trials without a numeric value last, ties by trial number ascending, so paging enumerates each trial once.
    /// </summary>
    public async Task<TrialPage> TrialsAsync(Guid id, TrialQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1);
        var direction = query.Descending ? "DESC" : "ASC";
        var order = query.ByTrialNumber
            ? $"trial_number {direction}"
            : $"CASE WHEN @metric::text IS NULL THEN objective ELSE {NumericMetric("@metric")} END {direction} NULLS LAST, trial_number";
        await using var command = dataSource.CreateCommand($"""
            SELECT {TrialColumns}, count(*) OVER () FROM optimization_trials
             WHERE optimization_id = @id AND (@feasible::boolean IS NULL OR feasible = @feasible)
             ORDER BY {order}
             LIMIT @limit OFFSET @offset
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("feasible", NpgsqlDbType.Boolean, DbValue(query.Feasible));
        command.Parameters.AddWithValue("metric", NpgsqlDbType.Text, DbValue(query.SortMetric));
        command.Parameters.AddWithValue("limit", query.PageSize);
        command.Parameters.AddWithValue("offset", (long)(query.Page - 1) * query.PageSize);
        var items = new List<TrialRow>();
        var total = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(ReadTrial(reader));
                total = (int)reader.GetInt64(9);
            }
        }

        if (items.Count == 0 && query.Page > 1)
        {
            await using var count = dataSource.CreateCommand("""
                SELECT count(*) FROM optimization_trials WHERE optimization_id = @id AND (@feasible::boolean IS NULL OR feasible = @feasible)
                """);
            count.Parameters.AddWithValue("id", id);
            count.Parameters.AddWithValue("feasible", NpgsqlDbType.Boolean, DbValue(query.Feasible));
            total = (int)(long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return new TrialPage(items, total);
    }

    /// <summary>One stored trial of a job; null when the job has no such trial.</summary>
    public async Task<TrialRow?> TrialAsync(Guid id, int trialNumber, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {TrialColumns} FROM optimization_trials WHERE optimization_id = @id AND trial_number = @trial");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("trial", trialNumber);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadTrial(reader) : null;
    }

    /// <summary>The tally of each job's stored trials, in one round trip (a job without trials is absent from the answer).</summary>
    public async Task<IReadOnlyDictionary<Guid, TrialTally>> TalliesAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken = default)
    {
        var tallies = new Dictionary<Guid, TrialTally>();
        if (ids.Count == 0)
        {
            return tallies;
        }

        await using var command = dataSource.CreateCommand("""
            SELECT optimization_id, count(*), count(*) FILTER (WHERE feasible),
                   max(objective) FILTER (WHERE feasible), min(objective) FILTER (WHERE feasible)
              FROM optimization_trials WHERE optimization_id = ANY(@ids) GROUP BY optimization_id
            """);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tallies[reader.GetGuid(0)] = new TrialTally((int)reader.GetInt64(1), (int)reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetDouble(3), reader.IsDBNull(4) ? null : reader.GetDouble(4));
        }

        return tallies;
    }

    /// <summary>
    /// The two-parameter surface of a job for a heatmap: one cell per pair of values of <paramref name="x"/> and
    /// <paramref name="y"/> that some trial had, with the best <paramref name="metric"/> (max, or min when
    /// <paramref name="maximize"/> is false) over that cell's feasible trials. Ordered by the values, numerically when both are numbers.
    /// </summary>
    public async Task<IReadOnlyList<SurfaceCell>> SurfaceAsync(Guid id, string x, string y, string metric, bool maximize,
        CancellationToken cancellationToken = default)
    {
        var best = maximize ? "max" : "min";
        await using var command = dataSource.CreateCommand($"""
            SELECT x::text, y::text, best, trials, feasible FROM (
                SELECT parameters -> @x AS x, parameters -> @y AS y,
                       {best}({NumericMetric("@metric")}) FILTER (WHERE feasible) AS best,
                       count(*) AS trials, count(*) FILTER (WHERE feasible) AS feasible
                  FROM optimization_trials
                 WHERE optimization_id = @id AND parameters -> @x IS NOT NULL AND parameters -> @y IS NOT NULL
                 GROUP BY 1, 2) AS cells
             ORDER BY CASE WHEN jsonb_typeof(x) = 'number' THEN x::text::float8 END, x::text,
                      CASE WHEN jsonb_typeof(y) = 'number' THEN y::text::float8 END, y::text
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("x", NpgsqlDbType.Text, x);
        command.Parameters.AddWithValue("y", NpgsqlDbType.Text, y);
        command.Parameters.AddWithValue("metric", NpgsqlDbType.Text, metric);
        var cells = new List<SurfaceCell>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            cells.Add(new SurfaceCell(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetDouble(2),
                (int)reader.GetInt64(3), (int)reader.GetInt64(4)));
        }

        return cells;
    }

    /// <summary>
    /// The daily returns of a job's feasible trials that have them, by trial number ascending, at most
    /// <paramref name="maxTrials"/> of them (the lowest numbers): the columns of the overfitting statistics' matrix.
    /// </summary>
    public async Task<IReadOnlyList<(int TrialNumber, float[] Returns)>> ReturnsAsync(Guid id, int maxTrials, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTrials, 0);
        await using var command = dataSource.CreateCommand("""
            SELECT trial_number, daily_returns FROM optimization_trials
             WHERE optimization_id = @id AND feasible AND daily_returns IS NOT NULL
             ORDER BY trial_number LIMIT @limit
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("limit", maxTrials);
        var columns = new List<(int, float[])>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns.Add((reader.GetInt32(0), ReturnsFrom(reader.GetFieldValue<byte[]>(1))));
        }

        return columns;
    }

    /// <summary>float32 values as little-endian bytes, 4 a value (the column's documented layout).</summary>
    internal static byte[] ReturnsBytes(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return bytes;
    }

    internal static float[] ReturnsFrom(byte[] bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
        {
            throw new InvalidDataException($"daily_returns holds {bytes.Length} bytes, not a whole number of float32 values");
        }

        var values = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        }

        return values;
    }

    private async Task<bool> ExistsAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM optimizations WHERE optimization_id = @id)");
        command.Parameters.AddWithValue("id", id);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A metric of the trial's metrics as a number; null when absent or not a number (never a cast error).</summary>
    private static string NumericMetric(string parameter) =>
        $"(CASE WHEN jsonb_typeof(metrics -> {parameter}) = 'number' THEN (metrics ->> {parameter})::float8 END)";

    private const string RecordColumns =
        "optimization_id, owner, name, configuration::text, status, priority, trials_planned, created_at, started_at, completed_at, error_message";

    private const string TrialColumns =
        "trial_number, parameters::text, metrics::text, objective, feasible, infeasible_reason, total_trades, content_hash, daily_returns";

    private static OptimizationRecord ReadRecord(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetInt32(5),
        reader.GetInt32(6),
        reader.GetDateTime(7),
        reader.IsDBNull(8) ? null : reader.GetDateTime(8),
        reader.IsDBNull(9) ? null : reader.GetDateTime(9),
        reader.IsDBNull(10) ? null : reader.GetString(10));

    private static TrialRow ReadTrial(NpgsqlDataReader reader) => new(
        reader.GetInt32(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetDouble(3),
        reader.GetBoolean(4),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        reader.IsDBNull(6) ? null : reader.GetInt32(6),
        reader.IsDBNull(7) ? null : reader.GetString(7),
        reader.IsDBNull(8) ? null : ReturnsFrom(reader.GetFieldValue<byte[]>(8)));
}
