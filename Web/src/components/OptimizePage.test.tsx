import { describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import type { ApiClient } from '../api/client';
import type { LiveHub } from '../live/hub';
import type { OptimizationJob, StrategyTemplate } from '../api/types';
import { SessionValueProvider } from '../session';
import { INSTRUMENTS, STRATEGIES } from '../test/fixtures';
import { OptimizePage } from './OptimizePage';

function renderPage(plan: (job: OptimizationJob) => Promise<number>, strategies: StrategyTemplate[] = STRATEGIES) {
  const api = {
    planOptimization: vi.fn(plan),
    startOptimization: vi.fn(),
    optimizations: vi.fn(async () => ({ items: [], total: 0, page: 1, pageSize: 10 })),
  } as unknown as ApiClient;
  render(
    <SessionValueProvider value={{ api, hub: {} as LiveHub, signOut: vi.fn() }}>
      <OptimizePage strategies={strategies} instruments={INSTRUMENTS} onOpen={vi.fn()} />
    </SessionValueProvider>,
  );
  return api;
}

describe('OptimizePage: the planned count comes from the server', () => {
  it('asks /plan with each parameter in its default mode and shows the count it answers', async () => {
    const api = renderPage(async () => 192);
    await waitFor(() => expect(screen.getByTestId('planned-trials')).toHaveTextContent('Trials: 192'), { timeout: 5000 });
    const job = vi.mocked(api.planOptimization).mock.calls.at(-1)![0];
    // Numbers start as ranges around their defaults, words and booleans as their default values.
    expect(job.parameters).toEqual({
      fastPeriod: { min: 5, max: 20, step: 2 }, slowPeriod: { min: 15, max: 60, step: 5 }, maType: 'SMA', allowShort: false,
    });
    expect(job.baseConfig.strategyClass).toBe('MovingAverageCross');
    expect(job.baseConfig.strategyConfig).toEqual({});
    expect(job.method).toBe('grid');
    expect(job.objective).toEqual({ metric: 'sharpeRatio', direction: 'maximize' });
    expect(screen.getByTestId('launch-optimization')).not.toBeDisabled();
  });

  it('shows no count and cannot launch while the server refuses the job, listing why', async () => {
    const { ApiError } = await import('../api/client');
    renderPage(async () => {
      throw new ApiError(400, 'Invalid request', 'the request has 1 error(s)', { 'baseConfig.instruments': ['at least one instrument'] });
    });
    await screen.findByText('at least one instrument', {}, { timeout: 5000 });
    expect(screen.getByTestId('planned-trials')).toHaveTextContent('Trials: —');
    expect(screen.getByTestId('launch-optimization')).toBeDisabled();
  });

  it('pins a custom strategy to the version whose schema built the form, and a template to none', async () => {
    const custom: StrategyTemplate = { ...STRATEGIES[0], name: 'SmaCross', kind: 'custom', version: 3 };
    const api = renderPage(async () => 12, [custom, ...STRATEGIES]);
    await waitFor(() => expect(screen.getByTestId('planned-trials')).toHaveTextContent('Trials: 12'), { timeout: 5000 });
    const job = vi.mocked(api.planOptimization).mock.calls.at(-1)![0];
    expect(job.baseConfig.strategyClass).toBe('SmaCross');
    expect(job.strategyVersion).toBe(3);

    cleanup();
    const templates = renderPage(async () => 12);
    await waitFor(() => expect(vi.mocked(templates.planOptimization)).toHaveBeenCalled(), { timeout: 5000 });
    const templateJob = vi.mocked(templates.planOptimization).mock.calls.at(-1)![0];
    expect(templateJob.baseConfig.strategyClass).toBe('MovingAverageCross');
    expect('strategyVersion' in templateJob).toBe(false);
  });
});
