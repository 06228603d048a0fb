using Npgsql;

namespace Backtesting.Storage;

/// <summary>
/// <see cref="IBacktestStore"/> on PostgreSQL (the tables of <c>sql/010_app_schema.sql</c> and the scripts after it),
/// one concern per file: the <c>backtests</c> row with its status history and listing
/// (<c>PostgresBacktestStore.Backtests.cs</c>), writing results (<c>.ResultsWriting.cs</c>), reading them back
/// (<c>.ResultsReading.cs</c>) and checkpoints (<c>.Checkpoints.cs</c>). Whole-result documents (summary, metrics,
/// benchmark, ...) go to <c>backtest_results</c> as jsonb, one row per type (<see cref="ResultDocuments"/>); trades
/// and orders go to their own tables, each column sent as one array parameter and unnested by a single INSERT; the
/// equity curve and the daily series are one row of arrays each (sql/032_result_series.sql).
/// </summary>
public sealed partial class PostgresBacktestStore : IBacktestStore, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;

    /// <summary>
    /// Runs on a data source the caller owns and disposes: a host registers one <see cref="NpgsqlDataSource"/> in its
    /// container, which hands it to every store and disposes it when the host stops.
    /// </summary>
    public PostgresBacktestStore(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
    }

    /// <summary>For tools and tests without a container: creates a data source for this connection string and disposes it with the store.</summary>
    public PostgresBacktestStore(string connectionString)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _ownsDataSource = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync();
        }
    }

    public void Dispose()
    {
        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }
    }
}
