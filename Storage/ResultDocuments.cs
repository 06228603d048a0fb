using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;

namespace Backtesting.Storage;

/// <summary>The whole-document parts of a result, one <c>backtest_results</c> row each.</summary>
internal static class ResultDocuments
{
    public const string Summary = "summary";
    public const string Metrics = "metrics";
    public const string Benchmark = "benchmark";
    public const string MonthlyReturns = "monthly_returns";
    public const string PerInstrument = "per_instrument";
    public const string DataQuality = "data_quality";
    public const string Notes = "notes";
    public const string Config = "config";
    public const string OpenPositions = "open_positions";
    public const string Fills = "fills";
    public const string Run = "run";
    /// <summary>
    /// The trades exactly as computed. The seed's backtest_trades columns are DECIMAL(20,8) and serve queries;
    /// reading results back uses this document so no figure loses precision.
    /// </summary>
    public const string Trades = "trades";

    /// <summary>What identifies the run that produced the results.</summary>
    private sealed record RunInfo(string EngineVersion, string ContentHash, bool Partial, string FxRateSource);

    public static List<(string Type, string Json)> From(BacktestResult result) =>
    [
        (Summary, Serialize(result.Summary)),
        (Metrics, Serialize(result.Metrics)),
        (Benchmark, Serialize(result.Benchmark)),
        (MonthlyReturns, Serialize(result.MonthlyReturns)),
        (PerInstrument, Serialize(result.PerInstrument)),
        (DataQuality, Serialize(result.DataQuality)),
        (Notes, Serialize(result.Notes)),
        (Config, Serialize(result.Config)),
        (OpenPositions, Serialize(result.OpenPositions)),
        (Fills, Serialize(result.Fills)),
        (Trades, Serialize(result.Trades)),
        (Run, Serialize(new RunInfo(result.EngineVersion, result.ContentHash, result.Partial, result.FxRateSource))),
    ];

    public static BacktestResult Assemble(IReadOnlyDictionary<string, string> documents, List<Trade> trades, List<EquityPoint> equity,
        List<DailyEquity> dailyEquity, List<DailyReturn> dailyReturns, List<OrderRecord> orders)
    {
        T Part<T>(string type) => documents.TryGetValue(type, out var json)
            ? Deserialize<T>(json)
            : throw new InvalidDataException($"Stored results lack their '{type}' part");

        var run = Part<RunInfo>(Run);
        return new BacktestResult
        {
            EngineVersion = run.EngineVersion,
            ContentHash = run.ContentHash,
            Partial = run.Partial,
            Config = Part<BacktestConfig>(Config),
            Summary = Part<ResultSummary>(Summary),
            Metrics = Part<PerformanceMetrics>(Metrics),
            Trades = documents.TryGetValue(Trades, out var exact) ? Deserialize<List<Trade>>(exact) : trades,
            EquityCurve = equity,
            DailyEquity = dailyEquity,
            DailyReturns = dailyReturns,
            Benchmark = Part<BenchmarkResult>(Benchmark),
            MonthlyReturns = Part<List<MonthlyReturn>>(MonthlyReturns),
            Orders = orders,
            Fills = Part<List<FillRecord>>(Fills),
            PerInstrument = Part<List<InstrumentBreakdown>>(PerInstrument),
            OpenPositions = Part<List<OpenPosition>>(OpenPositions),
            DataQuality = Part<List<DataQualityCounts>>(DataQuality),
            FxRateSource = run.FxRateSource,
            Notes = Part<List<string>>(Notes),
        };
    }

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, JsonDefaults.Options) ?? throw new InvalidDataException($"Stored {typeof(T).Name} is null");

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, JsonDefaults.Options);
}
