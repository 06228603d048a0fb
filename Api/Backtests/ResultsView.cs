using Backtesting.Engine;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;
using Backtesting.Storage;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

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
    int EquityPointsStored)
{
    /// <summary>The version of the custom strategy (named in the summary) this backtest ran; null for a template.</summary>
    public int? StrategyVersion { get; init; }
}

/// <summary>
/// A JSON value serialized ahead of time, written into a response as it is (the immutable parts of a stored result
/// are serialized once and then copied into every answer instead of being serialized again).
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public sealed class RawJson(byte[] utf8)
{
    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;

    public static RawJson Of<T>(T value, JsonSerializerOptions options) => new(JsonSerializer.SerializeToUtf8Bytes(value, options));
}

public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("RawJson is written only");

    // Made by this process's own serializer: no need to validate it again on every write.
    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
}

/// <summary>
/// What <c>GET /results/{id}</c> writes: <see cref="ResultsResponse"/>, property for property and byte for byte (a test
/// holds them equal), with the parts that never change for a stored result pre-serialized.
/// </summary>
public sealed record ResultsBody(
    Guid Id,
    string Status,
    bool Partial,
    RawJson Summary,
    RawJson Metrics,
    RawJson EquityCurve,
    RawJson Drawdown,
    RawJson Benchmark,
    RawJson MonthlyReturns,
    TradePage Trades,
    RawJson PerInstrument,
    RawJson OpenPositions,
    RawJson Notes,
    string EngineVersion,
    string ContentHash,
    int EquityPointsStored)
{
    public int? StrategyVersion { get; init; }
}

/// <summary>
/// A stored result with its immutable parts serialized once (with the API's JSON options), and the version of the
/// custom strategy it ran (null for a template), which is fixed for a backtest too.
/// </summary>
public sealed class StoredResults
{
    public StoredResults(BacktestResult result, int? strategyVersion, JsonSerializerOptions options)
    {
        Result = result;
        StrategyVersion = strategyVersion;
        Options = options;
        Summary = RawJson.Of(result.Summary, options);
        Metrics = RawJson.Of(result.Metrics, options);
        EquityCurve = RawJson.Of(result.EquityCurve, options);
        Drawdown = RawJson.Of(ResultsView.DrawdownOf(result.EquityCurve), options);
        Benchmark = RawJson.Of(new BenchmarkView(result.Benchmark.Instrument, result.Benchmark.TotalReturn, result.Benchmark.EquityCurve), options);
        MonthlyReturns = RawJson.Of(result.MonthlyReturns, options);
        PerInstrument = RawJson.Of(result.PerInstrument, options);
        OpenPositions = RawJson.Of(result.OpenPositions, options);
        Notes = RawJson.Of(result.Notes, options);
    }

    public BacktestResult Result { get; }
    public int? StrategyVersion { get; }
    public JsonSerializerOptions Options { get; }
    public RawJson Summary { get; }
    public RawJson Metrics { get; }
    public RawJson EquityCurve { get; }
    public RawJson Drawdown { get; }
    public RawJson Benchmark { get; }
    public RawJson MonthlyReturns { get; }
    public RawJson PerInstrument { get; }
    public RawJson OpenPositions { get; }
    public RawJson Notes { get; }

    /// <summary>Roughly what the entry holds in memory, for the cache's bound: the pre-serialized bytes, and the result about as much again.</summary>
    public long Size => 2L * (Summary.Utf8.Length + Metrics.Utf8.Length + EquityCurve.Utf8.Length + Drawdown.Utf8.Length + Benchmark.Utf8.Length
                              + MonthlyReturns.Utf8.Length + PerInstrument.Utf8.Length + OpenPositions.Utf8.Length + Notes.Utf8.Length)
                         + 200L * Result.Trades.Count;
}

/// <summary>
/// Results are immutable once stored (a backtest saves them when it ends), so they are kept in memory after the
/// first read, with their immutable parts pre-serialized, bounded by size; deleting a backtest drops its entry.
/// </summary>
public sealed class ResultsCache(IBacktestStore store, IStrategyStore strategies, IOptions<JsonOptions> json) : IDisposable
{
    /// <summary>The cache's bound, in (estimated) bytes.</summary>
    public const long SizeLimit = 512 * ByteSize.MiB;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = SizeLimit });

    public async Task<BacktestResult?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        (await GetStoredAsync(id, cancellationToken))?.Result;

    public async Task<StoredResults?> GetStoredAsync(Guid id, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(id, out StoredResults? cached))
        {
            return cached;
        }

        var result = await store.GetResultAsync(id, cancellationToken);
        if (result is null)
        {
            return null;
        }

        var custom = await strategies.GetBacktestStrategyAsync(id, cancellationToken);
        var stored = new StoredResults(result, custom?.Version, json.Value.SerializerOptions);
        _cache.Set(id, stored, new MemoryCacheEntryOptions { Size = Math.Min(stored.Size, SizeLimit), SlidingExpiration = TimeSpan.FromMinutes(30) });
        return stored;
    }

    public void Forget(Guid id) => _cache.Remove(id);

    public void Dispose() => _cache.Dispose();
}

/// <summary>
/// The answer of <c>GET /results/{id}</c>: writes <see cref="ResultsBody"/> as <c>Ok</c> would, and documents the 200 as
/// <see cref="ResultsResponse"/>, the shape a client reads (the body is that shape, pre-serialized in parts).
/// </summary>
public sealed class ResultsAnswer(ResultsBody body) : IResult, IEndpointMetadataProvider
{
    public Task ExecuteAsync(HttpContext httpContext) => TypedResults.Ok(body).ExecuteAsync(httpContext);

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(ResultsResponse), ["application/json"]));
}

public static class ResultsView
{
    /// <summary>
    /// The answer to <c>GET /results/{id}</c>, equal to <see cref="Build"/>'s when serialized: the whole curves come
    /// pre-serialized from the cache entry; a trades page and downsampled curves are made for the request.
    /// </summary>
    public static ResultsBody Body(Guid id, string status, StoredResults stored, int tradesPage, int tradesPageSize, int? equityPoints)
    {
        var result = stored.Result;
        var (curve, drawdown, benchmark) = (stored.EquityCurve, stored.Drawdown, stored.Benchmark);
        if (equityPoints is { } n)
        {
            curve = RawJson.Of(Downsample.Largest(result.EquityCurve, n, p => p.Equity), stored.Options);
            drawdown = RawJson.Of(DrawdownOf(Downsample.Largest(result.EquityCurve, n, p => -p.Drawdown)), stored.Options);
            benchmark = RawJson.Of(new BenchmarkView(result.Benchmark.Instrument, result.Benchmark.TotalReturn,
                Downsample.Largest(result.Benchmark.EquityCurve, n, p => p.Equity)), stored.Options);
        }

        return new ResultsBody(id, status, result.Partial, stored.Summary, stored.Metrics, curve, drawdown, benchmark, stored.MonthlyReturns,
            TradesPage(result, tradesPage, tradesPageSize), stored.PerInstrument, stored.OpenPositions, stored.Notes, result.EngineVersion,
            result.ContentHash, result.EquityCurve.Count) { StrategyVersion = stored.StrategyVersion };
    }

    public static IReadOnlyList<DrawdownPoint> DrawdownOf(IReadOnlyList<EquityPoint> points) =>
        points.Select(p => new DrawdownPoint(p.Time, p.Drawdown)).ToList();

    private static TradePage TradesPage(BacktestResult result, int tradesPage, int tradesPageSize)
    {
        var trades = result.Trades;
        var items = trades.Skip((tradesPage - 1) * tradesPageSize).Take(tradesPageSize).ToList();
        return new TradePage(items, tradesPage, tradesPageSize, trades.Count);
    }

    /// <summary>The documented answer as objects: what <see cref="Body"/> must serialize to.</summary>
    public static ResultsResponse Build(Guid id, string status, BacktestResult result, int tradesPage, int tradesPageSize, int? equityPoints)
    {
        var curve = equityPoints is { } n ? Downsample.Largest(result.EquityCurve, n, p => p.Equity) : result.EquityCurve;
        var drawdown = equityPoints is { } m
            ? Downsample.Largest(result.EquityCurve, m, p => -p.Drawdown)
            : result.EquityCurve;
        var benchmark = equityPoints is { } b
            ? Downsample.Largest(result.Benchmark.EquityCurve, b, p => p.Equity)
            : result.Benchmark.EquityCurve;
        return new ResultsResponse(id, status, result.Partial, result.Summary, result.Metrics, curve, DrawdownOf(drawdown),
            new BenchmarkView(result.Benchmark.Instrument, result.Benchmark.TotalReturn, benchmark),
            result.MonthlyReturns, TradesPage(result, tradesPage, tradesPageSize), result.PerInstrument,
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
