using Backtesting.Engine.Metrics;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Orleans.Concurrency;

namespace Backtesting.Grains;

/// <summary>
/// Compares stored backtests with one set of conventions (the metrics module's), from their stored daily
/// equity. Stateless: any silo can serve any comparison, several at once.
/// </summary>
[StatelessWorker]
public sealed class ComparisonGrain(IBacktestStore store) : Grain, IComparisonGrain
{
    public async Task<ComparisonResult> Compare(IReadOnlyList<Guid> backtestIds, double riskFreeRate)
    {
        if (backtestIds.Count < 2)
        {
            throw new ArgumentException("a comparison needs at least two backtests", nameof(backtestIds));
        }

        var inputs = new List<ComparisonInput>();
        foreach (var id in backtestIds)
        {
            var result = await store.GetResultAsync(id)
                ?? throw new KeyNotFoundException($"backtest {id} has no stored results");
            inputs.Add(new ComparisonInput
            {
                Id = id.ToString(),
                Label = $"{result.Summary.Strategy} {string.Join(",", result.Summary.Instruments)} {result.Summary.StartDate}..{result.Summary.EndDate}",
                InitialEquity = result.Summary.InitialBalance,
                DailyEquity = result.DailyEquity,
                PeriodsPerYear = result.Metrics.PeriodsPerYear,
                Metrics = result.Metrics,
            });
        }

        return ComparisonCalculator.Compare(inputs, new ComparisonOptions { RiskFreeRate = riskFreeRate });
    }
}
