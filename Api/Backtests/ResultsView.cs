using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;
using Backtesting.Storage;
using Microsoft.Extensions.Caching.Memory;

namespace Backtesting.Api.Backtests;

/// <summary>A page of trades.</summary>
public sealed record TradePage(IReadOnlyList<Trade> Items, int Page, int PageSize, int TotalCount);

public sealed record DrawdownPoint(DateTime Time, double Drawdown);

public sealed record BenchmarkView(string Instrument, double TotalReturn, IReadOnlyList<DailyEquity> EquityCurve);

/// <summary>What <c>GET /results/{id}</c> answers: the stored results, with trades paged and curves optionally downsampled.</summary>
public sealed record ResultsResponse(
    Guid Id,
    string Status,
    bool Partial,
    ResultSummary Summary,
    PerformanceMetrics Metrics,
    IReadOnlyList<EquityPoint> EquityCurve,
    IReadOnlyList<DrawdownPoint> Drawdown,
    BenchmarkView Benchmark,
    IReadOnlyList<MonthlyReturn> MonthlyReturns,
    TradePage Trades,
    IReadOnlyList<InstrumentBreakdown> PerInstrument,
    IReadOnlyList<OpenPosition> OpenPositions,
    IReadOnlyList<string> Notes,
    string EngineVersion,
    string ContentHash,
    int EquityPointsStored);

/// <summary>
/// Results are immutable once stored (a backtest saves them when it ends), so they are kept in memory after the
/// first read, bounded by count; deleting a backtest drops its entry.
/// </summary>
public sealed class ResultsCache(IBacktestStore store) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 64 });

    public async Task<BacktestResult?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(id, out BacktestResult? cached))
        {
            return cached;
        }

        var result = await store.GetResultAsync(id, cancellationToken);
        if (result is not null)
        {
            _cache.Set(id, result, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(30) });
        }

        return result;
    }

    public void Forget(Guid id) => _cache.Remove(id);

    public void Dispose() => _cache.Dispose();
}

public static class ResultsView
{
    public const int MaxTradesPageSize = 1000;

    public static ResultsResponse Build(Guid id, string status, BacktestResult result, int tradesPage, int tradesPageSize, int? equityPoints)
    {
        var trades = result.Trades;
        var items = trades.Skip((tradesPage - 1) * tradesPageSize).Take(tradesPageSize).ToList();
        var curve = equityPoints is { } n ? Downsample.Largest(result.EquityCurve, n, p => p.Equity) : result.EquityCurve;
        var drawdown = equityPoints is { } m
            ? Downsample.Largest(result.EquityCurve, m, p => -p.Drawdown)
            : result.EquityCurve;
        var benchmark = equityPoints is { } b
            ? Downsample.Largest(result.Benchmark.EquityCurve, b, p => p.Equity)
            : result.Benchmark.EquityCurve;
        return new ResultsResponse(id, status, result.Partial, result.Summary, result.Metrics, curve,
            drawdown.Select(p => new DrawdownPoint(p.Time, p.Drawdown)).ToList(),
            new BenchmarkView(result.Benchmark.Instrument, result.Benchmark.TotalReturn, benchmark),
            result.MonthlyReturns, new TradePage(items, tradesPage, tradesPageSize, trades.Count), result.PerInstrument,
            result.OpenPositions, result.Notes, result.EngineVersion, result.ContentHash, result.EquityCurve.Count);
    }
}

/// <summary>
/// Largest-triangle-three-buckets downsampling: keeps the first and last points and, from each bucket between,
/// the point that spans the largest triangle with its neighbours, so peaks and troughs survive.
/// </summary>
public static class Downsample
{
    public static IReadOnlyList<T> Largest<T>(IReadOnlyList<T> points, int target, Func<T, double> value)
    {
        if (target >= points.Count || target < 3)
        {
            return target < 3 && points.Count > 2 ? [points[0], points[^1]] : points;
        }

        var sampled = new List<T>(target) { points[0] };
        var bucketSize = (double)(points.Count - 2) / (target - 2);
        var previous = 0;
        for (var bucket = 0; bucket < target - 2; bucket++)
        {
            var start = (int)(bucket * bucketSize) + 1;
            var end = Math.Min((int)((bucket + 1) * bucketSize) + 1, points.Count - 1);
            // The average of the next bucket stands in for the point that will be chosen there.
            var nextStart = end;
            var nextEnd = Math.Min((int)((bucket + 2) * bucketSize) + 1, points.Count);
            double averageX = 0, averageY = 0;
            for (var i = nextStart; i < nextEnd; i++)
            {
                averageX += i;
                averageY += value(points[i]);
            }

            var count = Math.Max(1, nextEnd - nextStart);
            averageX /= count;
            averageY /= count;

            var previousY = value(points[previous]);
            var best = start;
            var bestArea = -1.0;
            for (var i = start; i < end; i++)
            {
                var area = Math.Abs((previous - averageX) * (value(points[i]) - previousY) - (previous - i) * (averageY - previousY));
                if (area > bestArea)
                {
                    bestArea = area;
                    best = i;
                }
            }

            sampled.Add(points[best]);
            previous = best;
        }

        sampled.Add(points[^1]);
        return sampled;
    }
}
