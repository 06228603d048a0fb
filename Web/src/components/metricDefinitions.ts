// What each metric means and how the engine computes it. The formulas are those of
// Engine/Metrics/PerformanceMetrics.cs (MetricsCalculator): keep the two in step.
// Notation: E_t end-of-day equity, E_0 initial equity, r_t daily returns, P periods per year (252 or 365),
// e_t = r_t − rf_p excess returns, b_t benchmark returns.

export type MetricFormat = 'percent' | 'ratio' | 'currency' | 'days' | 'count' | 'probability' | 'multiple';
export type MetricGroup = 'returns' | 'risk' | 'trades' | 'benchmark';

export interface MetricDefinition {
  name: string;
  label: string;
  group: MetricGroup;
  format: MetricFormat;
  meaning: string;
  formula: string;
  /** Shown among the key figures at the top of the overview. */
  key?: boolean;
}

export const METRIC_GROUPS: { group: MetricGroup; title: string }[] = [
  { group: 'returns', title: 'Returns' },
  { group: 'risk', title: 'Risk' },
  { group: 'trades', title: 'Trades' },
  { group: 'benchmark', title: 'Relative to the benchmark' },
];

export const METRICS: MetricDefinition[] = [
  { name: 'totalReturn', label: 'Total return', group: 'returns', format: 'percent', key: true,
    meaning: 'Growth of the account over the whole run.', formula: 'E_n / E_0 − 1' },
  { name: 'annualizedReturn', label: 'Annualized return (CAGR)', group: 'returns', format: 'percent', key: true,
    meaning: 'The constant yearly rate that gives the same total return.', formula: '(1 + total return)^(P / n) − 1, n daily returns' },
  { name: 'sharpeRatio', label: 'Sharpe ratio', group: 'returns', format: 'ratio', key: true,
    meaning: 'Excess return per unit of total volatility; above 1 is good, above 2 very good.',
    formula: 'mean(e) / sd(e) · √P, e = daily return − per-period risk-free rate' },
  { name: 'sortinoRatio', label: 'Sortino ratio', group: 'returns', format: 'ratio', key: true,
    meaning: 'Like Sharpe, but only losses count as risk.',
    formula: 'mean(e) / DD · √P, DD = √(Σ min(0, e)² / n)' },
  { name: 'calmarRatio', label: 'Calmar ratio', group: 'returns', format: 'ratio',
    meaning: 'Yearly return earned per unit of worst drawdown.', formula: 'annualized return / |max drawdown|' },
  { name: 'volatility', label: 'Volatility', group: 'risk', format: 'percent',
    meaning: 'How much daily returns swing, scaled to a year.', formula: 'sd(r) · √P (sample standard deviation)' },
  { name: 'maxDrawdown', label: 'Max drawdown', group: 'risk', format: 'percent', key: true,
    meaning: 'The largest fall from a running peak of equity.', formula: 'min_t (E_t / max_{s≤t} E_s − 1)' },
  { name: 'maxDrawdownDuration', label: 'Longest drawdown', group: 'risk', format: 'days',
    meaning: 'Longest time from a peak until equity regained it (or the end).', formula: 'calendar days from peak to recovery' },
  { name: 'var95Historical', label: 'VaR 95% (historical)', group: 'risk', format: 'percent',
    meaning: 'A one-day loss exceeded on only 5% of days, read from the run\'s own returns.',
    formula: '−Q(r, 0.05), Q the linear-interpolation sample quantile' },
  { name: 'var99Historical', label: 'VaR 99% (historical)', group: 'risk', format: 'percent',
    meaning: 'A one-day loss exceeded on only 1% of days.', formula: '−Q(r, 0.01)' },
  { name: 'var95Parametric', label: 'VaR 95% (parametric)', group: 'risk', format: 'percent',
    meaning: 'The 95% one-day loss if returns were normally distributed.', formula: '−(mean(r) − 1.6449 · sd(r))' },
  { name: 'var99Parametric', label: 'VaR 99% (parametric)', group: 'risk', format: 'percent',
    meaning: 'The 99% one-day loss if returns were normally distributed.', formula: '−(mean(r) − 2.3263 · sd(r))' },
  { name: 'cvar95', label: 'CVaR 95% (expected shortfall)', group: 'risk', format: 'percent',
    meaning: 'The average loss on the worst 5% of days.', formula: '−mean{ r_t : r_t ≤ Q(r, 0.05) }' },
  { name: 'skewness', label: 'Skewness', group: 'risk', format: 'ratio',
    meaning: 'Asymmetry of daily returns; negative means large losses are more common than large gains.',
    formula: 'adjusted Fisher–Pearson G1 = g1 · √(n(n−1)) / (n−2)' },
  { name: 'kurtosis', label: 'Excess kurtosis', group: 'risk', format: 'ratio',
    meaning: 'Fatness of the tails compared with a normal distribution (0).',
    formula: 'bias-adjusted G2 = ((n+1)·g2 + 6)(n−1) / ((n−2)(n−3))' },
  { name: 'probabilisticSharpeRatio', label: 'Probabilistic Sharpe', group: 'risk', format: 'probability',
    meaning: 'The probability that the true Sharpe ratio is above zero, given the sample length and shape.',
    formula: 'Φ( SR·√(n−1) / √(1 − γ3·SR + (γ4−1)/4·SR²) ) (Bailey & López de Prado)' },
  { name: 'totalTrades', label: 'Trades', group: 'trades', format: 'count', key: true,
    meaning: 'Closed round trips.', formula: 'count of closed trades' },
  { name: 'winRate', label: 'Win rate', group: 'trades', format: 'percent', key: true,
    meaning: 'Share of trades that made money after costs.', formula: 'wins / trades, a win has net P&L > 0' },
  { name: 'profitFactor', label: 'Profit factor', group: 'trades', format: 'ratio', key: true,
    meaning: 'Money won per unit of money lost; above 1 is profitable.', formula: 'Σ winning P&L / |Σ losing P&L|' },
  { name: 'expectancy', label: 'Expectancy', group: 'trades', format: 'currency',
    meaning: 'Average net P&L per trade.', formula: 'mean net P&L per trade' },
  { name: 'averageWin', label: 'Average win', group: 'trades', format: 'currency',
    meaning: 'Average P&L of winning trades.', formula: 'mean P&L of trades with P&L > 0' },
  { name: 'averageLoss', label: 'Average loss', group: 'trades', format: 'currency',
    meaning: 'Average P&L of losing trades.', formula: 'mean P&L of trades with P&L < 0' },
  { name: 'payoffRatio', label: 'Payoff ratio', group: 'trades', format: 'ratio',
    meaning: 'Size of the average win against the average loss.', formula: 'average win / |average loss|' },
  { name: 'exposure', label: 'Exposure', group: 'trades', format: 'percent',
    meaning: 'Share of the time with a position in the market.', formula: 'time with a position / total time' },
  { name: 'turnover', label: 'Turnover (yearly)', group: 'trades', format: 'multiple',
    meaning: 'Traded value per year as a multiple of average equity; a full round trip counts 2.',
    formula: 'traded value / mean(E) · P / n' },
  { name: 'totalCommission', label: 'Commission paid', group: 'trades', format: 'currency',
    meaning: 'All commission charged on fills.', formula: 'Σ commission' },
  { name: 'beta', label: 'Beta', group: 'benchmark', format: 'ratio',
    meaning: 'Sensitivity to the benchmark: 1 moves with it, 0 ignores it.', formula: 'cov(r, b) / var(b)' },
  { name: 'alpha', label: 'Alpha (annualized)', group: 'benchmark', format: 'percent',
    meaning: 'Return beyond what beta to the benchmark explains (Jensen).',
    formula: '(mean(r − rf) − β · mean(b − rf)) · P' },
  { name: 'correlation', label: 'Correlation', group: 'benchmark', format: 'ratio',
    meaning: 'How closely daily returns move with the benchmark\'s (−1 to 1).', formula: 'cov(r, b) / (sd(r) · sd(b))' },
  { name: 'trackingError', label: 'Tracking error', group: 'benchmark', format: 'percent',
    meaning: 'Volatility of the return difference to the benchmark.', formula: 'sd(r − b) · √P' },
  { name: 'informationRatio', label: 'Information ratio', group: 'benchmark', format: 'ratio',
    meaning: 'Excess return over the benchmark per unit of tracking error.', formula: 'mean(r − b) · P / tracking error' },
];

/**
 * What the engine reports beside the metrics that describes the run's set-up rather than its performance: no card,
 * no comparison row, so no explanation. Tests/Metrics/MetricExplanationTests.cs checks that METRICS and this list
 * together name every figure of Engine/Metrics/PerformanceMetrics.cs once, and nothing else.
 */
export const RUN_SETUP_FIGURES = ['tradingDays', 'periodsPerYear', 'riskFreeRate'];

export const METRIC_BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

export function formatMetric(value: number | null | undefined, format: MetricFormat, currency = 'USD'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  switch (format) {
    case 'percent':
      return `${(value * 100).toFixed(2)}%`;
    case 'probability':
      return `${(value * 100).toFixed(1)}%`;
    case 'currency':
      return new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 2 }).format(value);
    case 'days':
      return `${value.toFixed(value % 1 === 0 ? 0 : 1)} d`;
    case 'count':
      return value.toLocaleString('en-US');
    case 'multiple':
      return `${value.toFixed(2)}×`;
    default:
      return value.toFixed(2);
  }
}
