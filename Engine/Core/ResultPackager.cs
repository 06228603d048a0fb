using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Core;

/// <summary>
/// Turns what the engine produced into the result document: the metrics, the daily returns, the notes a reader
/// needs (open positions, the halt, a partial run, a thinned curve, stale exchange rates), the order and fill
/// records and the per-instrument breakdown.
/// </summary>
internal static class ResultPackager
{
    public static BacktestResult Package(BacktestSpec spec, IMarketDataProvider data, IReadOnlyList<QualityFilteredSource> filtered,
        EngineOutcome outcome, string contentHash)
    {
        var portfolio = outcome.Portfolio;
        var trades = portfolio.Trades;
        var instruments = outcome.AllInstruments;
        var metrics = Metrics(spec, outcome);

        var dailyReturns = new List<DailyReturn>(outcome.DailyEquity.Count);
        var previous = spec.InitialBalance;
        foreach (var day in outcome.DailyEquity)
        {
            dailyReturns.Add(new DailyReturn(day.Date, ReturnOf(previous, day.Equity)));
            previous = day.Equity;
        }

        var finalEquity = outcome.DailyEquity.Count > 0 ? outcome.DailyEquity[^1].Equity : spec.InitialBalance;
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
            notes.Add($"Trading halted at {halted:yyyy-MM-dd HH:mm} UTC: drawdown exceeded riskSettings.drawdownHalt ({spec.Config.RiskSettings.DrawdownHalt:P1}); positions were closed.");
        }

        if (outcome.Cancelled)
        {
            notes.Add("The run was stopped before the end of its data: these are partial results.");
        }

        if (outcome.EquityCurve.Count > 0 && outcome.EquityCurve.Count < outcome.ProcessedPoints / Math.Max(1, instruments.Count) / 2)
        {
            notes.Add("equityCurve is thinned evenly to a bounded number of points; dailyEquity holds every trading day.");
        }

        var benchmarkReturn = outcome.BenchmarkDaily.Count > 0 ? outcome.BenchmarkDaily[^1].Equity / spec.InitialBalance - 1 : 0;
        var fxNeeded = instruments.Any(i => i.QuoteCurrency != spec.BaseCurrency);
        var fxSource = fxNeeded ? data.FxRates.Source : "none needed: every instrument is quoted in the base currency";
        // Validation refuses stale rates unless the config opted in; then every span they were used on is stated.
        var carried = fxNeeded && spec.Config.DataConfiguration.FxCarryForward
            ? FxCoverage.Check(data.FxRates, data.Calendar, instruments, spec.BaseCurrency, spec.Start, spec.End)
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
            EngineVersion = BacktestRun.EngineVersion,
            ContentHash = contentHash,
            Partial = outcome.Cancelled,
            Config = spec.Config,
            Summary = new ResultSummary(
                spec.Config.StrategyClass,
                spec.Instruments.Select(i => i.Id).ToList(),
                spec.Start.ToString("yyyy-MM-dd"),
                spec.End.ToString("yyyy-MM-dd"),
                spec.BaseCurrency,
                spec.InitialBalance,
                finalEquity,
                finalEquity / spec.InitialBalance - 1,
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
            Benchmark = new BenchmarkResult(spec.Benchmark.Id, benchmarkReturn, outcome.BenchmarkDaily),
            MonthlyReturns = MonthlyReturns.From(outcome.DailyEquity, spec.InitialBalance),
            // Views of the engine's own records, not copies: the writer streams them into results.json one by one.
            Orders = new ProjectedList<Order, OrderRecord>(outcome.Orders, o => ToRecord(o, instruments)),
            Fills = new ProjectedList<Fill, FillRecord>(outcome.Fills, f => new FillRecord(f.OrderId, instruments[f.Instrument].Id,
                new DateTime(f.Time, DateTimeKind.Utc), f.Quantity, f.Price, f.Commission, f.Slippage)),
            PerInstrument = Breakdown(spec, outcome),
            OpenPositions = open,
            DataQuality = filtered.Select((f, i) => f.Report(data.Calendar, instruments[i], spec.Start, spec.End)).ToList(),
            FxRateSource = fxSource,
            Notes = notes,
        };
    }

    /// <summary>
    /// What a trial of an optimization keeps of a run (<see cref="RunFigures"/>): the metrics, daily returns and trade
    /// count of <see cref="Package"/> by the same code, without the parts of the document only a backtest's reader
    /// uses (data-quality reports, monthly returns, the per-instrument breakdown, open positions, notes).
    /// </summary>
    public static RunFigures Figures(BacktestSpec spec, EngineOutcome outcome, string contentHash)
    {
        var returns = new double[outcome.DailyEquity.Count];
        var previous = spec.InitialBalance;
        for (var i = 0; i < returns.Length; i++)
        {
            var equity = outcome.DailyEquity[i].Equity;
            returns[i] = ReturnOf(previous, equity);
            previous = equity;
        }

        return new RunFigures(Metrics(spec, outcome), returns, outcome.Portfolio.Trades.Count, outcome.Cancelled, contentHash);
    }

    /// <summary>The run's metrics from what the engine produced: the one input every run's metrics are computed from.</summary>
    private static PerformanceMetrics Metrics(BacktestSpec spec, EngineOutcome outcome) => MetricsCalculator.Compute(new MetricsInput
    {
        InitialEquity = spec.InitialBalance,
        DailyEquity = outcome.DailyEquity,
        BenchmarkDailyEquity = outcome.BenchmarkDaily,
        BenchmarkInitialEquity = spec.InitialBalance,
        Trades = outcome.Portfolio.Trades,
        PeriodsPerYear = spec.PeriodsPerYear,
        RiskFreeRate = spec.Config.RiskFreeRate,
        Exposure = outcome.Exposure,
        TotalTradedValue = outcome.Portfolio.TradedValue,
        TotalCommission = outcome.Portfolio.TotalCommission,
        MaxDrawdown = outcome.Drawdown.MaxDrawdown,
        MaxDrawdownDuration = outcome.Drawdown.MaxDuration,
    });

    /// <summary>A day's return E_t / E_{t-1} − 1 against the previous day's equity (the initial balance first); 0 after a
    /// non-positive equity.</summary>
    private static double ReturnOf(double previous, double equity) => previous > 0 ? equity / previous - 1 : 0;

    private static List<InstrumentBreakdown> Breakdown(BacktestSpec spec, EngineOutcome outcome)
    {
        var list = new List<InstrumentBreakdown>();
        foreach (var instrument in spec.Instruments)
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
