using System.Collections.Concurrent;
using System.Text.Json;
using Backtesting.Api.Optimizations;
using Backtesting.Api.WalkForward.Contracts;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;

namespace Backtesting.Api.WalkForward;

/// <summary>
/// Every window's in-sample curve of a completed walk-forward job (<see cref="WalkForwardInSample"/>): the chosen trial's
/// stored daily returns, on the days of its in-sample run (<see cref="BacktestRun.TradingDays"/> over the window's plan;
/// no strategy code runs), rebased onto the stitched curve. A completed job does not change, so each answer is kept.
/// </summary>
public sealed class WalkForwardInSampleCurves(PostgresOptimizationStore optimizations, OptimizationPlanner planner, IMarketDataProvider data,
    StrategyCatalog strategies)
{
    private const int MaxCached = 64;
    private readonly ConcurrentDictionary<Guid, WalkForwardInSampleResponse> _answers = new();

    public async Task<WalkForwardInSampleResponse> OfAsync(WalkForwardRecord record, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_answers.TryGetValue(record.Id, out var kept))
        {
            return kept;
        }

        var document = JsonSerializer.Deserialize<WalkForwardResultDocument>(record.ResultJson!, JsonDefaults.Options)!;
        var job = JsonSerializer.Deserialize<WalkForwardJob>(record.ConfigurationJson, JsonDefaults.Options)!;
        var initialEquity = job.Optimization.BaseConfig.InitialBalance;
        var windows = new List<WalkForwardInSampleWindow>();
        var notes = new List<string>();
        foreach (var window in document.Windows.OrderBy(w => w.Index))
        {
            if (window.BestTrial is not { } trial || document.Summary is not { } summary)
            {
                continue;
            }

            var label = $"window {window.Index}";
            if (await optimizations.GetAsync(window.OptimizationId, cancellation) is not { } optimization
                || await planner.PlanOfAsync(optimization, cancellation) is not { } plan)
            {
                notes.Add($"{label}: its in-sample optimization can no longer be planned (its data or strategy version is gone)");
                continue;
            }

            if ((await optimizations.TrialAsync(window.OptimizationId, trial, cancellation))?.DailyReturns is not { } returns)
            {
                notes.Add($"{label}: trial {trial} of its optimization stored no daily returns");
                continue;
            }

            var days = new BacktestRun(plan.BaseSpec, data, strategies).TradingDays(cancellation);
            if (days.Count != returns.Length)
            {
                notes.Add($"{label}: trial {trial} stored {returns.Length} daily returns, its in-sample data holds {days.Count} days");
                continue;
            }

            var anchor = WalkForwardInSample.Anchor(summary.StitchedEquity, window.OutOfSampleStart, initialEquity);
            if (WalkForwardInSample.Curve(days, returns, anchor) is not { } curve)
            {
                notes.Add($"{label}: trial {trial} lost its whole account in sample, so its curve cannot be rebased");
                continue;
            }

            windows.Add(new WalkForwardInSampleWindow(window.Index, window.OptimizationId, trial, window.InSampleStart, window.InSampleEnd,
                window.OutOfSampleStart, anchor, curve));
        }

        var answer = new WalkForwardInSampleResponse(record.Id, WalkForwardInSampleResponse.ScalingText, windows, notes);
        if (_answers.Count >= MaxCached)
        {
            _answers.Clear();
        }

        return _answers.GetOrAdd(record.Id, answer);
    }
}
