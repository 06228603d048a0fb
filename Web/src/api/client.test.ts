import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from './client';

afterEach(() => vi.unstubAllGlobals());

describe('ApiClient.queue', () => {
  it('reads every entry from GET /queue alone, running ones first', async () => {
    const running = {
      id: 'r1', backtestId: 'r1', position: null, priority: 'normal', state: 'running', owner: 'alice',
      strategy: 'RsiMeanReversion', instruments: ['SPY', 'QQQ'], submittedAt: '2025-01-02T09:59:57Z', queuedAt: '2025-01-02T09:59:57Z',
      progress: {
        progress: { percentage: 42.5, currentDate: '2019-11-04', processedBars: 213, totalBars: 503, estimatedTimeRemaining: 0.4, processingRate: 520 },
        statistics: { tradesExecuted: 3, currentBalance: 104200, unrealizedPnl: 1250, drawdown: 0.031 },
        performance: { memoryUsage: 42, cpuUsage: 97, diskIO: 0.2 },
      },
    };
    const waiting = {
      id: 'q1', backtestId: 'q1', position: 1, priority: 'high', state: 'queued', owner: 'alice', strategy: 'MovingAverageCross',
      instruments: ['SPY'], submittedAt: '2025-01-02T10:00:00Z', queuedAt: '2025-01-02T10:00:00Z', progress: null,
    };
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ queued: [waiting], running: [running], limits: { maxConcurrent: 4, maxConcurrentPerOwner: 2 } }),
      { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);

    const entries = await new ApiClient('key').queue();

    expect(fetchMock).toHaveBeenCalledTimes(1); // no /status call per entry
    expect(entries.map((e) => e.id)).toEqual(['r1', 'q1']);
    expect(entries[0]).toMatchObject({ state: 'running', position: null, strategy: 'RsiMeanReversion', instruments: ['SPY', 'QQQ'], createdAt: '2025-01-02T09:59:57Z' });
    expect(entries[0].progress?.progress.percentage).toBe(42.5);
    expect(entries[1]).toMatchObject({ state: 'queued', position: 1, priority: 'high', owner: 'alice', instruments: ['SPY'], progress: null });
  });
});

describe('ApiClient.monteCarlo', () => {
  it('asks the results route with only the fields given', async () => {
    const fetchMock = vi.fn(async (_url: string) => new Response('{"paths":10}', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    const client = new ApiClient('key');
    await client.monteCarlo('b1', { method: 'trades', sampling: 'shuffle', paths: 10, seed: undefined });
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/nautilus/backtest/results/b1/montecarlo?method=trades&sampling=shuffle&paths=10');
    await client.monteCarlo('b1');
    expect(fetchMock.mock.calls[1][0]).toBe('/api/v1/nautilus/backtest/results/b1/montecarlo');
  });

  it("asks an optimization's robustness with its CSCV settings", async () => {
    const fetchMock = vi.fn(async (_url: string) => new Response('{"notes":[]}', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    const client = new ApiClient('key');
    await client.optimizationRobustness('o1', { blocks: 8 });
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/optimizations/o1/robustness?blocks=8');
    await client.optimizationRobustness('o1');
    expect(fetchMock.mock.calls[1][0]).toBe('/api/v1/optimizations/o1/robustness');
  });
});

describe('ApiClient optimizations', () => {
  const ok = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

  it('posts the job to /plan and reads the planned count', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => ok({ trialsPlanned: 2500 }));
    vi.stubGlobal('fetch', fetchMock);
    const job = { name: 'j', parameters: { fastPeriod: { min: 1, max: 50, step: 1 } } };
    expect(await new ApiClient('key').planOptimization(job as never)).toBe(2500);
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/v1/optimizations/plan');
    expect(init?.method).toBe('POST');
    expect(JSON.parse(String(init?.body))).toEqual(job);
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer key');
  });

  it('turns a refused plan into field errors naming the job field', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => ok({
      title: 'Invalid request', status: 400, errors: { 'parameters.slowPeriod.max': ['min <= max does not hold'] },
      rules: [{ field: 'parameters.slowPeriod.max', rule: 'minMax', message: 'min <= max does not hold' }],
    }, 400)));
    const error = await new ApiClient('key').planOptimization({} as never).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.validationErrors).toEqual([{ field: 'parameters.slowPeriod.max', rule: '', message: 'min <= max does not hold' }]);
  });

  it('asks for a sorted, filtered page of trials and a surface with their query strings', async () => {
    const fetchMock = vi.fn(async (url: string) => (url.includes('/trials')
      ? ok({ items: [{ trial: 3 }], totalCount: 41, page: 2, pageSize: 20 })
      : ok({ x: 'fastPeriod', y: 'slowPeriod', metric: 'sharpeRatio', xValues: [], yValues: [], cells: [] })));
    vi.stubGlobal('fetch', fetchMock);
    const api = new ApiClient('key');
    const page = await api.trials('j1', { sort: '-sharpeRatio', feasible: true, page: 2, pageSize: 20 });
    expect(page).toEqual({ items: [{ trial: 3 }], total: 41, page: 2, pageSize: 20 });
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/optimizations/j1/trials?sort=-sharpeRatio&feasible=true&page=2&pageSize=20');
    await api.surface('j1', 'fastPeriod', 'slowPeriod', 'totalReturn');
    expect(fetchMock.mock.calls[1][0]).toBe('/api/v1/optimizations/j1/surface?x=fastPeriod&y=slowPeriod&metric=totalReturn');
  });

  it('knows every lifecycle route, the list, and the trial opened as a backtest', async () => {
    const fetchMock = vi.fn(async (_url: string, init?: RequestInit) =>
      (init?.method === 'DELETE' ? new Response(null, { status: 204 }) : ok({ id: 'b1', items: [], totalCount: 0, page: 1, pageSize: 10 })));
    vi.stubGlobal('fetch', fetchMock);
    const api = new ApiClient('key');
    await api.startOptimization({} as never);
    await api.optimizations({ status: 'running', page: 1 });
    await api.optimization('j1');
    await api.pauseOptimization('j1');
    await api.resumeOptimization('j1');
    await api.cancelOptimization('j1');
    await api.removeOptimization('j1');
    expect(await api.openTrialAsBacktest('j1', 7)).toEqual({ id: 'b1' });
    expect(fetchMock.mock.calls.map(([url, init]) => `${init?.method} ${url}`)).toEqual([
      'POST /api/v1/optimizations',
      'GET /api/v1/optimizations?status=running&page=1',
      'GET /api/v1/optimizations/j1',
      'POST /api/v1/optimizations/j1/pause',
      'POST /api/v1/optimizations/j1/resume',
      'POST /api/v1/optimizations/j1/cancel',
      'DELETE /api/v1/optimizations/j1',
      'POST /api/v1/optimizations/j1/trials/7/backtest',
    ]);
  });
});
