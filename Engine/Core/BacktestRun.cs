using System.Reflection;
using System.Text;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Core;

/// <summary>
/// Runs one validated backtest from data to packaged result: the entry point the worker and the
/// in-process runner share.
/// </summary>
public sealed class BacktestRun
{
    public static string EngineVersion { get; } =
        typeof(BacktestRun).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    private readonly BacktestSpec _spec;
    private readonly IMarketDataProvider _data;
    private readonly StrategyCatalog _strategies;
    private readonly List<QualityFilteredSource> _filtered = new();
    private static readonly Dictionary<string, JsonElement> NoParameters = [];
    private string? _contentHash;

    public BacktestRun(BacktestSpec spec, IMarketDataProvider data, StrategyCatalog strategies)
    {
        _spec = spec;
        _data = data;
        _strategies = strategies;
    }

    /// <summary>
    /// SHA-256 of the normalized config, the data used, the engine version and a custom strategy's source: equal
    /// hashes, equal results. The strategy's parameters are hashed in the one order of <see cref="OptimizationPlan.Merge"/>
    /// (the schema's, then any other name in ordinal order): the order a client, or PostgreSQL's jsonb that a trial's
    /// parameters are read back from, wrote them in is no part of the configuration.
    /// </summary>
    /// <remarks>Computed once per run (the worker asks before the run for its checkpoints, the result after it): the
    /// config is serialized and every instrument's data version looked up once.</remarks>
    public string ContentHash() => _contentHash ??= ComputeContentHash();

    private string ComputeContentHash()
    {
        var builder = new StringBuilder();
        var known = _strategies.TryGet(_spec.Config.StrategyClass, out var strategy);
        var normalized = _spec.Config with
        {
            StrategyConfig = known
                ? OptimizationPlan.Merge(strategy, _spec.Config.StrategyConfig, NoParameters)
                : _spec.Config.StrategyConfig.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value),
        };
        builder.Append(ConfigJson.Write(normalized)).Append('\n');
        foreach (var instrument in InstrumentsWithBenchmark())
        {
            builder.Append(instrument.Id).Append('=').Append(_data.DataVersion(instrument, Request(instrument))).Append('\n');
        }

        builder.Append("engine=").Append(EngineVersion);
        if (known && strategy.SourceHash is { } source)
        {
            // Only custom strategies add a line, so the hashes of template runs (and their stored results) stay valid.
            builder.Append("\nstrategySource=").Append(source);
        }

        return Convert.ToHexStringLower(TextSha256.Hash(Encoding.UTF8.GetBytes(builder.ToString())));
    }

    private List<Instrument> InstrumentsWithBenchmark()
    {
        var all = _spec.Instruments.ToList();
        if (all.All(i => i.Id != _spec.Benchmark.Id))
        {
            all.Add(_spec.Benchmark);
        }

        return all;
    }

    private DataRequest Request(Instrument instrument)
    {
        var request = _spec.DataRequest(_spec.Config.DataConfiguration.Warmup);
        // A benchmark that is not traded falls back to daily bars when it has no data at the run's resolution.
        var traded = _spec.Instruments.Any(i => i.Id == instrument.Id);
        if (!traded && _data.Catalog.Availability(instrument, request.Resolution, request.DataType) is null)
        {
            request = request with { Resolution = Resolution.Daily, DataType = DataType.Bars };
        }

        return request;
    }

    public BacktestResult Execute(EngineOptions? options = null, IBacktestObserver? observer = null,
        CancellationToken cancellation = default) =>
        ResultPackager.Package(_spec, _data, _filtered, RunEngine(options, observer, cancellation), ContentHash());

    /// <summary>
    /// The same run as <see cref="Execute"/>, keeping what a trial of an optimization records: its metrics, daily
    /// returns, trade count and content hash, each equal to the full result's (<see cref="ResultPackager.Figures"/>).
    /// </summary>
    public RunFigures ExecuteFigures(CancellationToken cancellation = default) =>
        ResultPackager.Figures(_spec, RunEngine(null, null, cancellation), ContentHash());

    private EngineOutcome RunEngine(EngineOptions? options, IBacktestObserver? observer, CancellationToken cancellation)
    {
        if (!_strategies.TryGet(_spec.Config.StrategyClass, out var descriptor))
        {
            throw new InvalidOperationException($"Unknown strategy {_spec.Config.StrategyClass}.");
        }

        var strategy = descriptor.Create(_spec.Config.StrategyConfig);
        using var merged = OpenData();
        var engine = new BacktestEngine(_spec, strategy, merged, _data.FxRates, options, observer);
        return engine.Run(cancellation);
    }

    /// <summary>
    /// The days of the run's daily equity (and so of its daily returns), in order, without running its strategy: the
    /// engine over the same data with a strategy that never acts. Which days close depends on the data alone (the
    /// instruments, the benchmark, the resolution, the session and quality filters, the dates), never on the orders.
    /// </summary>
    public IReadOnlyList<DateOnly> TradingDays(CancellationToken cancellation = default)
    {
        using var merged = OpenData();
        var outcome = new BacktestEngine(_spec, new IdleStrategy(), merged, _data.FxRates).Run(cancellation);
        return outcome.DailyEquity.Select(d => d.Date).ToList();
    }

    /// <summary>A strategy that never acts: what <see cref="TradingDays"/> runs.</summary>
    private sealed class IdleStrategy : Strategy;

    /// <summary>Every instrument's data (the benchmark's too), quality filtered, merged by time: what the engine reads.</summary>
    private MarketDataMerger OpenData()
    {
        _filtered.Clear();
        var all = InstrumentsWithBenchmark();
        var sources = new List<IMarketDataSource>();
        for (var i = 0; i < all.Count; i++)
        {
            IMarketDataSource raw;
            try
            {
                raw = _data.Open(all[i], i, Request(all[i]));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException && e is not MarketDataException)
            {
                // Daily series are decoded when opened; later reads name their instrument in QualityFilteredSource.
                throw new MarketDataException(all[i].Id, e);
            }

            var filtered = new QualityFilteredSource(raw, _spec.Config.DataConfiguration.QualityFilters, all[i].Id);
            _filtered.Add(filtered);
            sources.Add(filtered);
        }

        return new MarketDataMerger(sources);
    }
}
