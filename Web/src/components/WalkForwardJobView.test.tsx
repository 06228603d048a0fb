import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ApiClient } from '../api/client';
import type { LiveHub } from '../live/hub';
import type { WalkForwardInSample, WalkForwardStatus, WalkForwardWindow } from '../api/types';
import { SessionValueProvider } from '../session';
import WalkForwardJobView from './WalkForwardJobView';

// jsdom has no canvas: record what each chart is given instead of drawing it.
const drawn = vi.hoisted(() => [] as { element: HTMLElement; option: Record<string, unknown> }[]);
vi.mock('./echarts', () => ({
  echarts: {
    init: (element: HTMLElement) => ({
      setOption: (option: Record<string, unknown>) => drawn.push({ element, option }),
      resize: () => undefined,
      dispose: () => undefined,
    }),
  },
}));

const window = (index: number, state: WalkForwardWindow['state'], [isStart, isEnd, oosStart, oosEnd]: string[], extra: Partial<WalkForwardWindow> = {}): WalkForwardWindow => ({
  index, inSampleStart: isStart, inSampleEnd: isEnd, outOfSampleStart: oosStart, outOfSampleEnd: oosEnd, truncated: false, state, optimizationId: `o${index}`, backtestId: null, bestTrial: null, parameters: null,
  inSampleMetrics: null, outOfSampleMetrics: null, ...extra,
});

function running(): WalkForwardStatus {
  return {
    id: 'wf1', name: 'MA walk', status: 'running', strategy: 'MovingAverageCross', method: 'grid', objective: { metric: 'sharpeRatio', direction: 'maximize' },
    validation: { inSample: '1y', outOfSample: '6m', step: '6m', anchored: false }, createdAt: '', updatedAt: '', startedAt: null, completedAt: null,
    errorMessage: null, summary: null, history: [],
    config: { parameters: { fastPeriod: { min: 5, max: 15, step: 5 } } } as unknown as WalkForwardStatus['config'],
    windows: [
      window(0, 'completed', ['2018-01-02', '2019-01-01', '2019-01-02', '2019-07-01'],
        { parameters: { fastPeriod: 15 }, inSampleMetrics: { sharpeRatio: 1.25, totalReturn: 0.1 }, outOfSampleMetrics: { sharpeRatio: -0.5, totalReturn: -0.02 } }),
      window(1, 'optimizing', ['2018-07-02', '2019-07-01', '2019-07-02', '2020-01-01']),
    ],
  };
}

function completed(): WalkForwardStatus {
  const s = running();
  return {
    ...s, status: 'completed',
    windows: [s.windows[0], { ...s.windows[1], state: 'noFeasibleTrial' }],
    summary: {
      stitchedEquity: [{ date: '2019-01-02', equity: 100000 }, { date: '2019-01-03', equity: 101000 }, { date: '2019-01-04', equity: 100500 }],
      stitchedReturns: [0.01, -0.00495], metrics: { sharpeRatio: 0.74, totalReturn: 0.005 }, efficiency: 1.0081, tStatistic: -2.5,
      drift: [{ parameter: 'fastPeriod', values: [15], changes: 0, distinct: 1, mean: 15, standardDeviation: 0, meanAbsoluteChange: null }],
    },
  };
}

// Window 0's in-sample curve (2018-01-02 to 2019-01-01), rebased by the server to end at 100,000 where its out of sample begins.
const IN_SAMPLE: WalkForwardInSample = {
  id: 'wf1', scaling: 'rebased', notes: ['window 1: no trial'],
  windows: [{ index: 0, optimizationId: 'o0', trial: 3, inSampleStart: '2018-01-02', inSampleEnd: '2019-01-01', outOfSampleStart: '2019-01-02',
    anchor: 100000, equity: [{ date: '2018-01-02', equity: 95000 }, { date: '2018-12-31', equity: 100000 }] }],
};

function renderView(api: Partial<ApiClient>) {
  render(
    <SessionValueProvider value={{ api: api as ApiClient, hub: {} as LiveHub, signOut: vi.fn() }}>
      <WalkForwardJobView id="wf1" onBack={vi.fn()} />
    </SessionValueProvider>,
  );
}

afterEach(() => {
  vi.useRealTimers();
  drawn.length = 0;
});

describe('WalkForwardJobView', () => {
  it('polls every 2 s while running, then stops once completed and shows the stitched result', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const statuses = [running(), running(), completed()];
    const walkForward = vi.fn(async () => statuses[Math.min(walkForward.mock.calls.length - 1, statuses.length - 1)]);
    const walkForwardInSample = vi.fn(async () => IN_SAMPLE);
    renderView({ walkForward, walkForwardInSample });
    await screen.findByTestId('walkforward-timeline');
    expect(screen.getByTestId('walkforward-state')).toHaveTextContent('running');
    expect(screen.getByTestId('walkforward-windows-done')).toHaveTextContent('1 / 2');
    expect(screen.queryByTestId('walkforward-summary')).toBeNull();
    // Timeline rows: the chosen parameters and each window's state.
    expect(screen.getAllByTestId('walkforward-window-state').map((e) => e.textContent)).toEqual(['completed', 'optimizing']);
    expect(screen.getByText('fastPeriod=15')).toBeInTheDocument();

    await act(async () => { await vi.advanceTimersByTimeAsync(2000); });
    expect(walkForward).toHaveBeenCalledTimes(2);
    await act(async () => { await vi.advanceTimersByTimeAsync(2000); });
    expect(walkForward).toHaveBeenCalledTimes(3);
    await waitFor(() => expect(screen.getByTestId('walkforward-state')).toHaveTextContent('completed'));
    expect(screen.getByTestId('walkforward-windows-done')).toHaveTextContent('2 / 2');
    expect(screen.getByTestId('walkforward-efficiency')).toHaveTextContent('1.008');
    expect(screen.getByTestId('walkforward-tstat')).toHaveTextContent('-2.500');
    expect(screen.getByTestId('walkforward-drift')).toHaveTextContent('fastPeriod');
    expect(screen.getByTestId('walkforward-cancel')).toBeDisabled();
    // Terminal: no more reads.
    await act(async () => { await vi.advanceTimersByTimeAsync(6000); });
    expect(walkForward).toHaveBeenCalledTimes(3);

    // The stitched curve is drawn from the summary's points, then the in-sample curves read once the job completed, on one
    // date axis with a legend telling them apart; the timeline has one bar per window on each span.
    await waitFor(() => expect(screen.getByTestId('walkforward-insample-caption')).toHaveTextContent('The in-sample curve of 1 window'));
    expect(walkForwardInSample).toHaveBeenCalledTimes(1);
    expect(walkForwardInSample).toHaveBeenCalledWith('wf1');
    expect(screen.getByTestId('walkforward-insample-note')).toHaveTextContent('window 1: no trial');
    type Line = { name: string; data: [string, number][]; lineStyle: { type?: string } };
    const curve = drawn.filter((d) => d.element.dataset.testid === 'walkforward-equity').at(-1)!.option as
      { series: Line[]; xAxis: { type: string }; legend: { data: string[] } };
    expect(curve.xAxis.type).toBe('time');
    expect(curve.legend.data).toEqual(['Out of sample (stitched)', 'In sample (chosen trial, rebased)']);
    expect(curve.series.map((s) => s.name)).toEqual(['Out of sample (stitched)', 'In sample (chosen trial, rebased)']);
    expect(curve.series[0].data).toEqual([['2019-01-02', 100000], ['2019-01-03', 101000], ['2019-01-04', 100500]]);
    expect(curve.series[1].data).toEqual([['2018-01-02', 95000], ['2018-12-31', 100000]]);
    expect(curve.series[0].lineStyle.type).toBeUndefined();
    expect(curve.series[1].lineStyle.type).toBe('dashed');
    expect(JSON.parse(screen.getByTestId('walkforward-equity-lines').dataset.lines!)).toEqual([
      { name: 'Out of sample (stitched)', window: null, points: 3, first: '2019-01-02', last: '2019-01-04' },
      { name: 'In sample (chosen trial, rebased)', window: 0, points: 2, first: '2018-01-02', last: '2018-12-31' },
    ]);
    const timeline = drawn.filter((d) => d.element.dataset.testid === 'walkforward-timeline-chart').at(-1)!.option as { series: { name: string; data: number[] }[] };
    expect(timeline.series.map((s) => s.name)).toEqual(['lead', 'In sample', 'gap', 'Out of sample']);
    expect(timeline.series.every((s) => s.data.length === 2)).toBe(true);

    // Per-window metrics, in and out of sample; a side without metrics is a dash.
    const table = screen.getByTestId('walkforward-window-metrics');
    expect(table).toHaveTextContent('1.25');
    expect(table).toHaveTextContent('-0.50');
  });

  it('cancels through the api and shows the state it answers', async () => {
    const cancelWalkForward = vi.fn(async () => ({ ...running(), status: 'cancelled' as const }));
    renderView({ walkForward: vi.fn(async () => running()), cancelWalkForward });
    fireEvent.click(await screen.findByTestId('walkforward-cancel'));
    await waitFor(() => expect(screen.getByTestId('walkforward-state')).toHaveTextContent('cancelled'));
    expect(cancelWalkForward).toHaveBeenCalledWith('wf1');
    expect(screen.getByTestId('walkforward-cancel')).toBeDisabled();
  });

  it('says so when the analysis completed without a feasible window, and asks for no in-sample curves', async () => {
    const walkForwardInSample = vi.fn(async () => IN_SAMPLE);
    renderView({ walkForward: vi.fn(async () => ({ ...completed(), summary: null })), walkForwardInSample });
    await screen.findByTestId('walkforward-no-summary');
    expect(screen.queryByTestId('walkforward-equity')).toBeNull();
    expect(walkForwardInSample).not.toHaveBeenCalled();
  });

  it('draws the stitched curve alone and says why when the in-sample curves cannot be read', async () => {
    renderView({ walkForward: vi.fn(async () => completed()), walkForwardInSample: vi.fn(async () => { throw new Error('busy (503)'); }) });
    await waitFor(() => expect(screen.getByTestId('walkforward-insample-error')).toHaveTextContent('In-sample curves: busy (503)'));
    const curve = drawn.filter((d) => d.element.dataset.testid === 'walkforward-equity').at(-1)!.option as { series: { name: string }[] };
    expect(curve.series.map((s) => s.name)).toEqual(['Out of sample (stitched)']);
    expect(screen.queryByTestId('walkforward-insample-caption')).toBeNull();
  });
});
