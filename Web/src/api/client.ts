// The one module that talks to the API: routes, the bearer key, ProblemDetails errors, and the mapping of
// the server's JSON onto the types in ./types.
import type {
  BacktestConfig, BacktestResults, BacktestState, BacktestStatus, ChartPoint, ComparisonResult, ExportFormat,
  InstrumentInfo, Page, Priority, QueueEntry, StrategyTemplate, Trade, ValidationErrorItem,
} from './types';

export const BACKTEST_BASE = '/api/v1/nautilus/backtest';

/** An error answer of the API (RFC 7807 ProblemDetails), with the validation errors keyed by field. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly fieldErrors: Record<string, string[]>,
    readonly retryAfterSeconds?: number,
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
  const fieldErrors: Record<string, string[]> = {};
  const errors = body.errors;
  if (Array.isArray(errors)) {
    for (const e of errors as ValidationErrorItem[]) (fieldErrors[e.field] ??= []).push(e.message);
  } else if (errors && typeof errors === 'object') {
    for (const [field, messages] of Object.entries(errors as Record<string, unknown>)) {
      fieldErrors[field] = Array.isArray(messages) ? messages.map(String) : [String(messages)];
    }
  }
  const retry = Number(response.headers.get('Retry-After'));
  return new ApiError(
    response.status,
    String(body.title ?? response.statusText ?? 'Request failed'),
    body.detail ? String(body.detail) : undefined,
    fieldErrors,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
}

const lowerFirst = (s: string) => (s ? s[0].toLowerCase() + s.slice(1) : s);

function normalizeStatus(raw: Record<string, unknown>): BacktestStatus {
  const state = lowerFirst(String(raw.state ?? raw.status ?? 'created')) as BacktestState;
  return {
    ...(raw as unknown as BacktestStatus),
    id: String(raw.id ?? raw.backtestId),
    state,
    priority: raw.priority ? (lowerFirst(String(raw.priority)) as Priority) : undefined,
  };
}

function toPoints(raw: unknown, valueKey = 'equity'): ChartPoint[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((p: Record<string, unknown>) => ({
    time: String(p.time ?? p.date),
    value: Number(p.value ?? p[valueKey]),
  }));
}

function normalizeResults(id: string, raw: Record<string, unknown>): BacktestResults {
  const tradesRaw = raw.trades as Record<string, unknown> | Trade[] | undefined;
  const trades: Page<Trade> = Array.isArray(tradesRaw)
    ? { items: tradesRaw, total: tradesRaw.length, page: 1, pageSize: tradesRaw.length }
    : {
        items: (tradesRaw?.items as Trade[]) ?? [],
        total: Number(tradesRaw?.total ?? tradesRaw?.totalCount ?? 0),
        page: Number(tradesRaw?.page ?? 1),
        pageSize: Number(tradesRaw?.pageSize ?? 0),
      };
  trades.items = trades.items.map((t) => ({ ...t, side: lowerFirst(String(t.side)) }));
  const equity = toPoints(raw.equity ?? raw.equityCurve);
  const drawdownRaw = raw.drawdown ?? raw.drawdownCurve;
  const drawdown = drawdownRaw
    ? toPoints(drawdownRaw, 'drawdown')
    : toPoints(raw.equity ?? raw.equityCurve, 'drawdown');
  const benchmarkRaw = raw.benchmark as Record<string, unknown> | null | undefined;
  return {
    id,
    partial: Boolean(raw.partial),
    summary: raw.summary as BacktestResults['summary'],
    metrics: (raw.metrics ?? {}) as BacktestResults['metrics'],
    trades,
    equity,
    drawdown,
    benchmark: benchmarkRaw
      ? {
          instrument: String(benchmarkRaw.instrument ?? ''),
          totalReturn: Number(benchmarkRaw.totalReturn ?? 0),
          equity: toPoints(benchmarkRaw.equity ?? benchmarkRaw.equityCurve),
        }
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

  strategies = async (): Promise<StrategyTemplate[]> => {
    const raw = await this.request<StrategyTemplate[] | { items: StrategyTemplate[] }>('GET', '/api/v1/strategies');
    return Array.isArray(raw) ? raw : raw.items;
  };

  instruments = async (): Promise<InstrumentInfo[]> => {
    const raw = await this.request<InstrumentInfo[] | { items: InstrumentInfo[] }>('GET', '/api/v1/instruments');
    return Array.isArray(raw) ? raw : raw.items;
  };

  start = async (config: BacktestConfig, priority: Priority): Promise<{ id: string }> => {
    const raw = await this.request<Record<string, unknown>>('POST', `${BACKTEST_BASE}/start`, { ...config, priority });
    return { id: String(raw.id ?? raw.backtestId) };
  };

  status = async (id: string): Promise<BacktestStatus> =>
    normalizeStatus(await this.request('GET', `${BACKTEST_BASE}/status/${id}`));

  cancel = (id: string) => this.request<unknown>('POST', `${BACKTEST_BASE}/cancel/${id}`);
  pause = (id: string) => this.request<unknown>('POST', `${BACKTEST_BASE}/pause/${id}`);
  resume = (id: string) => this.request<unknown>('POST', `${BACKTEST_BASE}/resume/${id}`);
  remove = (id: string) => this.request<unknown>('DELETE', `${BACKTEST_BASE}/${id}`);

  results = async (id: string, equityPoints = 2000, tradePageSize = 5000): Promise<BacktestResults> =>
    normalizeResults(id, await this.request('GET',
      `${BACKTEST_BASE}/results/${id}?points=${equityPoints}&page=1&pageSize=${tradePageSize}`));

  list = async (query: ListQuery = {}): Promise<Page<BacktestStatus>> => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const raw = await this.request<Record<string, unknown> | Record<string, unknown>[]>(
      'GET', `${BACKTEST_BASE}/list?${params}`);
    const items = (Array.isArray(raw) ? raw : (raw.items as Record<string, unknown>[])) ?? [];
    return {
      items: items.map(normalizeStatus),
      total: Number(Array.isArray(raw) ? raw.length : raw.total ?? raw.totalCount ?? items.length),
      page: Number(Array.isArray(raw) ? 1 : raw.page ?? 1),
      pageSize: Number(Array.isArray(raw) ? raw.length : raw.pageSize ?? items.length),
    };
  };

  queue = async (): Promise<QueueEntry[]> => {
    const raw = await this.request<Record<string, unknown>[] | { items: Record<string, unknown>[] }>(
      'GET', `${BACKTEST_BASE}/queue`);
    const items = Array.isArray(raw) ? raw : raw.items;
    return items.map((item) => ({ ...normalizeStatus(item), position: (item.position as number | null) ?? null }));
  };

  setPriority = (id: string, priority: Priority) =>
    this.request<unknown>('PATCH', `${BACKTEST_BASE}/queue/${id}`, { priority });

  compare = (ids: string[]) => this.request<ComparisonResult>('POST', `${BACKTEST_BASE}/compare`, { ids });

  /** Downloads an export with the bearer key and hands it to the browser as a file. */
  exportFile = async (id: string, format: ExportFormat): Promise<{ blob: Blob; fileName: string }> => {
    const response = await fetch(`${this.baseUrl}${BACKTEST_BASE}/export/${id}?format=${format}`, {
      headers: { Authorization: `Bearer ${this.apiKey}` },
    });
    if (!response.ok) throw await toApiError(response);
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    return { blob: await response.blob(), fileName: match ? decodeURIComponent(match[1]) : `backtest-${id}.${format}` };
  };
}
