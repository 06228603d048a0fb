import { describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import dayjs from 'dayjs';
import { ApiError, type ApiClient } from '../api/client';
import type { LiveHub } from '../live/hub';
import type { WalkForwardJob } from '../api/types';
import { SessionValueProvider } from '../session';
import { INSTRUMENTS, STRATEGIES } from '../test/fixtures';
import { WalkForwardPage } from './WalkForwardPage';
import type { OptimizeFormValues } from './OptimizePage';

const READY = {
  strategyClass: 'MovingAverageCross', instruments: ['SPY.ARCA'],
  dateRange: [dayjs('2018-01-02'), dayjs('2020-12-31')] as [dayjs.Dayjs, dayjs.Dayjs],
} as Partial<OptimizeFormValues>;

function renderPage(start: (job: WalkForwardJob) => Promise<unknown>) {
  const onOpen = vi.fn();
  const api = {
    planOptimization: vi.fn(async () => 192),
    startWalkForward: vi.fn(start),
    walkForwards: vi.fn(async () => ({ items: [], total: 0, page: 1, pageSize: 10 })),
  } as unknown as ApiClient;
  render(
    <SessionValueProvider value={{ api, hub: {} as LiveHub, signOut: vi.fn() }}>
      <WalkForwardPage strategies={STRATEGIES} instruments={INSTRUMENTS} onOpen={onOpen} initial={READY} />
    </SessionValueProvider>,
  );
  return { api, onOpen };
}

const formItemOf = (id: string) => document.getElementById(id)!.closest('.ant-form-item') as HTMLElement;

async function launch() {
  const button = screen.getByTestId('launch-walkforward');
  await waitFor(() => expect(button).not.toBeDisabled(), { timeout: 5000 });
  await act(async () => {
    fireEvent.click(button);
  });
}

describe('WalkForwardPage', () => {
  it('posts the optimization job with the windows and opens the analysis it starts', async () => {
    const { api, onOpen } = renderPage(async () => ({ id: 'wf-1', status: 'queued', windowsPlanned: 4, statusUrl: '/api/v1/walkforward/wf-1' }));
    expect(screen.getByTestId('planned-trials')).toHaveTextContent('Per window:');
    fireEvent.change(document.getElementById('field-wf-outOfSample')!, { target: { value: '3m' } });
    await launch();
    await waitFor(() => expect(onOpen).toHaveBeenCalledWith('wf-1'));
    const body = vi.mocked(api.startWalkForward).mock.calls[0][0];
    expect(body.validation).toEqual({ inSample: '1y', outOfSample: '3m', step: null, anchored: false });
    expect(body.baseConfig).toMatchObject({ strategyClass: 'MovingAverageCross', instruments: ['SPY.ARCA'], startDate: '2018-01-02', endDate: '2020-12-31' });
    // The windows' settings are the analysis's, not the backtest's.
    expect(body.baseConfig).not.toHaveProperty('walkForward');
    expect(body.parameters).toHaveProperty('fastPeriod');
  });

  it("shows a 400's errors at the top and on the windows' fields", async () => {
    renderPage(async () => {
      throw new ApiError(400, 'Invalid request', 'the request has 3 error(s)', {
        'validation.inSample': ['a length like 1y, 6m, 2w or 30d'],
        'validation.step': ['at most the out-of-sample length'],
        'validation.windows[2].baseConfig.endDate': ['after the start date'],
      });
    });
    await launch();
    await screen.findByTestId('server-errors');
    expect(screen.getByTestId('server-errors')).toHaveTextContent('validation.windows[2].baseConfig.endDate');
    await waitFor(() => expect(formItemOf('field-wf-inSample')).toHaveTextContent('a length like 1y, 6m, 2w or 30d'));
    expect(formItemOf('field-wf-step')).toHaveTextContent('at most the out-of-sample length');
    expect(formItemOf('field-wf-outOfSample')).not.toHaveTextContent('at most');
  });
});
