namespace Backtesting.Engine.Metrics;

/// <summary>
/// Performance summary of one backtest, produced by <see cref="MetricsCalculator.Compute"/>. Serialized with
/// the System.Text.Json web defaults the names are camelCase (<c>totalReturn</c>, <c>var95Historical</c>, …).
/// </summary>
/// <remarks>
/// <para>Notation: E_t end-of-day equity (t = 1..n), E_0 the initial equity, r_t = E_t / E_{t-1} − 1 the n daily
/// returns, P periods per year, rf_p = (1 + rf)^(1/P) − 1 the per-period risk-free rate, e_t = r_t − rf_p the
/// excess returns, mean(x) = Σx/n, sd(x) = sqrt(Σ(x − mean)² / (n − 1)) the sample standard deviation.</para>
/// <para>A metric that is undefined for the data (no trades, no benchmark, zero dispersion, too few returns,
/// an overflow, equity at or below zero before the end) is <c>null</c>; the record never holds NaN or ±Infinity.
/// A per-period standard deviation (or downside deviation) at or below 1e-12 counts as zero: it is the rounding noise of a constant series.
/// Return-series metrics need n ≥ 2 returns (skewness n ≥ 3, kurtosis n ≥ 4), and all equity before the last
/// date must be positive.</para>
/// </remarks>
public sealed record PerformanceMetrics
{
    /// <summary>E_n / E_0 − 1. Null when there is no daily equity.</summary>
    public double? TotalReturn { get; init; }

    /// <summary>
    /// Compound annual growth rate (1 + totalReturn)^(P/n) − 1, n the number of daily returns.
    /// Null when there is no daily equity, when 1 + totalReturn &lt; 0, or when it overflows (very short runs).
    /// </summary>
    public double? AnnualizedReturn { get; init; }

    /// <summary>Annualized volatility sd(r) · sqrt(P).</summary>
    public double? Volatility { get; init; }

    /// <summary>Annualized Sharpe ratio mean(e) / sd(e) · sqrt(P). Null when sd(e) is zero.</summary>
    public double? SharpeRatio { get; init; }

    /// <summary>
    /// Annualized Sortino ratio mean(e) / DD · sqrt(P) with the downside deviation DD = sqrt( Σ min(0, e_t)² / n )
    /// (divided by all n returns, target = the risk-free rate). Null when no excess return is negative (DD = 0).
    /// </summary>
    public double? SortinoRatio { get; init; }

    /// <summary>annualizedReturn / |maxDrawdown|. Null when there was no drawdown.</summary>
    public double? CalmarRatio { get; init; }

    /// <summary>
    /// Largest decline from a running peak, min_t (E_t / max_{s≤t} E_s − 1), as a negative fraction (−0.23);
    /// peaks include the initial equity. The engine's per-bar figure when given, else computed from daily
    /// equity with a <see cref="DrawdownTracker"/>. 0 when equity never fell below a peak.
    /// </summary>
    public double? MaxDrawdown { get; init; }

    /// <summary>
    /// Longest drawdown in days: from the time a peak was set until equity first regains it, or until the last
    /// date when it never does. From daily equity these are whole calendar days (the initial equity's peak is
    /// dated at the first date); from the engine's per-bar tracker the elapsed time may be fractional.
    /// </summary>
    public double? MaxDrawdownDuration { get; init; }

    /// <summary>wins / totalTrades, a win being a trade with net pnl &gt; 0. Null without trades.</summary>
    public double? WinRate { get; init; }

    /// <summary>Σ pnl of wins / |Σ pnl of losses| (losses: pnl &lt; 0). Null when there is no losing trade.</summary>
    public double? ProfitFactor { get; init; }

    /// <summary>Mean net pnl per trade, base currency (zero-pnl trades included). Null without trades.</summary>
    public double? Expectancy { get; init; }

    /// <summary>Mean pnl of winning trades (&gt; 0), base currency. Null without wins.</summary>
    public double? AverageWin { get; init; }

    /// <summary>Mean pnl of losing trades, base currency, negative. Null without losses.</summary>
    public double? AverageLoss { get; init; }

    /// <summary>averageWin / |averageLoss|. Null unless there are both wins and losses.</summary>
    public double? PayoffRatio { get; init; }

    /// <summary>Number of closed trades.</summary>
    public int TotalTrades { get; init; }

    /// <summary>Fraction of the time in the market, as computed by the engine.</summary>
    public double Exposure { get; init; }

    /// <summary>
    /// Annualized turnover: totalTradedValue / mean(E_1..E_n) · P / n, i.e. traded value per year as a multiple of
    /// average equity. Traded value counts buys and sells, so one full round trip of the account is 2.
    /// Null when there is no daily equity or mean equity ≤ 0.
    /// </summary>
    public double? Turnover { get; init; }

    /// <summary>Total commission paid, base currency, as computed by the engine.</summary>
    public double TotalCommission { get; init; }

    /// <summary>
    /// One-day 95% historical VaR as a positive loss fraction: −Q(r, 0.05), Q the sample quantile by linear
    /// interpolation between order statistics (Hyndman–Fan type 7, the default of R, NumPy and Excel
    /// PERCENTILE.INC): sorted x_(1..n), h = (n − 1)·p, Q = x_(⌊h⌋+1) + (h − ⌊h⌋)(x_(⌊h⌋+2) − x_(⌊h⌋+1)).
    /// Negative when even that tail quantile is a gain.
    /// </summary>
    public double? Var95Historical { get; init; }

    /// <summary>One-day 99% historical VaR: −Q(r, 0.01), as <see cref="Var95Historical"/>.</summary>
    public double? Var99Historical { get; init; }

    /// <summary>One-day 95% Gaussian VaR: −(mean(r) + z_0.05 · sd(r)), z_0.05 = Φ⁻¹(0.05) ≈ −1.6449.</summary>
    public double? Var95Parametric { get; init; }

    /// <summary>One-day 99% Gaussian VaR: −(mean(r) + z_0.01 · sd(r)), z_0.01 = Φ⁻¹(0.01) ≈ −2.3263.</summary>
    public double? Var99Parametric { get; init; }

    /// <summary>One-day 95% conditional VaR (expected shortfall): −mean{ r_t : r_t ≤ Q(r, 0.05) }, Q as in <see cref="Var95Historical"/>.</summary>
    public double? Cvar95 { get; init; }

    /// <summary>
    /// Beta to the benchmark over the m date-aligned return pairs (r, b): cov(r, b) / var(b), both sample (m − 1).
    /// Null without a benchmark, with m &lt; 2, or when var(b) is zero.
    /// </summary>
    public double? Beta { get; init; }

    /// <summary>Annualized Jensen's alpha: (mean(r − rf_p) − beta · mean(b − rf_p)) · P over the aligned pairs.</summary>
    public double? Alpha { get; init; }

    /// <summary>Pearson correlation of the aligned daily returns: cov(r, b) / (sd(r) · sd(b)).</summary>
    public double? Correlation { get; init; }

    /// <summary>mean(r − b) · P / trackingError. Null when the tracking error is zero.</summary>
    public double? InformationRatio { get; init; }

    /// <summary>Annualized tracking error sd(r − b) · sqrt(P) over the aligned pairs.</summary>
    public double? TrackingError { get; init; }

    /// <summary>
    /// Probabilistic Sharpe Ratio (Bailey &amp; López de Prado, 2012) against a benchmark Sharpe of 0:
    /// Φ( SR · sqrt(n − 1) / sqrt(1 − γ3·SR + (γ4 − 1)/4 · SR²) ), with SR = mean(e)/sd(e) the per-period
    /// (not annualized) Sharpe ratio, and γ3 = m3/m2^1.5, γ4 = m4/m2² the moment-based (biased) skewness and
    /// NON-excess kurtosis of the returns, m_k = Σ(r − mean)^k / n, as in the paper. (These differ by O(1/n) from
    /// the bias-adjusted <see cref="Skewness"/> and <see cref="Kurtosis"/> reported here; the moment estimators
    /// guarantee γ4 ≥ 1 + γ3², so the square root is always real.) The probability that the true Sharpe
    /// ratio is above zero.
    /// </summary>
    public double? ProbabilisticSharpeRatio { get; init; }

    /// <summary>
    /// Sample skewness of daily returns, the adjusted Fisher–Pearson coefficient G1 = g1 · sqrt(n(n − 1)) / (n − 2)
    /// with g1 = m3 / m2^1.5 (as Excel SKEW and pandas skew). Needs n ≥ 3 and non-zero dispersion.
    /// </summary>
    public double? Skewness { get; init; }

    /// <summary>
    /// Sample EXCESS kurtosis of daily returns (normal = 0), the bias-adjusted estimator
    /// G2 = ((n + 1)·g2 + 6) · (n − 1) / ((n − 2)(n − 3)) with g2 = m4/m2² − 3 (as Excel KURT and pandas kurt).
    /// Needs n ≥ 4 and non-zero dispersion.
    /// </summary>
    public double? Kurtosis { get; init; }

    /// <summary>Number of daily equity points, which is the number n of daily returns.</summary>
    public int TradingDays { get; init; }

    /// <summary>P, the periods per year used to annualize.</summary>
    public int PeriodsPerYear { get; init; }

    /// <summary>The annual risk-free rate used.</summary>
    public double RiskFreeRate { get; init; }
}
