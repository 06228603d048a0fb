using System.Text.Json;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Robustness;

/// <summary>
/// One window of a walk-forward analysis once it ran: the parameters its in-sample optimization chose, that trial's
/// in-sample annualized return, and the ordinary backtest of those parameters over the window's out-of-sample part.
/// </summary>
/// <param name="OutOfSampleInitialEquity">The out-of-sample run's starting equity (its first daily return is measured against it).</param>
/// <param name="OutOfSampleExposure">The out-of-sample run's exposure metric, in [0, 1].</param>
public sealed record WalkForwardWindowResult(
    WalkForwardWindow Window,
    IReadOnlyDictionary<string, JsonElement> Parameters,
    double? InSampleAnnualizedReturn,
    double OutOfSampleInitialEquity,
    IReadOnlyList<DailyEquity> OutOfSampleEquity,
    IReadOnlyList<Trade> OutOfSampleTrades,
    double OutOfSampleExposure = 0,
    double OutOfSampleTradedValue = 0,
    double OutOfSampleCommission = 0);

/// <summary>How one parameter moved across the windows' choices.</summary>
/// <param name="Values">The chosen value per window, in window order.</param>
/// <param name="Changes">Windows whose value differs from the previous window's.</param>
/// <param name="Mean">For a numeric parameter, the mean of the values; else null. Likewise the population standard
/// deviation and the mean absolute change between consecutive windows.</param>
public sealed record ParameterDrift(
    string Parameter,
    IReadOnlyList<JsonElement> Values,
    int Changes,
    int Distinct,
    double? Mean,
    double? StandardDeviation,
    double? MeanAbsoluteChange);

/// <summary>The stitched out-of-sample result of a walk-forward analysis.</summary>
/// <param name="Efficiency">Walk-forward efficiency: the stitched curve's annualized return over the mean of the
/// windows' in-sample annualized returns; null when that mean is not positive or either side is undefined.</param>
/// <param name="TStatistic">Of the stitched daily returns: mean / (s / √n), s the sample standard deviation; null
/// for fewer than two returns or no dispersion.</param>
public sealed record WalkForwardSummary(
    IReadOnlyList<DailyEquity> StitchedEquity,
    IReadOnlyList<double> StitchedReturns,
    PerformanceMetrics Metrics,
    double? Efficiency,
    double? TStatistic,
    IReadOnlyList<ParameterDrift> Drift);

/// <summary>
/// Stitches the out-of-sample runs of a walk-forward analysis into one curve and measures it.
/// </summary>
/// <remarks>
/// <para>Each out-of-sample run starts afresh from its own initial equity. The stitched curve compounds their daily
/// returns from <c>initialEquity</c>: a day's return is the run's own (against its previous day, or its initial equity
/// on its first day), so the curve is what one account would have had if it had switched parameters at every window.
/// Money amounts of a window (trade P&amp;L, commission, excursions, traded value) are scaled by the stitched equity at
/// the window's start over the run's initial equity, as if that run had started with the stitched account.</para>
/// <para>The metrics are the project's (<see cref="MetricsCalculator"/>) over the stitched daily equity; the maximum
/// drawdown is measured on that daily curve (the runs' intraday troughs do not carry across windows), and the exposure
/// is the windows' exposures weighted by their out-of-sample days.</para>
/// </remarks>
public static class WalkForwardAnalysis
{
    public static WalkForwardSummary Summarize(IReadOnlyList<WalkForwardWindowResult> windows, double initialEquity, int periodsPerYear,
        double riskFreeRate = 0)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (!double.IsFinite(initialEquity) || initialEquity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(initialEquity), initialEquity, "the initial equity must be a finite number > 0");
        }

        var stitched = new List<DailyEquity>();
        var returns = new List<double>();
        var trades = new List<Trade>();
        double account = initialEquity, tradedValue = 0, commission = 0, exposureDays = 0;
        var days = 0;
        DateOnly? last = null;
        for (var w = 0; w < windows.Count; w++)
        {
            var window = windows[w];
            if (w > 0 && window.Window.Index <= windows[w - 1].Window.Index)
            {
                throw new ArgumentException($"window {window.Window.Index} comes after window {windows[w - 1].Window.Index}; windows must be in order", nameof(windows));
            }

            if (!double.IsFinite(window.OutOfSampleInitialEquity) || window.OutOfSampleInitialEquity <= 0)
            {
                throw new ArgumentException($"window {window.Window.Index}: the initial equity must be a finite number > 0", nameof(windows));
            }

            var scale = account / window.OutOfSampleInitialEquity;
            foreach (var trade in window.OutOfSampleTrades)
            {
                trades.Add(trade with
                {
                    Id = trades.Count + 1,
                    Quantity = trade.Quantity * scale,
                    Pnl = trade.Pnl * scale,
                    Commission = trade.Commission * scale,
                    Mae = trade.Mae * scale,
                    Mfe = trade.Mfe * scale,
                });
            }

            tradedValue += window.OutOfSampleTradedValue * scale;
            commission += window.OutOfSampleCommission * scale;
            exposureDays += window.OutOfSampleExposure * window.OutOfSampleEquity.Count;
            days += window.OutOfSampleEquity.Count;

            var previous = window.OutOfSampleInitialEquity;
            foreach (var point in window.OutOfSampleEquity)
            {
                if (point.Date < window.Window.OutOfSampleStart || point.Date > window.Window.OutOfSampleEnd)
                {
                    throw new ArgumentException(
                        $"window {window.Window.Index}: {point.Date:yyyy-MM-dd} lies outside its out-of-sample part", nameof(windows));
                }

                if (last is { } before && point.Date <= before)
                {
                    throw new ArgumentException($"window {window.Window.Index}: {point.Date:yyyy-MM-dd} does not come after {before:yyyy-MM-dd}", nameof(windows));
                }

                if (!double.IsFinite(point.Equity) || point.Equity <= 0)
                {
                    throw new ArgumentException($"window {window.Window.Index}: equity {point.Equity} on {point.Date:yyyy-MM-dd}; it must be finite and > 0", nameof(windows));
                }

                returns.Add(point.Equity / previous - 1);
                previous = point.Equity;
                // The run's equity scaled to the account it started with: the compounded returns, without their rounding.
                stitched.Add(new DailyEquity(point.Date, point.Equity * scale));
                last = point.Date;
            }

            if (window.OutOfSampleEquity.Count > 0)
            {
                account = stitched[^1].Equity;
            }
        }

        var metrics = MetricsCalculator.Compute(new MetricsInput
        {
            InitialEquity = initialEquity,
            DailyEquity = stitched,
            Trades = trades,
            PeriodsPerYear = periodsPerYear,
            RiskFreeRate = riskFreeRate,
            Exposure = days == 0 ? 0 : exposureDays / days,
            TotalTradedValue = tradedValue,
            TotalCommission = commission,
        });

        return new WalkForwardSummary(stitched, returns, metrics, Efficiency(windows, metrics.AnnualizedReturn), TStatistic(returns), Drift(windows));
    }

    private static double? Efficiency(IReadOnlyList<WalkForwardWindowResult> windows, double? outOfSample)
    {
        double sum = 0;
        var count = 0;
        foreach (var window in windows)
        {
            if (window.InSampleAnnualizedReturn is { } r && double.IsFinite(r))
            {
                sum += r;
                count++;
            }
        }

        return outOfSample is { } oos && count > 0 && sum / count > 0 ? oos / (sum / count) : null;
    }

    private static double? TStatistic(List<double> returns)
    {
        if (returns.Count < 2)
        {
            return null;
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(returns);
        var mean = MetricsCalculator.Mean(span);
        var sd = MetricsCalculator.SampleStdDev(span, mean);
        return sd <= MetricsCalculator.ZeroDispersion ? null : mean / (sd / Math.Sqrt(returns.Count));
    }

    private static List<ParameterDrift> Drift(IReadOnlyList<WalkForwardWindowResult> windows)
    {
        var names = new List<string>();
        foreach (var window in windows)
        {
            foreach (var name in window.Parameters.Keys)
            {
                if (!names.Contains(name, StringComparer.Ordinal))
                {
                    names.Add(name);
                }
            }
        }

        var drift = new List<ParameterDrift>();
        foreach (var name in names)
        {
            var values = new List<JsonElement>();
            foreach (var window in windows)
            {
                if (!window.Parameters.TryGetValue(name, out var value))
                {
                    throw new ArgumentException($"window {window.Window.Index} chose no value for '{name}'; every window names every parameter", nameof(windows));
                }

                values.Add(value);
            }

            var changes = 0;
            var distinct = new List<JsonElement>();
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0 && !JsonElement.DeepEquals(values[i], values[i - 1]))
                {
                    changes++;
                }

                if (!distinct.Exists(d => JsonElement.DeepEquals(d, values[i])))
                {
                    distinct.Add(values[i]);
                }
            }

            double? mean = null, sd = null, meanChange = null;
            if (values.Count > 0 && values.TrueForAll(v => v.ValueKind == JsonValueKind.Number))
            {
                var numbers = values.ConvertAll(v => v.GetDouble());
                mean = numbers.Sum() / numbers.Count;
                var m = mean.Value;
                sd = Math.Sqrt(numbers.Sum(x => (x - m) * (x - m)) / numbers.Count);
                if (numbers.Count > 1)
                {
                    double moved = 0;
                    for (var i = 1; i < numbers.Count; i++)
                    {
                        moved += Math.Abs(numbers[i] - numbers[i - 1]);
                    }

                    meanChange = moved / (numbers.Count - 1);
                }
            }

            drift.Add(new ParameterDrift(name, values, changes, distinct.Count, mean, sd, meanChange));
        }

        return drift;
    }
}
