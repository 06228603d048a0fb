using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Robustness;

/// <summary>
/// The returns a Monte Carlo resamples, and the calendar the statistics of a path are annualized with.
/// </summary>
/// <param name="InitialEquity">E0, where every path starts (finite, &gt; 0).</param>
/// <param name="Returns">The observed steps: daily returns, or each closed trade's return on the equity before it.</param>
/// <param name="Days">The trading days the backtest covered: a path's CAGR is growth^(P / Days) − 1, whatever its steps.</param>
/// <param name="PeriodsPerYear">P, the trading days a year (252, 365 for crypto).</param>
/// <param name="RiskFreeRate">The annual risk-free rate of the backtest, as in its Sharpe ratio.</param>
public sealed record MonteCarloSeries(double InitialEquity, double[] Returns, int Days, int PeriodsPerYear, double RiskFreeRate)
{
    /// <summary>Steps a year: P for daily returns; Returns.Length × P / Days for trades (a path's Sharpe ratio is annualized with it).</summary>
    public double StepsPerYear => (double)Returns.Length * PeriodsPerYear / Days;

    /// <summary>
    /// The daily returns r_t = E_t / E_{t−1} − 1 with E_0 the initial equity (the metrics' definition); null when the
    /// account was wiped out before the last day, so later returns are undefined.
    /// </summary>
    public static MonteCarloSeries? FromDailyEquity(double initialEquity, IReadOnlyList<DailyEquity> daily, int periodsPerYear, double riskFreeRate) =>
        MetricsCalculator.DailyReturns(initialEquity, daily) is { } returns
            ? new MonteCarloSeries(initialEquity, returns, daily.Count, periodsPerYear, riskFreeRate)
            : null;

    /// <summary>
    /// Each closed trade's return on the equity before it, in the order the trades closed (exit time, then id):
    /// r_i = pnl_i / (E0 + Σ_{j&lt;i} pnl_j), so compounding them in that order ends at E0 + Σ pnl. Null when the realized
    /// equity before a trade is ≤ 0.
    /// </summary>
    public static MonteCarloSeries? FromTrades(double initialEquity, IReadOnlyList<Trade> trades, int days, int periodsPerYear, double riskFreeRate)
    {
        var ordered = trades.OrderBy(t => t.ExitTime).ThenBy(t => t.Id).ToList();
        var returns = new double[ordered.Count];
        var equity = initialEquity;
        for (var i = 0; i < returns.Length; i++)
        {
            if (!(equity > 0))
            {
                return null;
            }

            returns[i] = ordered[i].Pnl / equity;
            equity += ordered[i].Pnl;
        }

        return new MonteCarloSeries(initialEquity, returns, days, periodsPerYear, riskFreeRate);
    }

    /// <summary>Why no Monte Carlo can be run on this series, or null when one can.</summary>
    public string? Unusable()
    {
        if (!double.IsFinite(InitialEquity) || InitialEquity <= 0)
        {
            return $"the initial equity must be a finite number > 0, got {InitialEquity}";
        }

        if (Returns.Length < MonteCarlo.MinReturns)
        {
            return $"at least {MonteCarlo.MinReturns} returns are needed to resample, got {Returns.Length}";
        }

        foreach (var r in Returns)
        {
            if (!double.IsFinite(r))
            {
                return $"a return is {r}; every return must be a finite number";
            }
        }

        var first = Returns[0];
        if (Returns.All(r => r == first))
        {
            return "the returns do not vary, so every path would be the same";
        }

        if (Days < 1 || PeriodsPerYear < 1)
        {
            return $"the days covered ({Days}) and the periods a year ({PeriodsPerYear}) must be at least 1";
        }

        return double.IsFinite(RiskFreeRate) && RiskFreeRate > -1 ? null : $"the risk-free rate must be finite and above -1, got {RiskFreeRate}";
    }
}

/// <summary>The settings of <see cref="MonteCarlo.Run"/>.</summary>
/// <param name="Paths">How many paths: 1 to <see cref="MonteCarlo.MaxPaths"/>.</param>
/// <param name="Seed">Fixes every draw: path p draws from <c>SplitMix64.ForTrial(Seed, p)</c>, whatever the threads.</param>
/// <param name="MeanBlockLength">The stationary bootstrap's mean block length, 1 to the number of returns; null = automatic
/// (<see cref="MonteCarloBlockLength.Stationary"/>). Ignored by the trade methods.</param>
/// <param name="DrawdownLimit">The drawdown whose probability is reported: a fraction in (0, 1], 0.2 = a fall of 20% from a peak.</param>
/// <param name="Bins">Histogram bins per distribution, 1 to <see cref="MonteCarlo.MaxBins"/>.</param>
/// <param name="FanPoints">Points of the equity fan over the path (the start and the end included), 2 to <see cref="MonteCarlo.MaxFanPoints"/>;
/// fewer when the path has fewer steps.</param>
public sealed record MonteCarloOptions(
    int Paths = 10_000, long Seed = 0, double? MeanBlockLength = null, double DrawdownLimit = 0.2, int Bins = 20, int FanPoints = 101);

/// <summary>The percentiles of equity over the paths after <see cref="Step"/> steps (step 0 is the start, E0).</summary>
public sealed record FanPoint(int Step, Percentiles Equity);

/// <summary>What the paths of a Monte Carlo say.</summary>
/// <param name="Steps">Steps per path: the number of observed returns.</param>
/// <param name="MeanBlockLength">The stationary bootstrap's mean block length used; null for the trade methods.</param>
/// <param name="BlockLengthAutomatic">True when that length was estimated from the returns rather than given.</param>
/// <param name="Fan">Equity percentiles at evenly spaced steps, the first at 0 and the last at <see cref="Steps"/>.</param>
/// <param name="FinalReturn">E_end / E0 − 1 of each path.</param>
/// <param name="Cagr">Each path's growth^(P / Days) − 1 (the metrics' annualized return).</param>
/// <param name="MaxDrawdown">Each path's maximum drawdown, a fraction ≤ 0 (the metrics' drawdown tracker over the path's steps).</param>
/// <param name="Sharpe">Each path's Sharpe ratio, annualized with the steps a year (the metrics' formula).</param>
/// <param name="ProbabilityOfLoss">The share of paths ending below E0.</param>
/// <param name="ProbabilityOfDrawdownBeyondLimit">The share of paths whose maximum drawdown is at least <see cref="DrawdownLimit"/> deep.</param>
public sealed record MonteCarloResult(
    MonteCarloMethod Method,
    int Paths,
    long Seed,
    int Steps,
    double? MeanBlockLength,
    bool BlockLengthAutomatic,
    double InitialEquity,
    IReadOnlyList<FanPoint> Fan,
    MonteCarloDistribution FinalReturn,
    MonteCarloDistribution Cagr,
    MonteCarloDistribution MaxDrawdown,
    MonteCarloDistribution Sharpe,
    double ProbabilityOfLoss,
    double DrawdownLimit,
    double ProbabilityOfDrawdownBeyondLimit);

/// <summary>
/// Monte Carlo paths of a backtest: the observed returns resampled (<see cref="MonteCarloSampling"/>) and compounded from
/// E0, E_t = E_{t−1} (1 + r_t); a path whose equity reaches 0 or below is ruined and stays there (its CAGR and Sharpe
/// ratio are then undefined, as the metrics leave them). Every statistic of a path is the metrics' own formula
/// (<see cref="MetricsCalculator"/>, <see cref="DrawdownTracker"/>); percentiles are Hyndman and Fan's type 7.
/// Paths are computed in parallel, each from its own generator into its own slots, so the result depends only on the
/// series and the options.
/// </summary>
public static class MonteCarlo
{
    public const int MaxPaths = 100_000;
    public const int MaxBins = 200;
    public const int MaxFanPoints = 201;
    public const int MinReturns = 2;

    /// <summary>Why these options cannot be used with this series (the field in camelCase and the message), or null.</summary>
    public static (string Field, string Message)? InvalidOption(MonteCarloSeries series, MonteCarloMethod method, MonteCarloOptions options)
    {
        if (options.Paths is < 1 or > MaxPaths)
        {
            return ("paths", $"paths must be between 1 and {MaxPaths:N0}");
        }

        if (options.MeanBlockLength is { } block && method == MonteCarloMethod.StationaryBootstrap
            && (!double.IsFinite(block) || block < 1 || block > series.Returns.Length))
        {
            return ("blockSize", $"blockSize must be between 1 and the number of daily returns ({series.Returns.Length})");
        }

        if (!(options.DrawdownLimit > 0 && options.DrawdownLimit <= 1))
        {
            return ("drawdownLimit", "drawdownLimit must be a fraction above 0 and at most 1");
        }

        if (options.Bins is < 1 or > MaxBins)
        {
            return ("bins", $"bins must be between 1 and {MaxBins}");
        }

        return options.FanPoints is < 2 or > MaxFanPoints ? ("fanPoints", $"fanPoints must be between 2 and {MaxFanPoints}") : null;
    }

    public static MonteCarloResult Run(MonteCarloSeries series, MonteCarloMethod method, MonteCarloOptions options)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        if (series.Unusable() is { } reason)
        {
            throw new ArgumentException(reason, nameof(series));
        }

        if (InvalidOption(series, method, options) is { } invalid)
        {
            throw new ArgumentOutOfRangeException(nameof(options), invalid.Message);
        }

        var returns = series.Returns;
        var n = returns.Length;
        var paths = options.Paths;
        double? block = null;
        var automatic = false;
        if (method == MonteCarloMethod.StationaryBootstrap)
        {
            automatic = options.MeanBlockLength is null;
            block = options.MeanBlockLength ?? MonteCarloBlockLength.Stationary(returns);
        }

        var fanSteps = FanSteps(n, options.FanPoints);
        var fan = new float[paths * fanSteps.Length];
        var finals = new double[paths];
        var cagrs = new double[paths];
        var drawdowns = new double[paths];
        var sharpes = new double[paths];
        var stepsPerYear = series.StepsPerYear;
        var exponent = (double)series.PeriodsPerYear / series.Days;
        var riskFree = MetricsCalculator.PerPeriodRiskFree(series.RiskFreeRate, stepsPerYear);
        var e0 = series.InitialEquity;

        Parallel.For(
            0, paths, () => (Indices: new int[n], Excess: new double[n]),
            (p, _, scratch) =>
            {
                var random = SplitMix64.ForTrial(options.Seed, p);
                switch (method)
                {
                    case MonteCarloMethod.TradeShuffle:
                        MonteCarloSampling.Shuffle(ref random, scratch.Indices);
                        break;
                    case MonteCarloMethod.TradeResample:
                        MonteCarloSampling.Resample(ref random, n, scratch.Indices);
                        break;
                    default:
                        MonteCarloSampling.StationaryBootstrap(ref random, n, block!.Value, scratch.Indices);
                        break;
                }

                var tracker = new DrawdownTracker(e0, DateTime.MinValue);
                var equity = e0;
                var ruined = false;
                var next = 0;
                var row = fan.AsSpan(p * fanSteps.Length, fanSteps.Length);
                if (fanSteps[0] == 0)
                {
                    row[next++] = 1f;
                }

                for (var t = 0; t < n; t++)
                {
                    var r = returns[scratch.Indices[t]];
                    scratch.Excess[t] = r - riskFree;
                    if (!ruined)
                    {
                        equity *= 1 + r;
                        ruined = equity <= 0;
                    }

                    tracker.Update(t + 1, equity);
                    if (next < fanSteps.Length && fanSteps[next] == t + 1)
                    {
                        row[next++] = (float)(equity / e0);
                    }
                }

                var growth = equity / e0;
                finals[p] = growth - 1;
                cagrs[p] = !ruined && MetricsCalculator.AnnualizedReturn(growth, exponent) is { } cagr ? cagr : double.NaN;
                drawdowns[p] = tracker.MaxDrawdown;
                var excess = scratch.Excess.AsSpan();
                var meanExcess = MetricsCalculator.Mean(excess);
                sharpes[p] = !ruined && MetricsCalculator.SharpeRatio(meanExcess, MetricsCalculator.SampleStdDev(excess, meanExcess), stepsPerYear) is { } s
                    ? s
                    : double.NaN;
                return scratch;
            },
            _ => { });

        int losses = 0, deep = 0;
        for (var p = 0; p < paths; p++)
        {
            losses += finals[p] < 0 ? 1 : 0;
            deep += drawdowns[p] <= -options.DrawdownLimit ? 1 : 0;
        }

        var points = new FanPoint[fanSteps.Length];
        var column = new double[paths];
        for (var k = 0; k < fanSteps.Length; k++)
        {
            for (var p = 0; p < paths; p++)
            {
                column[p] = fan[p * fanSteps.Length + k] * e0;
            }

            Array.Sort(column);
            points[k] = new FanPoint(fanSteps[k], Percentiles.OfSorted(column));
        }

        return new MonteCarloResult(
            method, paths, options.Seed, n, block, automatic, e0, points,
            MonteCarloDistribution.Of(finals, options.Bins),
            MonteCarloDistribution.Of(cagrs, options.Bins),
            MonteCarloDistribution.Of(drawdowns, options.Bins),
            MonteCarloDistribution.Of(sharpes, options.Bins),
            (double)losses / paths, options.DrawdownLimit, (double)deep / paths);
    }

    /// <summary>
    /// The steps the fan is drawn at: round(k n / (F − 1)) for k = 0..F − 1 with F = min(<paramref name="points"/>, n + 1),
    /// so the start (0) and the end (n) are always among them, ascending and distinct.
    /// </summary>
    public static int[] FanSteps(int steps, int points)
    {
        var f = Math.Min(points, steps + 1);
        var result = new int[f];
        for (var k = 0; k < f; k++)
        {
            result[k] = (int)Math.Round((double)k * steps / (f - 1), MidpointRounding.AwayFromZero);
        }

        return result;
    }
}
