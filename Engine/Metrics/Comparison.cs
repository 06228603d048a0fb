using System.Globalization;
using Backtesting.Engine.Results;
using MathNet.Numerics.Distributions;

namespace Backtesting.Engine.Metrics;

/// <summary>
/// Compares two or more finished runs: a best-per-metric table, equity and drawdown curves on common dates,
/// the correlation matrix of their returns, and pairwise tests of equal Sharpe ratios. Pure: no I/O, no state.
/// </summary>
/// <remarks>
/// Only the dates present in every run are used for the curves, correlations and tests ("common dates"), and each
/// return is measured between consecutive common dates, r_t = E_t / E_{t−1} − 1, so a gap in one run never
/// misaligns the others: a run's return across a date it alone has covers the whole interval. With N common dates
/// there are T = N − 1 returns. The metric table is each run's own <see cref="PerformanceMetrics"/> as given, over
/// its own dates. Runs with different periods per year (crypto 365, equities 252) are each annualized with their own P.
/// </remarks>
public static class ComparisonCalculator
{
    /// <summary>Below this many paired returns the asymptotic Sharpe test is flagged <c>reliable = false</c>.</summary>
    public const int MinReliablePeriods = 30;

    /// <summary>
    /// Two values of a metric, or two per-period Sharpe ratios in a test, count as equal when they differ by at most
    /// this, relative to max(1, |a|, |b|): the rounding noise of values computed in different ways.
    /// </summary>
    public const double TieTolerance = 1e-12;

    /// <summary>Compares the runs; see the type's remarks and the result types for the definitions.</summary>
    /// <exception cref="ArgumentException">
    /// Fewer than two runs, a blank or duplicate id, an invalid run, fewer than two common dates, or a run whose
    /// equity on the first common date is not positive.
    /// </exception>
    public static ComparisonResult Compare(IReadOnlyList<ComparisonInput> runs, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(options);
        Validate(runs, options);

        var dates = CommonDates(runs);
        var aligned = runs.Select(run => Align(run, dates)).ToArray();
        var returns = aligned.Select(ReturnsBetweenCommonDates).ToArray();
        var periods = dates.Count - 1;

        var notes = new List<string>
        {
            string.Create(
                CultureInfo.InvariantCulture,
                $"Curves, correlations and Sharpe tests use the {dates.Count} dates common to all runs ({dates[0]:yyyy-MM-dd} to {dates[^1]:yyyy-MM-dd}), i.e. {periods} returns between consecutive common dates; the metric table shows each run's own metrics over its own dates."),
        };
        var comparedRuns = new ComparedRun[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var leftOut = run.DailyEquity.Count - dates.Count;
            comparedRuns[i] = new ComparedRun(run.Id, run.Label, run.PeriodsPerYear, run.DailyEquity.Count, leftOut);
            if (leftOut > 0)
            {
                notes.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Run '{run.Id}': {leftOut} of its {run.DailyEquity.Count} dates are not common to all runs and are left out of the curves, correlations and Sharpe tests."));
            }

            if (returns[i] is null)
            {
                notes.Add($"Run '{run.Id}': equity is at or below zero before the last common date, so its returns, correlations and Sharpe tests are undefined (null).");
            }
        }

        var distinctPeriods = runs.Select(r => r.PeriodsPerYear).Distinct().ToArray();
        if (distinctPeriods.Length > 1)
        {
            var list = string.Join(", ", runs.Select(r => string.Create(CultureInfo.InvariantCulture, $"'{r.Id}' {r.PeriodsPerYear}")));
            notes.Add($"Runs have different periods per year ({list}). Each run's figures are annualized with its own P, and the per-period risk-free rate uses each run's own P, although on common dates the runs share one sampling frequency; compare per-period Sharpe ratios and z rather than annualized figures.");
        }

        if (periods < MinReliablePeriods)
        {
            notes.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"Only {periods} paired returns: the Sharpe tests are asymptotic and need at least {MinReliablePeriods}, so they are flagged unreliable."));
        }

        return new ComparisonResult(
            comparedRuns,
            MetricTable(runs),
            Curves(runs, aligned, dates),
            CorrelationTable(returns, periods),
            SharpeTests(runs, returns, options.RiskFreeRate, periods),
            options.RiskFreeRate,
            notes);
    }

    /// <summary>
    /// Jobson–Korkie test of equal Sharpe ratios with Memmel's (2003) correction, on two excess-return series of the
    /// same T periods. With μ_i the means, σ_i the sample standard deviations, ρ the correlation and SR_i = μ_i / σ_i
    /// the per-period Sharpe ratios, the asymptotic variance of SR_1 − SR_2 is
    /// θ = (1/T) · [2 − 2ρ + ½ (SR_1² + SR_2² − 2 · SR_1 · SR_2 · ρ²)],
    /// z = (SR_1 − SR_2) / sqrt(θ), and the two-sided p-value is 2 · (1 − Φ(|z|)).
    /// </summary>
    /// <remarks>
    /// <para>Memmel, C. (2003), "Performance hypothesis testing with the Sharpe ratio", Finance Letters 1, 21–23,
    /// corrects the variance of Jobson, J.D. and Korkie, B.M. (1981), "Performance hypothesis testing with the Sharpe
    /// and Treynor measures", Journal of Finance 36, 889–908. It is often written unnormalized, as in DeMiguel,
    /// Garlappi and Uppal (2009, RFS 22(5)): z = (σ_2 μ_1 − σ_1 μ_2) / sqrt(θ'), θ' = (1/T)(2σ_1²σ_2² − 2σ_1σ_2σ_12
    /// + ½μ_1²σ_2² + ½μ_2²σ_1² − μ_1μ_2σ_12² / (σ_1σ_2)); dividing numerator by σ_1σ_2 and θ' by σ_1²σ_2² gives the form
    /// used here.</para>
    /// <para>θ ≥ 0 always (½(SR_1² + SR_2²) ≥ |SR_1 SR_2| ≥ SR_1 SR_2 ρ²), and θ = 0 only when ρ = 1 and
    /// SR_1 = SR_2. Sharpe ratios equal within <see cref="TieTolerance"/> give z = 0 and p = 1 by definition:
    /// identical runs would be 0/0, and a levered copy of a run (ρ = 1, Sharpe ratios equal up to rounding) would
    /// otherwise give z = ±sqrt(2T) from the rounding noise alone, since with ρ = 1, θ = ½(SR_1 − SR_2)² / T.</para>
    /// </remarks>
    /// <returns>Null fields when T &lt; 2 or either series has zero dispersion (Sharpe ratio undefined).</returns>
    internal static (double? Sharpe1, double? Sharpe2, double? Rho, double? Z, double? P) SharpeDifference(double[] excess1, double[] excess2)
    {
        if (excess1.Length != excess2.Length)
        {
            throw new ArgumentException($"Series lengths differ: {excess1.Length} and {excess2.Length}.", nameof(excess2));
        }

        var t = excess1.Length;
        if (t < 2)
        {
            return default;
        }

        var sr1 = Sharpe(excess1);
        var sr2 = Sharpe(excess2);
        var rho = MetricsCalculator.Correlation(excess1, excess2);
        if (sr1 is not { } s1 || sr2 is not { } s2 || rho is not { } r)
        {
            return (sr1, sr2, rho, null, null);
        }

        var difference = s1 - s2;
        var theta = (2 - 2 * r + 0.5 * (s1 * s1 + s2 * s2 - 2 * s1 * s2 * r * r)) / t;
        double? z = Ties(s1, s2) ? 0.0 : theta > 0 ? difference / Math.Sqrt(theta) : null;
        double? p = z is { } zz ? 2 * (1 - Normal.CDF(0, 1, Math.Abs(zz))) : null;
        return (sr1, sr2, rho, z, p);
    }

    private static double? Sharpe(double[] excess)
    {
        var mean = MetricsCalculator.Mean(excess);
        var sd = MetricsCalculator.SampleStdDev(excess, mean);
        return sd > MetricsCalculator.ZeroDispersion ? mean / sd : null;
    }

    private static List<MetricComparison> MetricTable(IReadOnlyList<ComparisonInput> runs)
    {
        var rows = new List<MetricComparison>(MetricDirections.All.Count);
        foreach (var metric in MetricDirections.All)
        {
            var values = runs.Select(run => MetricsCalculator.Finite(metric.Read(run.Metrics))).ToArray();
            rows.Add(new MetricComparison(metric.Name, metric.Direction, values, BestRuns(runs, values, metric.Direction)));
        }

        return rows;
    }

    private static string[] BestRuns(IReadOnlyList<ComparisonInput> runs, double?[] values, MetricDirection direction)
    {
        // Score so that higher is better; None has no best.
        Func<double, double>? score = direction switch
        {
            MetricDirection.Higher => v => v,
            MetricDirection.Lower => v => -v,
            MetricDirection.CloserToZero => v => -Math.Abs(v),
            _ => null,
        };
        if (score is null || values.All(v => v is null))
        {
            return [];
        }

        var best = values.Where(v => v is not null).Max(v => score(v!.Value));
        return [.. runs.Where((_, i) => values[i] is { } v && Ties(score(v), best)).Select(run => run.Id)];
    }

    private static bool Ties(double a, double b) =>
        Math.Abs(a - b) <= TieTolerance * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    private static ComparisonCurves Curves(IReadOnlyList<ComparisonInput> runs, double[][] aligned, IReadOnlyList<DateOnly> dates)
    {
        var series = new RunCurve[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            var equity = aligned[i];
            var normalized = new double[equity.Length];
            var drawdown = new double[equity.Length];
            var tracker = new DrawdownTracker(100, dates[0].ToDateTime(TimeOnly.MinValue));
            for (var t = 0; t < equity.Length; t++)
            {
                normalized[t] = 100 * (equity[t] / equity[0]);
                if (!double.IsFinite(normalized[t]))
                {
                    throw new ArgumentException($"Run '{runs[i].Id}': normalizing its equity on {dates[t]:yyyy-MM-dd} overflows.", nameof(runs));
                }

                drawdown[t] = tracker.Update(dates[t].ToDateTime(TimeOnly.MinValue), normalized[t]);
            }

            series[i] = new RunCurve(runs[i].Id, normalized, drawdown);
        }

        return new ComparisonCurves(dates, series);
    }

    private static CorrelationMatrix CorrelationTable(double[]?[] returns, int periods)
    {
        var n = returns.Length;
        var matrix = new double?[n][];
        for (var i = 0; i < n; i++)
        {
            matrix[i] = new double?[n];
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = i; j < n; j++)
            {
                var value = returns[i] is { } a && returns[j] is { } b ? MetricsCalculator.Finite(MetricsCalculator.Correlation(a, b)) : null;
                matrix[i][j] = value;
                matrix[j][i] = value;
            }
        }

        return new CorrelationMatrix(matrix, periods);
    }

    private static List<SharpeDifferenceTest> SharpeTests(IReadOnlyList<ComparisonInput> runs, double[]?[] returns, double riskFreeRate, int periods)
    {
        var excess = new double[]?[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            var rf = MetricsCalculator.PerPeriodRiskFree(riskFreeRate, runs[i].PeriodsPerYear);
            excess[i] = returns[i]?.Select(r => r - rf).ToArray();
        }

        var tests = new List<SharpeDifferenceTest>();
        for (var i = 0; i < runs.Count; i++)
        {
            for (var j = i + 1; j < runs.Count; j++)
            {
                var (sr1, sr2, rho, z, p) = excess[i] is { } a && excess[j] is { } b ? SharpeDifference(a, b) : default;
                z = MetricsCalculator.Finite(z);
                tests.Add(new SharpeDifferenceTest(
                    RunA: runs[i].Id,
                    RunB: runs[j].Id,
                    SharpeA: MetricsCalculator.Finite(sr1),
                    SharpeB: MetricsCalculator.Finite(sr2),
                    AnnualizedSharpeA: MetricsCalculator.Finite(sr1 * Math.Sqrt(runs[i].PeriodsPerYear)),
                    AnnualizedSharpeB: MetricsCalculator.Finite(sr2 * Math.Sqrt(runs[j].PeriodsPerYear)),
                    Correlation: MetricsCalculator.Finite(rho),
                    Z: z,
                    PValue: z is null ? null : MetricsCalculator.Finite(p),
                    Periods: periods,
                    Reliable: z is not null && periods >= MinReliablePeriods,
                    Assumptions: Assumptions(riskFreeRate, periods)));
            }
        }

        return tests;
    }

    private static string Assumptions(double riskFreeRate, int periods) => string.Create(
        CultureInfo.InvariantCulture,
        $"Jobson–Korkie test with Memmel's (2003) correction of H0: equal Sharpe ratios. Assumes the two runs' returns are i.i.d. and jointly normal (no autocorrelation, no fat tails, no volatility clustering). Asymptotic: it needs many periods, at least {MinReliablePeriods} recommended; this one has T = {periods}. Computed on the {periods} returns between consecutive dates common to all compared runs, as excess returns over a risk-free rate of {riskFreeRate:R} a year, converted per period with each run's own periods per year. Two-sided p-value from the standard normal.");

    /// <summary>Dates present in every run, ascending.</summary>
    private static List<DateOnly> CommonDates(IReadOnlyList<ComparisonInput> runs)
    {
        var common = new HashSet<DateOnly>(runs[0].DailyEquity.Select(p => p.Date));
        foreach (var run in runs.Skip(1))
        {
            common.IntersectWith(run.DailyEquity.Select(p => p.Date));
        }

        if (common.Count < 2)
        {
            throw new ArgumentException(
                $"The runs share {common.Count} common date(s); at least 2 are needed to compare them. Runs: "
                + string.Join(", ", runs.Select(DateRange)) + ".",
                nameof(runs));
        }

        var dates = common.ToList();
        dates.Sort();
        return dates;
    }

    private static string DateRange(ComparisonInput run) => run.DailyEquity.Count == 0
        ? $"'{run.Id}' no dates"
        : $"'{run.Id}' {run.DailyEquity[0].Date:yyyy-MM-dd} to {run.DailyEquity[^1].Date:yyyy-MM-dd}";

    /// <summary>The run's equity on each common date; the first must be positive to normalize.</summary>
    private static double[] Align(ComparisonInput run, List<DateOnly> dates)
    {
        var equity = new double[dates.Count];
        var t = 0;
        foreach (var point in run.DailyEquity)
        {
            if (t < dates.Count && point.Date == dates[t])
            {
                equity[t++] = point.Equity;
            }
        }

        if (equity[0] <= 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Run '{run.Id}' has equity {equity[0]} on the first common date {dates[0]:yyyy-MM-dd}; it must be positive to normalize the curves."),
                nameof(run));
        }

        return equity;
    }

    /// <summary>
    /// r_t = E_t / E_{t−1} − 1 between consecutive common dates; null when an equity before the last is ≤ 0.
    /// The metrics' own definition, with the first common date's equity in the place of the initial equity
    /// (the dates play no part in it).
    /// </summary>
    private static double[]? ReturnsBetweenCommonDates(double[] equity) =>
        MetricsCalculator.DailyReturns(equity[0], [.. equity.Skip(1).Select(e => new DailyEquity(default, e))]);

    private static void Validate(IReadOnlyList<ComparisonInput> runs, ComparisonOptions options)
    {
        if (runs.Count < 2)
        {
            throw new ArgumentException($"A comparison needs at least 2 runs, got {runs.Count}.", nameof(runs));
        }

        if (!double.IsFinite(options.RiskFreeRate) || options.RiskFreeRate <= -1)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"RiskFreeRate must be finite and above -1, got {options.RiskFreeRate}."),
                nameof(options));
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i] ?? throw new ArgumentException($"Run {i} is null.", nameof(runs));
            if (string.IsNullOrWhiteSpace(run.Id))
            {
                throw new ArgumentException($"Run {i} has a blank id.", nameof(runs));
            }

            if (!ids.Add(run.Id))
            {
                throw new ArgumentException($"Duplicate run id '{run.Id}': each run must have a unique id.", nameof(runs));
            }

            if (!double.IsFinite(run.InitialEquity) || run.InitialEquity <= 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Run '{run.Id}': InitialEquity must be finite and positive, got {run.InitialEquity}."),
                    nameof(runs));
            }

            if (run.PeriodsPerYear < 1)
            {
                throw new ArgumentException($"Run '{run.Id}': PeriodsPerYear must be at least 1, got {run.PeriodsPerYear}.", nameof(runs));
            }

            if (run.DailyEquity is null || run.Metrics is null)
            {
                throw new ArgumentException($"Run '{run.Id}': DailyEquity and Metrics are required.", nameof(runs));
            }

            MetricsCalculator.ValidateSeries(run.DailyEquity, $"Run '{run.Id}' DailyEquity");
        }
    }
}
