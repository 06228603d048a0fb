import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import type { ApiClient } from '../api/client';
import type { LiveHub } from '../live/hub';
import type { OptimizationRobustness } from '../api/types';
import { SessionValueProvider } from '../session';
import { RobustnessPanel } from './RobustnessPanel';
import { HELD_COLOR, OVERFIT_COLOR } from './robustnessCharts';

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

// 12,870 splits, 4,022 of them (31.3%) left of 0, in bins symmetric about 0.
const LOGITS = [
  { low: -2, high: -1, count: 1022 }, { low: -1, high: 0, count: 3000 }, { low: 0, high: 1, count: 5848 }, { low: 1, high: 2, count: 3000 },
];

const FULL: OptimizationRobustness = {
  optimizationId: 'o1', status: 'completed', objective: 'sharpeRatio', direction: 'maximize', trialsRun: 120, feasibleTrials: 100,
  bestTrial: 7, bestObjective: 1.2,
  deflatedSharpe: { value: 0.9734, sharpe: 0.08, skewness: -0.2, kurtosis: 4.1, observations: 1260, trials: 120, sharpeVariance: 0.001, expectedMaximumSharpe: 0.07 },
  overfitting: { probability: 4022 / 12870, probabilityOfLoss: 0.125, blocks: 16, splits: 12870, observations: 1260, trialsGiven: 100, trialsUsed: 100, degradationSlope: -0.4, degradationIntercept: 0.01, logitHistogram: LOGITS },
  minimumBacktestLength: { years: 3.21, annualizedSharpe: 1.2, trials: 120, backtestYears: 5 },
  stability: {
    bestTrial: 7, bestObjective: 1.2, neighbours: [],
    bestPlateau: { trialNumber: 7, mean: 0.954, worst: 0.612, present: 4, missing: 0, infeasible: 0 },
    mostStable: { trialNumber: 12, mean: 1.01, worst: 0.9, present: 4, missing: 0, infeasible: 0 },
    trialsOffGrid: 0,
  },
  notes: [],
};

function renderPanel(answer: () => Promise<OptimizationRobustness>, ended = true) {
  const api = { optimizationRobustness: vi.fn(answer) } as unknown as ApiClient;
  render(
    <SessionValueProvider value={{ api, hub: {} as LiveHub, signOut: vi.fn() }}>
      <RobustnessPanel id="o1" ended={ended} />
    </SessionValueProvider>,
  );
  return api;
}

describe('RobustnessPanel: what the robustness route says about the best trial', () => {
  it('shows every figure the route computed, as the route gives it', async () => {
    const api = renderPanel(async () => FULL);
    await waitFor(() => expect(screen.getByTestId('robustness-dsr')).toHaveTextContent('97.3%'));
    expect(api.optimizationRobustness).toHaveBeenCalledWith('o1');
    expect(screen.getByTestId('robustness-pbo')).toHaveTextContent('31.3%');
    expect(screen.getByTestId('robustness-loss')).toHaveTextContent('12.5%');
    expect(screen.getByTestId('robustness-minbtl')).toHaveTextContent('3.2 y');
    expect(screen.getByTestId('robustness-plateau')).toHaveTextContent('0.954 / 0.612');
    expect(screen.getByTestId('robustness-stable')).toHaveTextContent('trial 12');
    expect(screen.getByLabelText('about Probability of overfitting')).toBeInTheDocument();
  });

  it('draws the histogram of the logits with the overfit splits (left of 0) in red, each bin its count', async () => {
    drawn.length = 0;
    renderPanel(async () => FULL);
    await waitFor(() => expect(screen.getByTestId('robustness-logits')).toBeInTheDocument());
    const chart = drawn.find((d) => d.element.dataset.testid === 'robustness-logits')!;
    const bars = (chart.option.series as { data: { value: number; itemStyle: { color: string } }[] }[])[0].data;
    expect(bars.map((b) => b.value)).toEqual(LOGITS.map((b) => b.count));
    expect(bars.map((b) => b.itemStyle.color)).toEqual([OVERFIT_COLOR, OVERFIT_COLOR, HELD_COLOR, HELD_COLOR]);
    const red = bars.filter((b) => b.itemStyle.color === OVERFIT_COLOR).reduce((sum, b) => sum + b.value, 0);
    expect(red / FULL.overfitting!.splits).toBeCloseTo(FULL.overfitting!.probability, 12);
  });

  it('leaves out what could not be computed and says why', async () => {
    renderPanel(async () => ({ ...FULL, overfitting: null, stability: null, notes: ['PBO needs at least 2 feasible trials with returns'] }));
    await waitFor(() => expect(screen.getByTestId('robustness-notes')).toHaveTextContent('PBO needs at least 2 feasible trials'));
    expect(screen.queryByTestId('robustness-pbo')).toBeNull();
    expect(screen.queryByTestId('robustness-plateau')).toBeNull();
    expect(screen.queryByTestId('robustness-logits')).toBeNull();
    expect(screen.getByTestId('robustness-dsr')).toBeInTheDocument();
  });

  it('asks nothing while the job runs, and shows a refusal instead of figures', async () => {
    const api = renderPanel(async () => FULL, false);
    expect(api.optimizationRobustness).not.toHaveBeenCalled();
    expect(screen.queryByText('Is the best trial real?')).toBeNull();
    renderPanel(async () => Promise.reject(Object.assign(new Error('optimization not found'), { status: 404 })));
    await waitFor(() => expect(screen.getByText('optimization not found')).toBeInTheDocument());
  });
});
