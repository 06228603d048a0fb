using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Orders;
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

    public BacktestRun(BacktestSpec spec, IMarketDataProvider data, StrategyCatalog strategies)
    {
        _spec = spec;
        _data = data;
        _strategies = strategies;
    }

    /// <summary>
    /// SHA-256 of the normalized config, the data used, the engine version and a custom strategy's source: equal
    /// hashes, equal results.
    /// </summary>
    public string ContentHash()
    {
        var builder = new StringBuilder();
        builder.Append(JsonSerializer.Serialize(_spec.Config, JsonDefaults.Options)).Append('\n');
        foreach (var instrument in InstrumentsWithBenchmark())
        {
            builder.Append(instrument.Id).Append('=').Append(_data.DataVersion(instrument, Request(instrument))).Append('\n');
        }

        builder.Append("engine=").Append(EngineVersion);
        if (_strategies.TryGet(_spec.Config.StrategyClass, out var strategy) && strategy.SourceHash is { } source)
        {
            // Only custom strategies add a line, so the hashes of template runs (and their stored results) stay valid.
            builder.Append("\nstrategySource=").Append(source);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
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
        CancellationToken cancellation = default)
    {
        if (!_strategies.TryGet(_spec.Config.StrategyClass, out var descriptor))
        {
            throw new InvalidOperationException($"Unknown strategy {_spec.Config.StrategyClass}.");
        }

        var strategy = descriptor.Create(_spec.Config.StrategyConfig);
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

        using var merged = new MarketDataMerger(sources);
        var engine = new BacktestEngine(_spec, strategy, merged, _data.FxRates, options, observer);
        var outcome = engine.Run(cancellation);
        return Package(outcome);
    }

    private BacktestResult Package(EngineOutcome outcome)
    {
        var portfolio = outcome.Portfolio;
        var trades = portfolio.Trades;
        var instruments = outcome.AllInstruments;
        var metrics = MetricsCalculator.Compute(new MetricsInput
        {
            InitialEquity = _spec.InitialBalance,
            DailyEquity = outcome.DailyEquity,
            BenchmarkDailyEquity = outcome.BenchmarkDaily,
            BenchmarkInitialEquity = _spec.InitialBalance,
            Trades = trades,
            PeriodsPerYear = _spec.PeriodsPerYear,
            RiskFreeRate = _spec.Config.RiskFreeRate,
            Exposure = outcome.Exposure,
            TotalTradedValue = portfolio.TradedValue,
            TotalCommission = portfolio.TotalCommission,
            MaxDrawdown = outcome.Drawdown.MaxDrawdown,
            MaxDrawdownDuration = outcome.Drawdown.MaxDuration,
        });

        var dailyReturns = new List<DailyReturn>(outcome.DailyEquity.Count);
        var previous = _spec.InitialBalance;
        foreach (var day in outcome.DailyEquity)
        {
            dailyReturns.Add(new DailyReturn(day.Date, previous > 0 ? day.Equity / previous - 1 : 0));
            previous = day.Equity;
        }

        var finalEquity = outcome.DailyEquity.Count > 0 ? outcome.DailyEquity[^1].Equity : _spec.InitialBalance;
        var open = portfolio.Positions.Where(p => p.IsOpen).Select(p => new OpenPosition(
            p.Instrument.Id,
            p.Quantity > 0 ? "long" : "short",
            Math.Abs(p.Quantity),
            p.AveragePrice,
            p.LastPrice,
            p.MarketValue,
            p.UnrealizedPnl,
            new DateTime(p.EntryTime, DateTimeKind.Utc))).ToList();

        var notes = new List<string>();
        if (open.Count > 0)
        {
            notes.Add($"{open.Count} position(s) were still open when the data ended; they are marked to the last close and not counted as trades.");
        }

        if (outcome.HaltedAt is { } halted)
        {
            notes.Add($"Trading halted at {halted:yyyy-MM-dd HH:mm} UTC: drawdown exceeded riskSettings.drawdownHalt ({_spec.Config.RiskSettings.DrawdownHalt:P1}); positions were closed.");
        }

        if (outcome.Cancelled)
        {
            notes.Add("The run was stopped before the end of its data: these are partial results.");
        }

        if (outcome.EquityCurve.Count > 0 && outcome.EquityCurve.Count < outcome.ProcessedPoints / Math.Max(1, instruments.Count) / 2)
        {
            notes.Add("equityCurve is thinned evenly to a bounded number of points; dailyEquity holds every trading day.");
        }

        var benchmarkReturn = outcome.BenchmarkDaily.Count > 0 ? outcome.BenchmarkDaily[^1].Equity / _spec.InitialBalance - 1 : 0;
        var fxNeeded = instruments.Any(i => i.QuoteCurrency != _spec.BaseCurrency);
        var fxSource = fxNeeded ? _data.FxRates.Source : "none needed: every instrument is quoted in the base currency";
        // Validation refuses stale rates unless the config opted in; then every span they were used on is stated.
        var carried = fxNeeded && _spec.Config.DataConfiguration.FxCarryForward
            ? FxCoverage.Check(_data.FxRates, _data.Calendar, instruments, _spec.BaseCurrency, _spec.Start, _spec.End)
            : [];
        foreach (var span in carried)
        {
            notes.Add($"dataConfiguration.fxCarryForward: {span.Describe(carried: true)}.");
        }

        if (carried.Count > 0)
        {
            fxSource += $"; stale rates carried forward on {carried.Sum(x => x.Days)} trading day(s), see notes";
        }

        return new BacktestResult
        {
            EngineVersion = EngineVersion,
            ContentHash = ContentHash(),
            Partial = outcome.Cancelled,
            Config = _spec.Config,
            Summary = new ResultSummary(
                _spec.Config.StrategyClass,
                _spec.Instruments.Select(i => i.Id).ToList(),
                _spec.Start.ToString("yyyy-MM-dd"),
                _spec.End.ToString("yyyy-MM-dd"),
                _spec.BaseCurrency,
                _spec.InitialBalance,
                finalEquity,
                finalEquity / _spec.InitialBalance - 1,
                outcome.Drawdown.MaxDrawdown,
                trades.Count,
                open.Count,
                outcome.ProcessedPoints,
                outcome.HaltedAt?.ToString("yyyy-MM-ddTHH:mm:ssZ")),
            Metrics = metrics,
            Trades = trades,
            EquityCurve = outcome.EquityCurve,
            DailyEquity = outcome.DailyEquity,
            DailyReturns = dailyReturns,
            Benchmark = new BenchmarkResult(_spec.Benchmark.Id, benchmarkReturn, outcome.BenchmarkDaily),
            MonthlyReturns = MonthlyReturns.From(outcome.DailyEquity, _spec.InitialBalance),
            Orders = outcome.Orders.Select(o => ToRecord(o, instruments)).ToList(),
            Fills = outcome.Fills.Select(f => new FillRecord(f.OrderId, instruments[f.Instrument].Id,
                new DateTime(f.Time, DateTimeKind.Utc), f.Quantity, f.Price, f.Commission, f.Slippage)).ToList(),
            PerInstrument = Breakdown(outcome),
            OpenPositions = open,
            DataQuality = _filtered.Select((f, i) => f.Report(_data.Calendar, instruments[i], _spec.Start, _spec.End)).ToList(),
            FxRateSource = fxSource,
            Notes = notes,
        };
    }

    private List<InstrumentBreakdown> Breakdown(EngineOutcome outcome)
    {
        var list = new List<InstrumentBreakdown>();
        foreach (var instrument in _spec.Instruments)
        {
            var trades = outcome.Portfolio.Trades.Where(t => t.Instrument == instrument.Id).ToList();
            var position = outcome.Portfolio.Positions.First(p => p.Instrument.Id == instrument.Id);
            var fills = outcome.Fills.Where(f => outcome.AllInstruments[f.Instrument].Id == instrument.Id).ToList();
            list.Add(new InstrumentBreakdown(
                instrument.Id,
                trades.Count,
                trades.Sum(t => t.Pnl),
                trades.Count == 0 ? 0 : (double)trades.Count(t => t.Pnl > 0) / trades.Count,
                fills.Sum(f => f.Commission),
                fills.Sum(f => Math.Abs(f.Quantity * f.Price) * f.FxRate),
                position.Quantity,
                position.IsOpen ? position.UnrealizedPnl : 0));
        }

        return list;
    }

    private static OrderRecord ToRecord(Order order, IReadOnlyList<Instrument> instruments) => new(
        order.Id,
        instruments[order.Instrument].Id,
        order.IsBuy ? "buy" : "sell",
        JsonNamingPolicy.CamelCase.ConvertName(order.Type.ToString()),
        Math.Abs(order.Quantity),
        order.Type is OrderType.Limit or OrderType.StopLimit ? order.LimitPrice : null,
        order.Type is OrderType.Stop or OrderType.StopLimit ? order.StopPrice : null,
        order.TimeInForce == TimeInForce.Day ? "day" : "gtc",
        new DateTime(order.SubmittedAt, DateTimeKind.Utc),
        JsonNamingPolicy.CamelCase.ConvertName(order.Status.ToString()),
        Math.Abs(order.FilledQuantity),
        order.FilledQuantity == 0 ? null : order.AveragePrice,
        order.Commission,
        order.Reason,
        order.Tag);
}
