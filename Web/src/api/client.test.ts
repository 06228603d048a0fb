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
