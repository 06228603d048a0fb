import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { BacktestMonitor, formatEta } from './BacktestMonitor';
import { PerformanceMetrics } from './PerformanceMetrics';
import type { LiveState } from '../live/useBacktestLive';

const progress = {
  progress: { percentage: 42.5, currentDate: '2019-11-04', processedBars: 213, totalBars: 503, estimatedTimeRemaining: 75, processingRate: 520 },
  statistics: { tradesExecuted: 3, currentBalance: 104200, unrealizedPnl: 1250, drawdown: 0.031 },
  performance: { memoryUsage: 42, cpuUsage: 97, diskIO: 0.2 },
};
const base: LiveState = {
  status: { id: 'a', state: 'running' }, progress, error: null, complete: null, equity: [], trades: [],
  phase: 'connected', stale: false, loadError: null,
};

describe('BacktestMonitor', () => {
  it('shows progress, ETA, rate, the date being processed, statistics and resources', () => {
    render(<BacktestMonitor live={base} />);
    expect(screen.getByTestId('progress-bar')).toHaveAttribute('data-percent', '42.5');
    expect(screen.getByText('42.5%')).toBeInTheDocument();
    expect(screen.getByText('75 s')).toBeInTheDocument();
    expect(screen.getByText('520')).toBeInTheDocument();
    expect(screen.getByText('2019-11-04')).toBeInTheDocument();
    expect(screen.getByText('213 / 503')).toBeInTheDocument();
    const stats = screen.getByTestId('live-stats');
    expect(stats).toHaveTextContent('$104,200');
    expect(stats).toHaveTextContent('3.10%');
    expect(stats).toHaveTextContent('97%');
    expect(stats).toHaveTextContent('42 MB');
    expect(screen.getByTestId('connection-phase')).toHaveTextContent('live');
  });

  it('marks what it shows as stale while reconnecting', () => {
    render(<BacktestMonitor live={{ ...base, phase: 'reconnecting', stale: true }} />);
    expect(screen.getByTestId('connection-phase')).toHaveTextContent('reconnecting');
    expect(screen.getByTestId('stale-note')).toHaveTextContent('Re-reading the current state');
  });

  it('shows an error with its details', () => {
    render(<BacktestMonitor live={{
      ...base, status: { id: 'a', state: 'failed' },
      error: { errorType: 'data', errorMessage: 'no data for XYZ', errorDetails: { recoverable: false, failedInstrument: 'XYZ', failedAtDate: '2019-02-01', stackTrace: 'at Engine.Run' } },
    }} />);
    const alert = screen.getByTestId('run-error');
    expect(alert).toHaveTextContent('data error: no data for XYZ');
    expect(alert).toHaveTextContent('Instrument XYZ');
    expect(alert).toHaveTextContent('Failed at 2019-02-01');
    expect(alert).toHaveTextContent('at Engine.Run');
  });

  it('formats ETAs for people', () => {
    expect(formatEta(0.4)).toBe('< 1 s');
    expect(formatEta(3600)).toBe('60 min');
    expect(formatEta(7200)).toBe('2.0 h');
    expect(formatEta(undefined)).toBe('—');
  });
});

describe('PerformanceMetrics', () => {
  it('groups the metrics and explains each; undefined ones show a dash', () => {
    render(<PerformanceMetrics metrics={{ sharpeRatio: 1.234, maxDrawdown: -0.1532, winRate: null, expectancy: 12.5 }} />);
    const sharpe = screen.getByTestId('metric-sharpeRatio');
    expect(sharpe).toHaveTextContent('1.23');
    expect(sharpe).toHaveTextContent('Excess return per unit of total volatility');
    expect(screen.getByTestId('metric-maxDrawdown')).toHaveTextContent('-15.32%');
    expect(screen.getByTestId('metric-winRate')).toHaveTextContent('—');
    expect(screen.getByTestId('metric-expectancy')).toHaveTextContent('$12.50');
    for (const group of ['Returns', 'Risk', 'Trades', 'Relative to the benchmark']) {
      expect(screen.getByRole('heading', { name: group })).toBeInTheDocument();
    }
    expect(screen.getByLabelText('How Sharpe ratio is computed')).toBeInTheDocument();
  });
});
