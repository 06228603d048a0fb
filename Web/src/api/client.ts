// The one module that talks to the API: routes, the bearer key, ProblemDetails errors, and the mapping of
// the server's JSON onto the types in ./types.
import { PRIORITIES } from './types';
import type {
  BacktestConfig, BacktestResults, BacktestState, BacktestStatus, ChartPoint, CompileDiagnostic, ComparisonResult, ConfigurationOptions,
  ExportFormat, InstrumentInfo, MonteCarloQuery, MonteCarloResult, OptimizationJob, OptimizationListItem, OptimizationRobustness,
  OptimizationStatus, Page, Priority, QueueEntry, StrategyDeleted, StrategyTemplate, StrategyVersion, Surface, Trade, TrialRow,
  WalkForwardInSample, WalkForwardJob, WalkForwardListItem, WalkForwardStart, WalkForwardStatus,
  ValidationErrorItem,
} from './types';

export const BACKTEST_BASE = '/api/v1/nautilus/backtest';
export const OPTIMIZATION_BASE = '/api/v1/optimizations';
export const WALKFORWARD_BASE = '/api/v1/walkforward';

export interface TrialQuery {
  /** [-]metric, [-]objective or [-]trial; none: best objective first. */
  sort?: string;
  feasible?: boolean;
  page?: number;
  pageSize?: number;
}

/** An error answer of the API (RFC 7807 ProblemDetails), with the validation errors keyed by field. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly fieldErrors: Record<string, string[]>,
    readonly retryAfterSeconds?: number,
    /** A rejected strategy upload's compiler diagnostics (line, column, id, message). */
    readonly diagnostics: CompileDiagnostic[] = [],
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }

  /** The field errors as a flat list (field, message). */
  get validationErrors(): ValidationErrorItem[] {
    return Object.entries(this.fieldErrors).flatMap(([field, messages]) =>
      messages.map((message) => ({ field, rule: '', message })));
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy error page): the status says enough.
  }
  // ValidationProblem: { errors: { "<field path>": ["message", ...] }, rules: [{ field, rule, message }] }.
  const fieldErrors: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries((body.errors ?? {}) as Record<string, unknown>)) {
    fieldErrors[field] = Array.isArray(messages) ? messages.map(String) : [String(messages)];
  }
  const retry = Number(response.headers.get('Retry-After'));
  return new ApiError(
    response.status,
    String(body.title ?? response.statusText ?? 'Request failed'),
    body.detail ? String(body.detail) : undefined,
    fieldErrors,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
    Array.isArray(body.diagnostics) ? (body.diagnostics as CompileDiagnostic[]) : [],
  );
}

const lowerFirst = (s: string) => (s ? s[0].toLowerCase() + s.slice(1) : s);

const snakeToCamel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** The API's status words are snake_case ("timed_out"); the dashboard's states are camelCase. */
export const stateWord = (state: string) => state.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function normalizePriority(raw: unknown): Priority | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number') return PRIORITIES[raw];
  return lowerFirst(String(raw)) as Priority;
}

function normalizeStatus(raw: Record<string, unknown>): BacktestStatus {
  const state = snakeToCamel(String(raw.status)) as BacktestState;
  const progress = raw.progress;
  return {
    ...(raw as unknown as BacktestStatus),
    id: String(raw.id),
    state,
    priority: normalizePriority(raw.priority),
    // The list gives progress as a bare percentage; the status gives the seed's progress object.
    progress: progress && typeof progress === 'object' ? (progress as BacktestStatus['progress']) : null,
    percentage: typeof progress === 'number' ? progress : undefined,
  } as BacktestStatus;
}

/** A GET /queue entry: its state word as a dashboard state, submittedAt as the creation time. */
function normalizeQueueEntry(raw: Record<string, unknown>): QueueEntry {
  return {
    ...normalizeStatus({ ...raw, status: raw.state }),
    createdAt: raw.submittedAt as string | undefined,
    position: (raw.position as number | null | undefined) ?? null,
    instruments: Array.isArray(raw.instruments) ? raw.instruments.map(String) : [],
  } as QueueEntry;
}

function normalizeInstrument(raw: Record<string, unknown>): InstrumentInfo {
  const availability: InstrumentInfo['availability'] = { ...(raw.availability as InstrumentInfo['availability']) };
  for (const r of (raw.ranges as { resolution: string; dataType: string; first: string; last: string }[]) ?? []) {
    const range = { first: r.first, last: r.last };
    availability[`${r.resolution}/${r.dataType}`] = range;
    if (r.dataType === 'bars' || !availability[r.resolution]) availability[r.resolution] = range;
  }
  return { ...(raw as unknown as InstrumentInfo), availability };
}

/** Curve points as the API writes them: {time, equity, ...}, {time, drawdown} or {date, equity}. */
function toPoints(raw: unknown, valueKey: 'equity' | 'drawdown'): ChartPoint[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((p: Record<string, unknown>) => ({ time: String(p.time ?? p.date), value: Number(p[valueKey]) }));
}

/** GET /results/{id} (Api/Backtests/ResultsView.cs ResultsResponse). */
function normalizeResults(id: string, raw: Record<string, unknown>): BacktestResults {
  const tradesRaw = raw.trades as { items: Trade[]; totalCount: number; page: number; pageSize: number };
  const benchmarkRaw = raw.benchmark as { instrument: string; totalReturn: number; equityCurve: unknown } | null;
  return {
    id,
    partial: Boolean(raw.partial),
    summary: raw.summary as BacktestResults['summary'],
    metrics: (raw.metrics ?? {}) as BacktestResults['metrics'],
    trades: {
      items: tradesRaw.items.map((t) => ({ ...t, side: lowerFirst(String(t.side)) })),
      total: tradesRaw.totalCount,
      page: tradesRaw.page,
      pageSize: tradesRaw.pageSize,
    },
    equity: toPoints(raw.equityCurve, 'equity'),
    drawdown: toPoints(raw.drawdown, 'drawdown'),
    benchmark: benchmarkRaw
      ? { instrument: benchmarkRaw.instrument, totalReturn: benchmarkRaw.totalReturn, equity: toPoints(benchmarkRaw.equityCurve, 'equity') }
      : null,
    monthlyReturns: (raw.monthlyReturns as BacktestResults['monthlyReturns']) ?? [],
    notes: raw.notes as string[] | undefined,
  };
}

export interface ListQuery {
  page?: number;
  pageSize?: number;
  status?: string;
  strategy?: string;
  sort?: string;
}

export class ApiClient {
  constructor(private readonly apiKey: string, private readonly baseUrl = '') {}

  get key() {
    return this.apiKey;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        Authorization: `Bearer ${this.apiKey}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw await toApiError(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  strategies = (): Promise<StrategyTemplate[]> => this.request('GET', '/api/v1/strategies');

  /** Uploads a custom strategy's C# source; a rejected one throws an ApiError carrying the diagnostics. */
  uploadStrategy = (source: string): Promise<StrategyVersion> => this.request('POST', '/api/v1/strategies', { source });

  /** One of the caller's custom strategies: its versions and the latest source. */
  strategy = (name: string): Promise<{ name: string; latestVersion: number; source: string }> =>
    this.request('GET', `/api/v1/strategies/${encodeURIComponent(name)}`);

  deleteStrategy = (name: string): Promise<StrategyDeleted> =>
    this.request('DELETE', `/api/v1/strategies/${encodeURIComponent(name)}`);

  instruments = async (): Promise<InstrumentInfo[]> => {
    const raw = await this.request<{ instruments: Record<string, unknown>[] }>('GET', '/api/v1/instruments');
    return raw.instruments.map(normalizeInstrument);
  };

  /** The words each enumerated config setting accepts and every setting's default, as the engine has them. */
  configurationOptions = (): Promise<ConfigurationOptions> => this.request('GET', '/api/v1/configuration/options');

  start = async (config: BacktestConfig, priority: Priority): Promise<{ id: string }> => {
    const raw = await this.request<{ id: string }>('POST', `${BACKTEST_BASE}/start`, { ...config, priority });
    return { id: raw.id };
  };

  status = async (id: string): Promise<BacktestStatus> =>
    normalizeStatus(await this.request('GET', `${BACKTEST_BASE}/status/${id}`));

  cancel = (id: string) => this.request<unknown>('POST', `${BACKTEST_BASE}/cancel/${id}`);
  pause = (id: string) => this.request<unknown>('POST', `${BACKTEST_BASE}/pause/${id}`);
  resume = (id: string) => this.request<unknown>('POST', `${BACKTEST_BASE}/resume/${id}`);
  remove = (id: string) => this.request<unknown>('DELETE', `${BACKTEST_BASE}/${id}`);

  /** The results with every trade (read page by page, up to maxTrades) and the curves downsampled to equityPoints. */
  results = async (id: string, equityPoints = 2000, maxTrades = 20_000): Promise<BacktestResults> => {
    const pageSize = 1000;
    const url = (page: number) =>
      `${BACKTEST_BASE}/results/${id}?equityPoints=${equityPoints}&tradesPage=${page}&tradesPageSize=${pageSize}`;
    const first = normalizeResults(id, await this.request('GET', url(1)));
    const pages = Math.min(Math.ceil(first.trades.total / pageSize), Math.ceil(maxTrades / pageSize));
    for (let page = 2; page <= pages; page++) {
      const next = normalizeResults(id, await this.request('GET', url(page)));
      first.trades.items.push(...next.trades.items);
    }
    return first;
  };

  list = async (query: ListQuery = {}): Promise<Page<BacktestStatus>> => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== '') params.set(k, k === 'status' ? stateWord(String(v)) : String(v));
    }
    const raw = await this.request<{ items: Record<string, unknown>[]; totalCount: number; page: number; pageSize: number }>(
      'GET', `${BACKTEST_BASE}/list?${params}`);
    return { items: raw.items.map(normalizeStatus), total: raw.totalCount, page: raw.page, pageSize: raw.pageSize };
  };

  /**
   * Running, then waiting backtests in the order they will run. Each entry of GET /queue is complete (state,
   * strategy, instruments, times, live progress: Api/Backtests/QueueRoutes.cs), so this is one request.
   */
  queue = async (): Promise<QueueEntry[]> => {
    const raw = await this.request<{ queued: Record<string, unknown>[]; running: Record<string, unknown>[] }>(
      'GET', `${BACKTEST_BASE}/queue`);
    return [...raw.running, ...raw.queued].map(normalizeQueueEntry);
  };

  setPriority = (id: string, priority: Priority) =>
    this.request<unknown>('PATCH', `${BACKTEST_BASE}/queue/${id}`, { priority });

  compare = (ids: string[]) => this.request<ComparisonResult>('POST', `${BACKTEST_BASE}/compare`, { ids });

  /** Monte Carlo paths of a completed backtest; unset fields take the server's defaults (docs/robustness.md). */
  monteCarlo = (id: string, query: MonteCarloQuery = {}): Promise<MonteCarloResult> => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
    const search = params.toString();
    return this.request('GET', `${BACKTEST_BASE}/results/${id}/montecarlo${search ? `?${search}` : ''}`);
  };

  /** An optimization job's deflated Sharpe ratio, PBO, minimum backtest length and stability (CSCV blocks and trials cap optional). */
  optimizationRobustness = (id: string, query: { blocks?: number; maxTrials?: number } = {}): Promise<OptimizationRobustness> => {
    const params = new URLSearchParams();
    if (query.blocks !== undefined) params.set('blocks', String(query.blocks));
    if (query.maxTrials !== undefined) params.set('maxTrials', String(query.maxTrials));
    const search = params.toString();
    return this.request('GET', `${OPTIMIZATION_BASE}/${id}/robustness${search ? `?${search}` : ''}`);
  };

  /** Downloads an export with the bearer key and hands it to the browser as a file. */
  exportFile = (id: string, format: ExportFormat): Promise<{ blob: Blob; fileName: string }> =>
    this.download(`${BACKTEST_BASE}/export/${id}?format=${format}`, `backtest-${id}.${format}`);

  private download = async (path: string, fallbackName: string): Promise<{ blob: Blob; fileName: string }> => {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: { Authorization: `Bearer ${this.apiKey}` } });
    if (!response.ok) throw await toApiError(response);
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    return { blob: await response.blob(), fileName: match ? decodeURIComponent(match[1]) : fallbackName };
  };

  // ---- Optimizations (Api/Optimizations/OptimizationRoutes.cs) ----

  /** The trials a job would run, or an ApiError naming every field it breaks; nothing is stored. */
  planOptimization = async (job: OptimizationJob): Promise<number> =>
    (await this.request<{ trialsPlanned: number }>('POST', `${OPTIMIZATION_BASE}/plan`, job)).trialsPlanned;

  startOptimization = (job: OptimizationJob): Promise<{ id: string; status: string; trialsPlanned: number }> =>
    this.request('POST', OPTIMIZATION_BASE, job);

  optimizations = async (query: { status?: string; page?: number; pageSize?: number } = {}): Promise<Page<OptimizationListItem>> => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const raw = await this.request<{ items: OptimizationListItem[]; totalCount: number; page: number; pageSize: number }>(
      'GET', `${OPTIMIZATION_BASE}?${params}`);
    return { items: raw.items, total: raw.totalCount, page: raw.page, pageSize: raw.pageSize };
  };

  optimization = (id: string): Promise<OptimizationStatus> => this.request('GET', `${OPTIMIZATION_BASE}/${id}`);

  trials = async (id: string, query: TrialQuery = {}): Promise<Page<TrialRow>> => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const raw = await this.request<{ items: TrialRow[]; totalCount: number; page: number; pageSize: number }>(
      'GET', `${OPTIMIZATION_BASE}/${id}/trials?${params}`);
    return { items: raw.items, total: raw.totalCount, page: raw.page, pageSize: raw.pageSize };
  };

  surface = (id: string, x: string, y: string, metric?: string): Promise<Surface> => {
    const params = new URLSearchParams({ x, y });
    if (metric) params.set('metric', metric);
    return this.request('GET', `${OPTIMIZATION_BASE}/${id}/surface?${params}`);
  };

  cancelOptimization = (id: string) => this.request<OptimizationStatus>('POST', `${OPTIMIZATION_BASE}/${id}/cancel`);
  pauseOptimization = (id: string) => this.request<OptimizationStatus>('POST', `${OPTIMIZATION_BASE}/${id}/pause`);
  resumeOptimization = (id: string) => this.request<OptimizationStatus>('POST', `${OPTIMIZATION_BASE}/${id}/resume`);
  removeOptimization = (id: string) => this.request<unknown>('DELETE', `${OPTIMIZATION_BASE}/${id}`);

  /** Starts an ordinary backtest of exactly one trial's config; its id. */
  openTrialAsBacktest = async (id: string, trial: number): Promise<{ id: string }> => {
    const raw = await this.request<{ id: string }>('POST', `${OPTIMIZATION_BASE}/${id}/trials/${trial}/backtest`);
    return { id: raw.id };
  };

  /** The job's export: csv (the trials), xlsx (the trials and the robustness sheets) or pdf (the one-page report). */
  exportTrials = (id: string, format: 'csv' | 'xlsx' | 'pdf') =>
    this.download(`${OPTIMIZATION_BASE}/${id}/trials/export?format=${format}`,
      format === 'pdf' ? `optimization-${id}-report.pdf` : `optimization-${id}-trials.${format}`);

  // ---- Walk-forward analyses (Api/WalkForward/WalkForwardRoutes.cs) ----

  /** Starts an analysis, or throws an ApiError naming every field (and window) it breaks; nothing is stored then. */
  startWalkForward = (job: WalkForwardJob): Promise<WalkForwardStart> => this.request('POST', WALKFORWARD_BASE, job);

  walkForwards = async (query: { status?: string; page?: number; pageSize?: number } = {}): Promise<Page<WalkForwardListItem>> => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const raw = await this.request<{ items: WalkForwardListItem[]; totalCount: number; page: number; pageSize: number }>(
      'GET', `${WALKFORWARD_BASE}?${params}`);
    return { items: raw.items, total: raw.totalCount, page: raw.page, pageSize: raw.pageSize };
  };

  walkForward = (id: string): Promise<WalkForwardStatus> => this.request('GET', `${WALKFORWARD_BASE}/${id}`);

  /** A completed analysis's in-sample curves, rebased onto its stitched curve (409 before it completed). */
  walkForwardInSample = (id: string): Promise<WalkForwardInSample> => this.request('GET', `${WALKFORWARD_BASE}/${id}/insample`);

  cancelWalkForward = (id: string) => this.request<WalkForwardStatus>('POST', `${WALKFORWARD_BASE}/${id}/cancel`);
}
