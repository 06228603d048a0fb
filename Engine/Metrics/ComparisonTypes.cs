using System.Text.Json.Serialization;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Metrics;

/// <summary>One finished run to compare with <see cref="ComparisonCalculator.Compare"/>.</summary>
public sealed record ComparisonInput
{
    /// <summary>Unique among the compared runs (ordinal comparison), not blank.</summary>
    public required string Id { get; init; }

    /// <summary>Display name; not interpreted.</summary>
    public required string Label { get; init; }

    /// <summary>
    /// Account equity before the first date (finite, &gt; 0). Validated and kept for symmetry with
    /// <see cref="MetricsInput"/>, but the common-date mathematics do not use it: curves and returns start at
    /// the first date common to all runs.
    /// </summary>
    public required double InitialEquity { get; init; }

    /// <summary>End-of-day equity, dates strictly increasing, values finite.</summary>
    public required IReadOnlyList<DailyEquity> DailyEquity { get; init; }

    /// <summary>The run's P (252 equities, 365 crypto), used to annualize its own figures.</summary>
    public required int PeriodsPerYear { get; init; }

    /// <summary>The run's full-period metrics, as computed by <see cref="MetricsCalculator.Compute"/>.</summary>
    public required PerformanceMetrics Metrics { get; init; }
}

/// <summary>Settings of a comparison.</summary>
public sealed record ComparisonOptions
{
    /// <summary>
    /// Annual risk-free rate as a fraction (finite, &gt; −1) for the Sharpe tests; converted per period for each run
    /// with that run's P, as in <see cref="MetricsCalculator"/>: (1 + rf)^(1/P) − 1.
    /// </summary>
    public double RiskFreeRate { get; init; }
}

/// <summary>Which value of a metric is the better one, for marking the best run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MetricDirection>))]
public enum MetricDirection
{
    /// <summary>No value is better than another (descriptive figures such as beta or exposure).</summary>
    [JsonStringEnumMemberName("none")]
    None,

    /// <summary>The largest value is best.</summary>
    [JsonStringEnumMemberName("higher")]
    Higher,

    /// <summary>The smallest value is best.</summary>
    [JsonStringEnumMemberName("lower")]
    Lower,

    /// <summary>The value with the smallest absolute value is best (e.g. a drawdown, which is ≤ 0).</summary>
    [JsonStringEnumMemberName("closerToZero")]
    CloserToZero,
}

/// <summary>Everything <see cref="ComparisonCalculator.Compare"/> finds. Lists indexed by run follow <see cref="Runs"/>.</summary>
/// <param name="Runs">The compared runs, in input order.</param>
/// <param name="Metrics">One row per <see cref="PerformanceMetrics"/> property, in declaration order.</param>
/// <param name="Curves">Normalized equity and drawdown on the common dates.</param>
/// <param name="Correlations">Pairwise correlations of the returns between common dates.</param>
/// <param name="SharpeTests">One Jobson–Korkie–Memmel test per pair of runs (i &lt; j in run order).</param>
/// <param name="RiskFreeRate">The annual risk-free rate used by the Sharpe tests.</param>
/// <param name="Notes">Plain-language remarks on how the figures were obtained and what to watch for.</param>
public sealed record ComparisonResult(
    IReadOnlyList<ComparedRun> Runs,
    IReadOnlyList<MetricComparison> Metrics,
    ComparisonCurves Curves,
    CorrelationMatrix Correlations,
    IReadOnlyList<SharpeDifferenceTest> SharpeTests,
    double RiskFreeRate,
    IReadOnlyList<string> Notes);

/// <param name="Dates">Number of the run's own dates; <paramref name="DatesLeftOut"/> of them are not common to all runs.</param>
public sealed record ComparedRun(string Id, string Label, int PeriodsPerYear, int Dates, int DatesLeftOut);

/// <summary>One metric across the runs.</summary>
/// <param name="Name">The camelCase JSON name of the <see cref="PerformanceMetrics"/> property.</param>
/// <param name="Values">The value of each run, in run order; null when undefined for that run.</param>
/// <param name="Best">
/// Ids of the best run(s): several on a tie (values within a relative 1e-12), none when the direction is
/// <see cref="MetricDirection.None"/> or no run has a value. Runs without a value are never best.
/// </param>
public sealed record MetricComparison(
    string Name,
    MetricDirection Direction,
    IReadOnlyList<double?> Values,
    IReadOnlyList<string> Best);

/// <summary>Curves on the dates common to all runs.</summary>
/// <param name="Dates">The common dates, ascending.</param>
/// <param name="Series">One curve per run, in run order.</param>
public sealed record ComparisonCurves(IReadOnlyList<DateOnly> Dates, IReadOnlyList<RunCurve> Series);

/// <param name="Equity">100 · E_t / E_first on each common date (E_first the equity on the first common date).</param>
/// <param name="Drawdown">Equity / running peak − 1 of the normalized curve (≤ 0; 0 at a new peak), the peak starting at 100.</param>
public sealed record RunCurve(string Id, IReadOnlyList<double> Equity, IReadOnlyList<double> Drawdown);

/// <summary>Pearson correlations of the simple returns between consecutive common dates.</summary>
/// <param name="Values">Square matrix, rows and columns in run order; null where undefined (a flat or wiped-out series).</param>
/// <param name="Periods">Number of returns used, T = common dates − 1.</param>
public sealed record CorrelationMatrix(IReadOnlyList<IReadOnlyList<double?>> Values, int Periods);

/// <summary>
/// Jobson–Korkie test of equal Sharpe ratios with Memmel's correction, for runs A and B over the same T periods.
/// See <see cref="ComparisonCalculator.SharpeDifference"/> for the formula.
/// </summary>
/// <param name="SharpeA">Per-period (not annualized) Sharpe ratio μ/σ of A's excess returns on the common dates.</param>
/// <param name="AnnualizedSharpeA">SharpeA · sqrt(P_A), for display only.</param>
/// <param name="Correlation">ρ, the correlation of the two excess-return series.</param>
/// <param name="Z">(SR_A − SR_B) / sqrt(θ); positive when A has the higher Sharpe ratio. 0 when SR_A = SR_B within <see cref="ComparisonCalculator.TieTolerance"/>.</param>
/// <param name="PValue">Two-sided 2 · (1 − Φ(|z|)).</param>
/// <param name="Periods">T, the number of paired returns.</param>
/// <param name="Reliable">False when T &lt; 30 or the test is undefined: the test is asymptotic.</param>
/// <param name="Assumptions">What the p-value relies on.</param>
public sealed record SharpeDifferenceTest(
    string RunA,
    string RunB,
    double? SharpeA,
    double? SharpeB,
    double? AnnualizedSharpeA,
    double? AnnualizedSharpeB,
    double? Correlation,
    double? Z,
    double? PValue,
    int Periods,
    bool Reliable,
    string Assumptions);
