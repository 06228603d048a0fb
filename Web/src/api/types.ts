// The wire shapes of the API, camelCase as the engine's JsonDefaults writes them. They mirror
// Engine/Configuration/BacktestConfig.cs, Engine/Protocol/Messages.cs, Engine/Metrics and Engine/Results.

export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'urgent'];

export type BacktestState =
  | 'created' | 'queued' | 'starting' | 'running' | 'paused'
  | 'completed' | 'cancelled' | 'failed' | 'timedOut';

export const TERMINAL_STATES: BacktestState[] = ['completed', 'cancelled', 'failed', 'timedOut'];
export const isTerminal = (state: BacktestState | undefined) => !!state && TERMINAL_STATES.includes(state);

export interface BacktestConfig {
  strategyClass: string;
  strategyConfig: Record<string, unknown>;
  startDate: string;
  endDate: string;
  instruments: string[];
  venues: string[];
  initialBalance: number;
  baseCurrency: string;
  accountType: 'cash' | 'margin';
  riskFreeRate: number;
  dataConfiguration: {
    resolution: string;
    dataType: string;
    adjustment: string;
    qualityFilters: { dropInvalid: boolean; dropZeroVolume: boolean; spikeThreshold: number; reportGaps: boolean };
    warmup: number;
    /** Equity minute/tick data: also the pre- and post-market session (default false: regular session only). */
    extendedHours?: boolean;
    /** Use exchange rates older than the staleness limit instead of refusing the run (default false). */
    fxCarryForward?: boolean;
  };
  executionSettings: {
    fillModel: string;
    slippage: { model: string; bps: number; ticks: number; impact: number };
    commission: { model: string; rate: number; amount: number; perShare: number; minimum: number; maximumPercent: number };
    maxVolumeParticipation: number;
  };
  riskSettings: {
    positionSizing: { mode: string; quantity: number; notional: number; percent: number; riskPercent: number; atrPeriod: number };
    limits: { maxPositionQuantity: number; maxPositionPercent: number; maxOpenPositions: number };
    stops: { stopLossPercent: number; takeProfitPercent: number };
    maxLeverage: number;
    drawdownHalt: number;
  };
  benchmark?: string | null;
}

/**
 * What a configuration form offers (GET /api/v1/configuration/options, Api/Configuration/ConfigurationOptionsRoutes.cs):
 * the words each enumerated setting accepts, as the engine's validator lists them, and the value of every setting a
 * config leaves out (the engine's BacktestConfig defaults; strategy, dates and instruments empty).
 */
export interface ConfigurationOptions {
  currencies: string[];
  accountTypes: string[];
  resolutions: string[];
  dataTypes: string[];
  adjustments: string[];
  fillModels: string[];
  slippageModels: string[];
  commissionModels: string[];
  sizingModes: string[];
  priorities: Priority[];
  defaults: BacktestConfig;
  defaultPriority: Priority;
  /**
   * The longest date range the cluster admits, in calendar years (endDate at most startDate plus this many years), for a
   * backtest, an optimization's base config and a walk-forward's whole span; null for no limit (a deployment setting).
   */
  maxDurationYears: number | null;
}

/** One strategy parameter (Engine/Strategies/Parameters.cs ParameterSchema). */
export interface ParameterSchema {
  name: string;
  type: 'integer' | 'number' | 'boolean' | 'string';
  required: boolean;
  default: unknown;
  min: number | null;
  max: number | null;
  description: string;
  allowed: string[] | null;
}

export interface StrategyTemplate {
  name: string;
  description: string;
  maxInstruments?: number;
  parameters: ParameterSchema[];
  /** 'template' for the built-in ones; custom uploads say so. */
  kind?: string;
  /** A custom strategy's latest version. */
  version?: number | null;
}

/** One problem in an uploaded strategy's source (the compiler's diagnostic), 1-based. */
export interface CompileDiagnostic {
  id: string;
  severity: 'error' | 'warning' | string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  message: string;
}

/** POST /api/v1/strategies: the stored version of an upload. */
export interface StrategyVersion {
  name: string;
  version: number;
  sourceHash: string;
  created: boolean;
  schema: StrategyTemplate;
  warnings: CompileDiagnostic[];
}

/** DELETE /api/v1/strategies/{name}: removed (no backtest ran it) or retired (kept for the backtests that ran it). */
export interface StrategyDeleted {
  name: string;
  outcome: 'removed' | 'retired';
}

export interface DateRange { first: string; last: string }

export interface InstrumentInfo {
  id: string;
  symbol: string;
  venue: string;
  assetClass?: string;
  currency?: string;
  /** Keyed "daily", "hour", "minute", "tick" (bars) — or "resolution/dataType". */
  availability: Record<string, DateRange | null | undefined>;
}

export interface ProgressInfo {
  percentage: number;
  currentDate: string;
  processedBars: number;
  totalBars: number;
  estimatedTimeRemaining: number;
  processingRate: number;
}
export interface StatisticsInfo { tradesExecuted: number; currentBalance: number; unrealizedPnl: number; drawdown: number }
export interface PerformanceInfo { memoryUsage: number; cpuUsage: number; diskIO: number }
export interface ProgressData { progress: ProgressInfo; statistics: StatisticsInfo; performance: PerformanceInfo }

export interface ValidationErrorItem { field: string; rule: string; message: string }
export interface ErrorData {
  errorType: 'validation' | 'execution' | 'data' | 'timeout' | 'memory' | string;
  errorMessage: string;
  errorDetails?: {
    stackTrace?: string | null;
    failedAtDate?: string | null;
    failedInstrument?: string | null;
    recoverable: boolean;
    validationErrors?: ValidationErrorItem[];
  } | null;
}
export interface CompletionSummary { totalTrades: number; finalBalance: number; totalReturn: number; maxDrawdown: number }
export interface CompleteData {
  status: 'completed' | 'cancelled' | 'failed' | string;
  executionTime: number;
  summary: CompletionSummary;
  resultsUrl: string;
  partial?: boolean;
}
export interface EquityUpdate { date: string; equity: number; drawdown: number }
export interface EquityColumns { dates: string[]; equity: number[]; drawdown: number[] }

export interface Trade {
  id: number;
  instrument: string;
  side: 'long' | 'short' | string;
  quantity: number;
  entryTime: string;
  entryPrice: number;
  exitTime: string;
  exitPrice: number;
  pnl: number;
  returnPct: number;
  commission: number;
  mae: number;
  mfe: number;
  barsHeld: number;
}

export type LiveMessage =
  | { type: 'backtest_progress'; backtestId: string; timestamp: string; data: ProgressData }
  | { type: 'backtest_error'; backtestId: string; timestamp: string; data: ErrorData }
  | { type: 'backtest_complete'; backtestId: string; timestamp: string; data: CompleteData }
  // Trades and equity points come in small batches: a fast run produces thousands in milliseconds.
  | { type: 'backtest_trade'; backtestId: string; timestamp: string; data: { trades: Trade[] } }
  // Equity as columns of equal length: point i is (dates[i], equity[i], drawdown[i]).
  | { type: 'backtest_equity'; backtestId: string; timestamp: string; data: EquityColumns };

export interface BacktestStatus {
  id: string;
  state: BacktestState;
  owner?: string;
  priority?: Priority;
  strategy?: string;
  createdAt?: string;
  updatedAt?: string;
  completedAt?: string | null;
  progress?: ProgressData | null;
  error?: ErrorData | null;
  summary?: CompletionSummary | null;
  fromCache?: boolean;
  /** The run's date range (the list gives it). */
  startDate?: string | null;
  endDate?: string | null;
  /** The list's bare completion percentage. */
  percentage?: number;
}

/** One entry of GET /queue (Api/Backtests/QueueRoutes.cs QueueItem). */
export interface QueueEntry extends BacktestStatus {
  /** 1-based place in the queue; null once running. */
  position?: number | null;
  instruments: string[];
  submittedAt?: string;
  queuedAt?: string | null;
  silo?: string | null;
}

export interface Page<T> { items: T[]; total: number; page: number; pageSize: number }

/** Engine/Metrics/PerformanceMetrics.cs; null where undefined for the data. */
export type PerformanceMetrics = Record<string, number | null>;

export interface ResultSummary {
  strategy: string;
  instruments: string[];
  startDate: string;
  endDate: string;
  baseCurrency: string;
  initialBalance: number;
  finalBalance: number;
  totalReturn: number;
  maxDrawdown: number;
  totalTrades: number;
  openPositions: number;
  processedBars: number;
  haltedAt?: string | null;
}

export interface ChartPoint { time: string; value: number }
export interface MonthlyReturn { year: number; month: number; return: number | null }

export interface BacktestResults {
  id: string;
  partial?: boolean;
  summary: ResultSummary;
  metrics: PerformanceMetrics;
  trades: Page<Trade>;
  equity: ChartPoint[];
  drawdown: ChartPoint[];
  benchmark: { instrument: string; totalReturn: number; equity: ChartPoint[] } | null;
  monthlyReturns: MonthlyReturn[];
  notes?: string[];
}

export type MetricDirection = 'none' | 'higher' | 'lower' | 'closerToZero';
export interface ComparisonResult {
  runs: { id: string; label: string; periodsPerYear: number; dates: number; datesLeftOut: number }[];
  metrics: { name: string; direction: MetricDirection; values: (number | null)[]; best: string[] }[];
  curves: { dates: string[]; series: { id: string; equity: number[]; drawdown: number[] }[] };
  correlations: { values: (number | null)[][]; periods: number };
  sharpeTests: {
    runA: string; runB: string; z: number | null; pValue: number | null; periods: number; reliable: boolean;
  }[];
  riskFreeRate: number;
  notes: string[];
}

export type ExportFormat = 'pdf' | 'xlsx' | 'csv' | 'json';

// ---- Monte Carlo of a backtest (GET /results/{id}/montecarlo; docs/robustness.md) ----

/** blockBootstrap: the stationary bootstrap of the daily returns; trades: the closed trades' returns. */
export type MonteCarloMethod = 'blockBootstrap' | 'trades';
/** For method=trades: with replacement (resample) or a permutation (shuffle: every path ends at the same equity). */
export type MonteCarloSampling = 'resample' | 'shuffle';

export interface MonteCarloQuery {
  method?: MonteCarloMethod;
  sampling?: MonteCarloSampling;
  paths?: number;
  seed?: number;
  blockSize?: number;
  drawdownLimit?: number;
  bins?: number;
  fanPoints?: number;
}

export interface Percentiles {
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

export interface HistogramBin {
  low: number;
  high: number;
  count: number;
}

export interface MonteCarloDistribution {
  count: number;
  undefined: number;
  mean: number | null;
  percentiles: Percentiles | null;
  histogram: HistogramBin[];
}

export interface FanPoint extends Percentiles {
  step: number;
  /** The backtest's date at that step (block bootstrap only; none at step 0). */
  date: string | null;
}

export interface MonteCarloResult {
  backtestId: string;
  method: MonteCarloMethod;
  sampling: MonteCarloSampling | null;
  paths: number;
  seed: number;
  steps: number;
  meanBlockLength: number | null;
  blockLengthAutomatic: boolean;
  initialEquity: number;
  fan: FanPoint[];
  finalReturn: MonteCarloDistribution;
  cagr: MonteCarloDistribution;
  maxDrawdown: MonteCarloDistribution;
  sharpe: MonteCarloDistribution;
  probabilityOfLoss: number;
  drawdownLimit: number;
  probabilityOfDrawdownBeyondLimit: number;
}

// ---- An optimization's robustness (GET /api/v1/optimizations/{id}/robustness; docs/robustness.md) ----

export type NeighbourState = 'present' | 'missing' | 'infeasible';

export interface Plateau {
  trialNumber: number;
  mean: number;
  worst: number;
  present: number;
  missing: number;
  infeasible: number;
}

export interface OptimizationRobustness {
  optimizationId: string;
  status: string;
  objective: string;
  direction: 'maximize' | 'minimize';
  trialsRun: number;
  feasibleTrials: number;
  bestTrial: number | null;
  bestObjective: number | null;
  deflatedSharpe: {
    value: number; sharpe: number; skewness: number; kurtosis: number; observations: number; trials: number;
    sharpeVariance: number; expectedMaximumSharpe: number;
  } | null;
  overfitting: {
    probability: number; probabilityOfLoss: number; blocks: number; splits: number; observations: number; trialsGiven: number;
    trialsUsed: number; degradationSlope: number | null; degradationIntercept: number | null;
    /** The splits' logits λ in bins symmetric about 0, an edge: the bins left of it hold the overfit splits. */
    logitHistogram: HistogramBin[];
  } | null;
  minimumBacktestLength: { years: number; annualizedSharpe: number; trials: number; backtestYears: number | null } | null;
  stability: {
    bestTrial: number;
    bestObjective: number;
    neighbours: { parameter: string; offset: number; value: unknown; state: NeighbourState; trialNumber: number | null; objective: number | null }[];
    bestPlateau: Plateau;
    mostStable: Plateau | null;
    trialsOffGrid: number;
  } | null;
  notes: string[];
}

// ---- Optimization (issue 15; docs/optimization.md, Api/Optimizations) ----

/** One parameter of a job: a fixed value, a range, or a list of values. */
export type ParameterSpec =
  | string | number | boolean
  | { min: number; max: number; step?: number; log?: boolean }
  | { values: (string | number | boolean)[] };

export type OptimizationMethod = 'grid' | 'random' | 'tpe';
export type Direction = 'maximize' | 'minimize';
export type ConstraintOp = '>=' | '<=' | '>' | '<';

/** The body of POST /api/v1/optimizations and /plan. */
export interface OptimizationJob {
  name: string;
  baseConfig: BacktestConfig;
  parameters: Record<string, ParameterSpec>;
  method: OptimizationMethod;
  maxTrials: number | null;
  objective: { metric: string; direction: Direction };
  constraints: { metric: string; op: ConstraintOp; value: number }[];
  target: number | null;
  seed: number;
  priority: Priority;
  /** A custom strategy's version to run (the one whose schema the form showed); absent for a template. */
  strategyVersion?: number;
}

export type OptimizationState = 'created' | 'queued' | 'running' | 'paused' | 'completed' | 'cancelled' | 'failed';

export interface OptimizationProgress {
  trialsCompleted: number;
  trialsPlanned: number;
  trialsFeasible: number;
  trialsPerSecond: number;
  /** Seconds; null while no rate is known. */
  estimatedTimeRemaining: number | null;
}

export interface OptimizationBest {
  trial: number;
  parameters: Record<string, unknown>;
  metrics: Record<string, number | null> | null;
  objective: number;
}

export interface OptimizationStatus {
  id: string;
  name: string;
  status: OptimizationState;
  strategy: string;
  method: OptimizationMethod;
  objective: { metric: string; direction: Direction };
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  errorMessage: string | null;
  progress: OptimizationProgress;
  best: OptimizationBest | null;
  batches: { running: number; queued: number; completed: number; total: number };
  config: OptimizationJob;
}

export interface OptimizationListItem {
  id: string;
  name: string | null;
  status: OptimizationState;
  strategy: string;
  method: OptimizationMethod;
  trialsPlanned: number;
  trialsCompleted: number;
  bestObjective: number | null;
  createdAt: string;
  completedAt: string | null;
}

export interface TrialRow {
  trial: number;
  parameters: Record<string, unknown>;
  metrics: Record<string, number | null> | null;
  tradeCount: number | null;
  feasible: boolean;
  infeasibleReason: string | null;
  objective: number | null;
  contentHash: string | null;
}

export interface Surface {
  x: string;
  y: string;
  metric: string;
  xValues: unknown[];
  yValues: unknown[];
  cells: { x: unknown; y: unknown; best: number | null; trials: number; feasibleTrials: number }[];
}

export type OptimizationLiveMessage =
  | { type: 'optimization_progress'; optimizationId: string; timestamp: string;
      data: { status: OptimizationState; progress: OptimizationProgress; best: OptimizationBest | null;
        batches: OptimizationStatus['batches'] } }
  | { type: 'optimization_trials'; optimizationId: string; timestamp: string; data: { trials: TrialRow[] } }
  | { type: 'optimization_complete'; optimizationId: string; timestamp: string;
      data: { status: OptimizationState; progress: OptimizationProgress; best: OptimizationBest | null; errorMessage: string | null } };

/** The windows of a walk-forward analysis: lengths like "1y", "6m", "2w", "30d"; step defaults to outOfSample. */
export interface WalkForwardSettings {
  inSample: string;
  outOfSample: string;
  step?: string | null;
  anchored: boolean;
}

/** The body of POST /api/v1/walkforward: an optimization whose base config spans the whole analysis, plus its windows. */
export interface WalkForwardJob extends OptimizationJob {
  validation: WalkForwardSettings;
}

export interface WalkForwardStart { id: string; status: string; windowsPlanned: number; statusUrl: string }

export interface WalkForwardListItem {
  id: string;
  name: string | null;
  status: OptimizationState;
  windowsPlanned: number;
  createdAt: string;
  completedAt: string | null;
}

/** A window's state word: optimizing in sample, running out of sample, done, or skipped for want of a feasible trial. */
export type WalkForwardWindowState = 'optimizing' | 'outOfSample' | 'completed' | 'noFeasibleTrial';

export interface WalkForwardWindow {
  index: number;
  inSampleStart: string;
  inSampleEnd: string;
  outOfSampleStart: string;
  outOfSampleEnd: string;
  truncated: boolean;
  state: WalkForwardWindowState;
  optimizationId: string;
  backtestId: string | null;
  bestTrial: number | null;
  parameters: Record<string, unknown> | null;
  inSampleMetrics: Record<string, number | null> | null;
  outOfSampleMetrics: Record<string, number | null> | null;
}

export interface ParameterDrift {
  parameter: string;
  values: unknown[];
  changes: number;
  distinct: number;
  mean: number | null;
  standardDeviation: number | null;
  meanAbsoluteChange: number | null;
}

/** One window's in-sample curve (GET /walkforward/{id}/insample): its chosen trial's returns, rebased to end at `anchor`. */
export interface WalkForwardInSampleWindow {
  index: number;
  optimizationId: string;
  trial: number;
  inSampleStart: string;
  inSampleEnd: string;
  outOfSampleStart: string;
  /** The stitched out-of-sample equity where this window's out-of-sample part begins: where its in-sample curve ends. */
  anchor: number;
  equity: { date: string; equity: number }[];
}

/** A completed analysis's in-sample curves, the scaling in words, and why a window has none. */
export interface WalkForwardInSample {
  id: string;
  scaling: string;
  windows: WalkForwardInSampleWindow[];
  notes: string[];
}

export interface WalkForwardSummary {
  stitchedEquity: { date: string; equity: number }[];
  stitchedReturns: number[];
  metrics: Record<string, number | null>;
  efficiency: number | null;
  tStatistic: number | null;
  drift: ParameterDrift[];
}

export interface WalkForwardStatus {
  id: string;
  name: string;
  status: OptimizationState;
  strategy: string;
  method: OptimizationMethod;
  objective: { metric: string; direction: Direction };
  validation: { inSample: string; outOfSample: string; step: string; anchored: boolean };
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  errorMessage: string | null;
  windows: WalkForwardWindow[];
  summary: WalkForwardSummary | null;
  history: unknown[];
  config: WalkForwardJob;
}
