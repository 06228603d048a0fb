import { describe, expect, it } from 'vitest';
import { appendEquity } from './useBacktestLive';

describe('appendEquity', () => {
  it('turns a batch of columns into points after the curve', () => {
    const curve = [{ date: '2024-01-02', equity: 100000, drawdown: 0 }];
    const next = appendEquity(curve, {
      dates: ['2024-01-03', '2024-01-04'], equity: [100250.5, 99800.25], drawdown: [0, -0.004489],
    });
    expect(next).toEqual([
      { date: '2024-01-02', equity: 100000, drawdown: 0 },
      { date: '2024-01-03', equity: 100250.5, drawdown: 0 },
      { date: '2024-01-04', equity: 99800.25, drawdown: -0.004489 },
    ]);
  });

  it('skips points already drawn and keeps the same curve when nothing is new', () => {
    const curve = [
      { date: '2024-01-02', equity: 100000, drawdown: 0 },
      { date: '2024-01-03', equity: 100250.5, drawdown: 0 },
    ];
    const repeated = { dates: ['2024-01-02', '2024-01-03'], equity: [100000, 100250.5], drawdown: [0, 0] };
    expect(appendEquity(curve, repeated)).toBe(curve);

    const overlapping = { dates: ['2024-01-03', '2024-01-04'], equity: [100250.5, 100100], drawdown: [0, -0.001496] };
    expect(appendEquity(curve, overlapping).map((p) => p.date)).toEqual(['2024-01-02', '2024-01-03', '2024-01-04']);
  });
});
