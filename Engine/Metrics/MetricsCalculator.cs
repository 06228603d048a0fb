using System.Buffers;
using Backtesting.Engine.Results;
using MathNet.Numerics.Distributions;

namespace Backtesting.Engine.Metrics;

/// <summary>
/// Turns a finished run's equity curve, trades and engine totals into <see cref="PerformanceMetrics"/>.
/// Every formula is documented on the <see cref="PerformanceMetrics"/> property it fills. Pure: no I/O, no state.
/// </summary>
public static class MetricsCalculator
{
    /// <summary>A per-period standard deviation (or downside deviation) at or below this counts as zero.</summary>
    public const double ZeroDispersion = 1e-12;

    private static readonly double Z05 = Normal.InvCDF(0, 1, 0.05);
    private static readonly double Z01 = Normal.InvCDF(0, 1, 0.01);

    /// <summary>Computes every metric; see <see cref="PerformanceMetrics"/> for the definitions.</summary>
    /// <exception cref="ArgumentException">The input is inconsistent (non-finite numbers, unordered dates, …).</exception>
    public static PerformanceMetrics Compute(MetricsInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Validate(input);

        var periods = input.PeriodsPerYear;
        var daily = input.DailyEquity;
        var n = daily.Count;
        var rfPerPeriod = PerPeriodRiskFree(input.RiskFreeRate, periods);

        double? totalReturn = null;
        double? annualizedReturn = null;
        double? turnover = null;
        if (n > 0)
        {
            var growth = daily[n - 1].Equity / input.InitialEquity;
            totalReturn = growth - 1;
            annualizedReturn = AnnualizedReturn(growth, (double)periods / n);

            var meanEquity = 0.0;
            foreach (var point in daily)
            {
                meanEquity += point.Equity;
            }

            meanEquity /= n;
            if (meanEquity > 0)
            {
                turnover = input.TotalTradedValue / meanEquity * periods / n;
            }
        }

        var (maxDrawdown, maxDrawdownDays) = Drawdown(input);
        double? calmar = annualizedReturn is { } cagr && maxDrawdown is < 0 ? cagr / Math.Abs(maxDrawdown.Value) : null;

        var returns = DailyReturns(input.InitialEquity, daily);
        var risk = returns is { Length: >= 2 } ? ReturnStatistics(returns, rfPerPeriod, periods) : default;
        var trades = TradeStatistics(input.Trades);
        var relative = BenchmarkStatistics(input, rfPerPeriod, periods);

        return new PerformanceMetrics
        {
            TotalReturn = Finite(totalReturn),
            AnnualizedReturn = Finite(annualizedReturn),
            Volatility = Finite(risk.Volatility),
            SharpeRatio = Finite(risk.Sharpe),
            SortinoRatio = Finite(risk.Sortino),
            CalmarRatio = Finite(calmar),
            MaxDrawdown = Finite(maxDrawdown),
            MaxDrawdownDuration = Finite(maxDrawdownDays),
            WinRate = Finite(trades.WinRate),
            ProfitFactor = Finite(trades.ProfitFactor),
            Expectancy = Finite(trades.Expectancy),
            AverageWin = Finite(trades.AverageWin),
            AverageLoss = Finite(trades.AverageLoss),
            PayoffRatio = Finite(trades.PayoffRatio),
            TotalTrades = input.Trades.Count,
            Exposure = input.Exposure,
            Turnover = Finite(turnover),
            TotalCommission = input.TotalCommission,
            Var95Historical = Finite(risk.Var95Historical),
            Var99Historical = Finite(risk.Var99Historical),
            Var95Parametric = Finite(risk.Var95Parametric),
            Var99Parametric = Finite(risk.Var99Parametric),
            Cvar95 = Finite(risk.Cvar95),
            Beta = Finite(relative.Beta),
            Alpha = Finite(relative.Alpha),
            Correlation = Finite(relative.Correlation),
            InformationRatio = Finite(relative.InformationRatio),
            TrackingError = Finite(relative.TrackingError),
            ProbabilisticSharpeRatio = Finite(risk.ProbabilisticSharpe),
            Skewness = Finite(risk.Skewness),
            Kurtosis = Finite(risk.Kurtosis),
            TradingDays = n,
            PeriodsPerYear = periods,
            RiskFreeRate = input.RiskFreeRate,
        };
    }

    /// <summary>The per-period risk-free rate rf_p = (1 + rf)^(1/P) − 1 of an annual rate rf and P periods per year.</summary>
    internal static double PerPeriodRiskFree(double annualRate, double periodsPerYear) =>
        Math.Pow(1 + annualRate, 1.0 / periodsPerYear) - 1;

    /// <summary>
    /// CAGR = growth^(P / n) − 1 for a growth factor E_n / E_0 over n periods of P a year (<paramref name="exponent"/>
    /// = P / n); null when the growth is negative (the account went below zero).
    /// </summary>
    internal static double? AnnualizedReturn(double growth, double exponent) =>
        growth >= 0 ? Math.Pow(growth, exponent) - 1 : null;

    /// <summary>
    /// Sharpe = mean(r − rf_p) / sd(r − rf_p) × √P, sd the sample standard deviation of the excess returns; null when it is
    /// at or below <see cref="ZeroDispersion"/>.
    /// </summary>
    internal static double? SharpeRatio(double meanExcess, double sdExcess, double periodsPerYear) =>
        sdExcess > ZeroDispersion ? meanExcess / sdExcess * Math.Sqrt(periodsPerYear) : null;

    /// <summary>
    /// r_t = E_t / E_{t-1} − 1 with E_0 the initial equity; null when an equity before the last is ≤ 0
    /// (the account was wiped out and later returns are undefined).
    /// </summary>
    internal static double[]? DailyReturns(double initialEquity, IReadOnlyList<DailyEquity> daily)
    {
        var returns = new double[daily.Count];
        var previous = initialEquity;
        for (var i = 0; i < returns.Length; i++)
        {
            if (previous <= 0)
            {
                return null;
            }

            returns[i] = daily[i].Equity / previous - 1;
            previous = daily[i].Equity;
        }

        return returns;
    }

    /// <summary>
    /// Strategy and benchmark daily returns over the same intervals, as described on
    /// <see cref="MetricsInput.BenchmarkDailyEquity"/>. Null without a benchmark, or when a base value is ≤ 0.
    /// </summary>
    internal static (double[] Strategy, double[] Benchmark)? AlignedReturns(MetricsInput input)
    {
        if (input.BenchmarkDailyEquity is not { } benchmark)
        {
            return null;
        }

        var strategy = input.DailyEquity;
        // At most one pair per date of the shorter series; filled in place, trimmed once at the end.
        var strategyReturns = new double[Math.Min(strategy.Count, benchmark.Count)];
        var benchmarkReturns = new double[strategyReturns.Length];
        var pairs = 0;
        double? previousStrategy = null;
        double? previousBenchmark = null;
        if (input.BenchmarkInitialEquity is { } benchmarkStart && strategy.Count > 0 && benchmark.Count > 0
            && strategy[0].Date == benchmark[0].Date)
        {
            previousStrategy = input.InitialEquity;
            previousBenchmark = benchmarkStart;
        }

        int i = 0, j = 0;
        while (i < strategy.Count && j < benchmark.Count)
        {
            var s = strategy[i];
            var b = benchmark[j];
            if (s.Date < b.Date)
            {
                i++;
                continue;
            }

            if (b.Date < s.Date)
            {
                j++;
                continue;
            }

            if (previousStrategy is { } ps && previousBenchmark is { } pb)
            {
                if (ps <= 0 || pb <= 0)
                {
                    return null;
                }

                strategyReturns[pairs] = s.Equity / ps - 1;
                benchmarkReturns[pairs] = b.Equity / pb - 1;
                pairs++;
            }

            previousStrategy = s.Equity;
            previousBenchmark = b.Equity;
            i++;
            j++;
        }

        if (pairs < strategyReturns.Length)
        {
            Array.Resize(ref strategyReturns, pairs);
            Array.Resize(ref benchmarkReturns, pairs);
        }

        return (strategyReturns, benchmarkReturns);
    }

    /// <summary>Sample quantile by linear interpolation (Hyndman–Fan type 7) of an ascending, non-empty array.</summary>
    internal static double Quantile(ReadOnlySpan<double> sorted, double probability)
    {
        var h = (sorted.Length - 1) * probability;
        var lower = (int)Math.Floor(h);
        if (lower >= sorted.Length - 1)
        {
            return sorted[^1];
        }

        return sorted[lower] + (h - lower) * (sorted[lower + 1] - sorted[lower]);
    }

    private static (double? MaxDrawdown, double? Days) Drawdown(MetricsInput input)
    {
        var daily = input.DailyEquity;
        double? maxDrawdown = input.MaxDrawdown;
        double? days = input.MaxDrawdownDuration?.TotalDays;
        if ((maxDrawdown is null || days is null) && daily.Count > 0)
        {
            var tracker = new DrawdownTracker(input.InitialEquity, daily[0].Date.ToDateTime(TimeOnly.MinValue));
            foreach (var point in daily)
            {
                tracker.Update(point.Date.ToDateTime(TimeOnly.MinValue), point.Equity);
            }

            maxDrawdown ??= tracker.MaxDrawdown;
            days ??= tracker.MaxDuration.TotalDays;
        }

        return (maxDrawdown, days);
    }

    private readonly record struct RiskFigures(
        double? Volatility,
        double? Sharpe,
        double? Sortino,
        double? Var95Historical,
        double? Var99Historical,
        double? Var95Parametric,
        double? Var99Parametric,
        double? Cvar95,
        double? Skewness,
        double? Kurtosis,
        double? ProbabilisticSharpe);

    private static RiskFigures ReturnStatistics(double[] returns, double rfPerPeriod, int periods)
    {
        var n = returns.Length;
        var sqrtP = Math.Sqrt(periods);

        var mean = Mean(returns);
        var sd = SampleStdDev(returns, mean);
        var flat = sd <= ZeroDispersion;

        // The excess returns r − rf_p, summed in order as Mean and SampleStdDev would over an array of them.
        var downside = 0.0;
        var excessSum = 0.0;
        for (var t = 0; t < n; t++)
        {
            var excess = returns[t] - rfPerPeriod;
            excessSum += excess;
            if (excess < 0)
            {
                downside += excess * excess;
            }
        }

        var meanExcess = excessSum / n;
        var excessSquares = 0.0;
        for (var t = 0; t < n; t++)
        {
            var excess = returns[t] - rfPerPeriod;
            excessSquares += (excess - meanExcess) * (excess - meanExcess);
        }

        var sdExcess = Math.Sqrt(excessSquares / (n - 1));
        var downsideDeviation = Math.Sqrt(downside / n);

        // The sorted copy lives only in this call: a pooled buffer, returned before the figures leave.
        var buffer = ArrayPool<double>.Shared.Rent(n);
        double q05, q01, tailSum = 0.0;
        var tailCount = 0;
        try
        {
            var sorted = buffer.AsSpan(0, n);
            returns.CopyTo(sorted);
            sorted.Sort();
            q05 = Quantile(sorted, 0.05);
            q01 = Quantile(sorted, 0.01);
            foreach (var r in sorted)
            {
                if (r > q05)
                {
                    break;
                }

                tailSum += r;
                tailCount++;
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }

        // Biased central moments m_k = Σ(r − mean)^k / n.
        var (m2, m3, m4) = CentralSums(returns, mean);
        m2 /= n;
        m3 /= n;
        m4 /= n;

        double? skewness = null;
        double? kurtosis = null;
        double? psr = null;
        if (!flat)
        {
            var g1 = m3 / Math.Pow(m2, 1.5);
            var g2 = m4 / (m2 * m2) - 3;
            if (n >= 3)
            {
                skewness = g1 * Math.Sqrt(n * (n - 1.0)) / (n - 2);
            }

            if (n >= 4)
            {
                kurtosis = ((n + 1) * g2 + 6) * (n - 1) / ((n - 2.0) * (n - 3));
            }
        }

        if (sdExcess > ZeroDispersion)
        {
            var sr = meanExcess / sdExcess;
            var gamma3 = m3 / Math.Pow(m2, 1.5);
            var gamma4 = m4 / (m2 * m2);
            var radicand = 1 - gamma3 * sr + (gamma4 - 1) / 4 * sr * sr;
            if (radicand > 0)
            {
                psr = Normal.CDF(0, 1, sr * Math.Sqrt(n - 1) / Math.Sqrt(radicand));
            }
        }

        return new RiskFigures(
            Volatility: flat ? 0.0 : sd * sqrtP,
            Sharpe: SharpeRatio(meanExcess, sdExcess, periods),
            Sortino: downsideDeviation > ZeroDispersion ? meanExcess / downsideDeviation * sqrtP : null,
            Var95Historical: -q05,
            Var99Historical: -q01,
            Var95Parametric: -(mean + Z05 * sd),
            Var99Parametric: -(mean + Z01 * sd),
            Cvar95: -(tailSum / tailCount),
            Skewness: skewness,
            Kurtosis: kurtosis,
            ProbabilisticSharpe: psr);
    }

    private readonly record struct TradeFigures(
        double? WinRate,
        double? ProfitFactor,
        double? Expectancy,
        double? AverageWin,
        double? AverageLoss,
        double? PayoffRatio);

    private static TradeFigures TradeStatistics(IReadOnlyList<Trade> trades)
    {
        if (trades.Count == 0)
        {
            return default;
        }

        double grossWin = 0, grossLoss = 0, total = 0;
        int wins = 0, losses = 0;
        foreach (var trade in trades)
        {
            total += trade.Pnl;
            if (trade.Pnl > 0)
            {
                grossWin += trade.Pnl;
                wins++;
            }
            else if (trade.Pnl < 0)
            {
                grossLoss += trade.Pnl;
                losses++;
            }
        }

        double? averageWin = wins > 0 ? grossWin / wins : null;
        double? averageLoss = losses > 0 ? grossLoss / losses : null;
        return new TradeFigures(
            WinRate: (double)wins / trades.Count,
            ProfitFactor: losses > 0 ? grossWin / Math.Abs(grossLoss) : null,
            Expectancy: total / trades.Count,
            AverageWin: averageWin,
            AverageLoss: averageLoss,
            PayoffRatio: averageWin is { } w && averageLoss is { } l ? w / Math.Abs(l) : null);
    }

    private readonly record struct RelativeFigures(
        double? Beta,
        double? Alpha,
        double? Correlation,
        double? InformationRatio,
        double? TrackingError);

    private static RelativeFigures BenchmarkStatistics(MetricsInput input, double rfPerPeriod, int periods)
    {
        if (AlignedReturns(input) is not var (r, b) || r.Length < 2)
        {
            return default;
        }

        var m = r.Length;
        var meanR = Mean(r);
        var meanB = Mean(b);
        double covariance = 0, varianceR = 0, varianceB = 0, differenceSum = 0;
        for (var t = 0; t < m; t++)
        {
            var dr = r[t] - meanR;
            var db = b[t] - meanB;
            covariance += dr * db;
            varianceR += dr * dr;
            varianceB += db * db;
            differenceSum += r[t] - b[t];
        }

        covariance /= m - 1;
        varianceR /= m - 1;
        varianceB /= m - 1;
        var sdR = Math.Sqrt(varianceR);
        var sdB = Math.Sqrt(varianceB);

        double? beta = sdB > ZeroDispersion ? covariance / varianceB : null;
        double? alpha = beta is { } β ? ((meanR - rfPerPeriod) - β * (meanB - rfPerPeriod)) * periods : null;
        var correlation = Correlation(covariance, sdR, sdB);

        // The differences r − b, summed in order as Mean and SampleStdDev would over an array of them.
        var meanDifference = differenceSum / m;
        var differenceSquares = 0.0;
        for (var t = 0; t < m; t++)
        {
            var d = r[t] - b[t];
            differenceSquares += (d - meanDifference) * (d - meanDifference);
        }

        var sdDifference = Math.Sqrt(differenceSquares / (m - 1));
        var flat = sdDifference <= ZeroDispersion;
        var trackingError = flat ? 0.0 : sdDifference * Math.Sqrt(periods);
        double? informationRatio = flat ? null : meanDifference * periods / trackingError;

        return new RelativeFigures(beta, alpha, correlation, informationRatio, trackingError);
    }

    /// <summary>
    /// Pearson correlation cov(x, y) / (sd(x) · sd(y)) of two equally long series (sample, n − 1), clamped to
    /// [−1, 1]. Null with fewer than 2 values or when either standard deviation is zero (≤ <see cref="ZeroDispersion"/>).
    /// </summary>
    internal static double? Correlation(double[] x, double[] y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"Series lengths differ: {x.Length} and {y.Length}.", nameof(y));
        }

        var m = x.Length;
        if (m < 2)
        {
            return null;
        }

        var meanX = Mean(x);
        var meanY = Mean(y);
        double covariance = 0, varianceX = 0, varianceY = 0;
        for (var t = 0; t < m; t++)
        {
            var dx = x[t] - meanX;
            var dy = y[t] - meanY;
            covariance += dx * dy;
            varianceX += dx * dx;
            varianceY += dy * dy;
        }

        return Correlation(covariance / (m - 1), Math.Sqrt(varianceX / (m - 1)), Math.Sqrt(varianceY / (m - 1)));
    }

    private static double? Correlation(double covariance, double sdX, double sdY) =>
        sdX > ZeroDispersion && sdY > ZeroDispersion ? Math.Clamp(covariance / (sdX * sdY), -1.0, 1.0) : null;

    /// <summary>
    /// The sums Σ(x − mean)², Σ(x − mean)³ and Σ(x − mean)⁴, the one home of the central moments: divided by n they are
    /// the population (biased) moments m2, m3, m4 of the skewness, kurtosis and probabilistic Sharpe ratio here and of
    /// <see cref="Robustness.ReturnMoments"/>.
    /// </summary>
    internal static (double Squares, double Cubes, double Fourths) CentralSums(ReadOnlySpan<double> xs, double mean)
    {
        double s2 = 0, s3 = 0, s4 = 0;
        foreach (var x in xs)
        {
            var d = x - mean;
            var d2 = d * d;
            s2 += d2;
            s3 += d2 * d;
            s4 += d2 * d2;
        }

        return (s2, s3, s4);
    }

    internal static double Mean(ReadOnlySpan<double> xs)
    {
        var sum = 0.0;
        foreach (var x in xs)
        {
            sum += x;
        }

        return sum / xs.Length;
    }

    internal static double SampleStdDev(ReadOnlySpan<double> xs, double mean)
    {
        var ss = 0.0;
        foreach (var x in xs)
        {
            ss += (x - mean) * (x - mean);
        }

        return Math.Sqrt(ss / (xs.Length - 1));
    }

    // Undefined results (NaN, ±Infinity) become null; −0 becomes 0 so it never prints as "-0".
    internal static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? (v == 0 ? 0.0 : v) : null;

    private static void Validate(MetricsInput input)
    {
        if (!double.IsFinite(input.InitialEquity) || input.InitialEquity <= 0)
        {
            throw new ArgumentException($"InitialEquity must be finite and positive, got {input.InitialEquity}.", nameof(input));
        }

        if (input.PeriodsPerYear < 1)
        {
            throw new ArgumentException($"PeriodsPerYear must be at least 1, got {input.PeriodsPerYear}.", nameof(input));
        }

        if (!double.IsFinite(input.RiskFreeRate) || input.RiskFreeRate <= -1)
        {
            throw new ArgumentException($"RiskFreeRate must be finite and above -1, got {input.RiskFreeRate}.", nameof(input));
        }

        if (!double.IsFinite(input.Exposure) || input.Exposure < 0 || input.Exposure > 1)
        {
            throw new ArgumentException($"Exposure must be in [0, 1], got {input.Exposure}.", nameof(input));
        }

        if (!double.IsFinite(input.TotalTradedValue) || input.TotalTradedValue < 0)
        {
            throw new ArgumentException($"TotalTradedValue must be finite and non-negative, got {input.TotalTradedValue}.", nameof(input));
        }

        if (!double.IsFinite(input.TotalCommission))
        {
            throw new ArgumentException($"TotalCommission must be finite, got {input.TotalCommission}.", nameof(input));
        }

        if (input.MaxDrawdown is { } dd && (!double.IsFinite(dd) || dd > 0))
        {
            throw new ArgumentException($"MaxDrawdown must be a finite fraction ≤ 0, got {dd}.", nameof(input));
        }

        if (input.MaxDrawdownDuration is { } duration && duration < TimeSpan.Zero)
        {
            throw new ArgumentException($"MaxDrawdownDuration must not be negative, got {duration}.", nameof(input));
        }

        ArgumentNullException.ThrowIfNull(input.DailyEquity, nameof(input.DailyEquity));
        ArgumentNullException.ThrowIfNull(input.Trades, nameof(input.Trades));
        ValidateSeries(input.DailyEquity, nameof(input.DailyEquity));
        if (input.BenchmarkDailyEquity is { } benchmark)
        {
            ValidateSeries(benchmark, nameof(input.BenchmarkDailyEquity));
        }

        if (input.BenchmarkInitialEquity is { } start && (!double.IsFinite(start) || start <= 0))
        {
            throw new ArgumentException($"BenchmarkInitialEquity must be finite and positive, got {start}.", nameof(input));
        }

        foreach (var trade in input.Trades)
        {
            if (!double.IsFinite(trade.Pnl))
            {
                throw new ArgumentException($"Trade {trade.Id} has a non-finite Pnl ({trade.Pnl}).", nameof(input));
            }
        }
    }

    internal static void ValidateSeries(IReadOnlyList<DailyEquity> series, string name)
    {
        for (var i = 0; i < series.Count; i++)
        {
            if (!double.IsFinite(series[i].Equity))
            {
                throw new ArgumentException($"{name}[{i}] ({series[i].Date:yyyy-MM-dd}) is not finite: {series[i].Equity}.", name);
            }

            if (i > 0 && series[i].Date <= series[i - 1].Date)
            {
                throw new ArgumentException($"{name} dates must be strictly increasing: {series[i - 1].Date:yyyy-MM-dd} then {series[i].Date:yyyy-MM-dd}.", name);
            }
        }
    }
}
