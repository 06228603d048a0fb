import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { MonteCarloResult } from '../api/types';
import type { ApiClient } from '../api/client';
import type { LiveHub } from '../live/hub';
import { SessionValueProvider } from '../session';

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

const { MonteCarloPanel, MONTE_CARLO_PATHS } = await import('./MonteCarloPanel');
const { fanOption, fanLabel, histogramOption } = await import('./monteCarloCharts');

const distribution = (p5: number, p50: number, p95: number) => ({
  count: 1000, undefined: 0, mean: p50, percentiles: { p5, p25: (p5 + p50) / 2, p50, p75: (p50 + p95) / 2, p95 },
  histogram: [{ low: p5, high: p50, count: 600 }, { low: p50, high: p95, count: 400 }],
});

const RESULT: MonteCarloResult = {
  backtestId: 'b1', method: 'blockBootstrap', sampling: null, paths: 1000, seed: 0, steps: 2, meanBlockLength: 3.25,
  blockLengthAutomatic: true, initialEquity: 100_000,
  fan: [
    { step: 0, date: null, p5: 100_000, p25: 100_000, p50: 100_000, p75: 100_000, p95: 100_000 },
    { step: 1, date: '2019-01-02', p5: 97_000, p25: 99_000, p50: 100_500, p75: 102_000, p95: 104_000 },
    { step: 2, date: '2019-01-03', p5: 95_000, p25: 98_500, p50: 101_000, p75: 103_000, p95: 107_000 },
  ],
  finalReturn: distribution(-0.05, 0.01, 0.07), cagr: distribution(-0.9, 2, 4), maxDrawdown: distribution(-0.3, -0.12, -0.04),
  sharpe: distribution(-1.2, 0.8, 2.5), probabilityOfLoss: 0.375, drawdownLimit: 0.2, probabilityOfDrawdownBeyondLimit: 0.1234,
};

function session(monteCarlo: ApiClient['monteCarlo']) {
  return { api: { monteCarlo } as unknown as ApiClient, hub: {} as LiveHub, signOut: () => undefined };
}

describe('Monte Carlo charts', () => {
  it('stacks each band as its width on an invisible lower edge, so the drawn edges are the percentiles', () => {
    const option = fanOption(RESULT);
    const series = option.series as { name: string; data: number[]; stack?: string }[];
    const byName = Object.fromEntries(series.map((s) => [s.name, s]));
    RESULT.fan.forEach((p, i) => {
      expect(byName['5% edge'].data[i]).toBe(p.p5);
      expect(byName['5% edge'].data[i] + byName['5–95%'].data[i]).toBe(p.p95);
      expect(byName['25% edge'].data[i] + byName['25–75%'].data[i]).toBe(p.p75);
      expect(byName.median.data[i]).toBe(p.p50);
    });
    expect(byName['5–95%'].stack).toBe(byName['5% edge'].stack);
    expect(byName['25–75%'].stack).toBe(byName['25% edge'].stack);
    expect(byName['5–95%'].stack).not.toBe(byName['25–75%'].stack);
    expect(option.xAxis.data).toEqual(['start', '2019-01-02', '2019-01-03']);
  });

  it('labels trade paths by trade number and the histogram by its ranges', () => {
    const trades = { ...RESULT, method: 'trades' as const, fan: RESULT.fan.map((p) => ({ ...p, date: null })) };
    expect([0, 1, 2].map((i) => fanLabel(trades, i))).toEqual(['start', 'trade 1', 'trade 2']);
    const histogram = histogramOption(RESULT.maxDrawdown.histogram, 'max drawdown');
    expect(histogram.xAxis.data).toEqual(['-30.0% to -12.0%', '-12.0% to -4.0%']);
    expect(histogram.series[0].data).toEqual([600, 400]);
  });
});

describe('MonteCarloPanel', () => {
  it('asks for the block bootstrap, shows the probabilities with their explanations and draws the fan and the drawdowns', async () => {
    drawn.length = 0;
    const monteCarlo = vi.fn(async () => RESULT);
    render(<SessionValueProvider value={session(monteCarlo)}><MonteCarloPanel backtestId="b1" /></SessionValueProvider>);

    expect(await screen.findByTestId('mc-probabilityOfLoss')).toHaveTextContent('37.5%');
    expect(monteCarlo).toHaveBeenCalledWith('b1', { method: 'blockBootstrap', paths: MONTE_CARLO_PATHS });
    expect(screen.getByTestId('mc-probabilityOfDrawdown')).toHaveTextContent('Drawdown of 20% or more');
    expect(screen.getByTestId('mc-probabilityOfDrawdown')).toHaveTextContent('12.3%');
    expect(screen.getByTestId('mc-finalReturn')).toHaveTextContent('-5.0% … 1.0% … 7.0%');
    expect(screen.getByTestId('mc-sharpe')).toHaveTextContent('-1.20 … 0.80 … 2.50');
    expect(screen.getByLabelText('How Probability of a loss is computed')).toBeInTheDocument();
    expect(screen.getByTestId('mc-description')).toHaveTextContent('mean block 3.3 days (estimated from the data)');
    await waitFor(() => expect(drawn.map((d) => d.element.dataset.testid)).toEqual(['montecarlo-fan', 'montecarlo-drawdowns']));
  });

  it('switches to the trades, shuffled or resampled', async () => {
    const monteCarlo = vi.fn(async () => RESULT);
    render(<SessionValueProvider value={session(monteCarlo)}><MonteCarloPanel backtestId="b1" /></SessionValueProvider>);
    await screen.findByTestId('mc-probabilityOfLoss');
    await userEvent.click(screen.getByText('Trades shuffled'));
    await waitFor(() => expect(monteCarlo).toHaveBeenLastCalledWith('b1', { method: 'trades', sampling: 'shuffle', paths: MONTE_CARLO_PATHS }));
    expect(screen.getByText(/every path ends at the same equity/)).toBeInTheDocument();
    await userEvent.click(screen.getByText('Trades resampled'));
    await waitFor(() => expect(monteCarlo).toHaveBeenLastCalledWith('b1', { method: 'trades', sampling: 'resample', paths: MONTE_CARLO_PATHS }));
  });

  it("shows the server's refusal instead of the charts", async () => {
    const monteCarlo = vi.fn(async () => {
      throw new Error('Unprocessable: method=trades cannot resample this backtest');
    });
    render(<SessionValueProvider value={session(monteCarlo)}><MonteCarloPanel backtestId="b1" /></SessionValueProvider>);
    expect(await screen.findByTestId('montecarlo-error')).toHaveTextContent('cannot resample');
    expect(screen.queryByTestId('montecarlo-fan')).toBeNull();
  });
});
