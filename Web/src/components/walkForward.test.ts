import { describe, expect, it } from 'vitest';
import type { OptimizationJob, WalkForwardInSample, WalkForwardStatus, WalkForwardWindow } from '../api/types';
import {
  DEFAULT_WALK_FORWARD, IN_SAMPLE_SERIES, STITCHED_SERIES, dateOfDay, dayNumber, equityLines, parametersText, timelineBars, timelineRows,
  toWalkForwardJob, walkForwardFieldFor, windowMetricRows, windowsProgress,
} from './walkForward';

const JOB = {
  name: 'n', baseConfig: { strategyClass: 'MovingAverageCross' }, parameters: { fastPeriod: { min: 5, max: 15, step: 5 }, slowPeriod: { values: [30, 40] } },
  method: 'grid', maxTrials: null, objective: { metric: 'sharpeRatio', direction: 'maximize' }, constraints: [], target: null, seed: 1, priority: 'normal',
} as unknown as OptimizationJob;

function window(index: number, isStart: string, isEnd: string, oosStart: string, oosEnd: string, extra: Partial<WalkForwardWindow> = {}): WalkForwardWindow {
  return {
    index, inSampleStart: isStart, inSampleEnd: isEnd, outOfSampleStart: oosStart, outOfSampleEnd: oosEnd, truncated: false, state: 'optimizing',
    optimizationId: `o${index}`, backtestId: null, bestTrial: null, parameters: null, inSampleMetrics: null, outOfSampleMetrics: null, ...extra,
  };
}

function status(windows: WalkForwardWindow[]): WalkForwardStatus {
  return {
    id: 'w', name: 'w', status: 'running', strategy: 'MovingAverageCross', method: 'grid', objective: { metric: 'sharpeRatio', direction: 'maximize' },
    validation: { inSample: '1y', outOfSample: '6m', step: '6m', anchored: false }, createdAt: '', updatedAt: '', startedAt: null, completedAt: null,
    errorMessage: null, windows, summary: null, history: [], config: { ...JOB, validation: { inSample: '1y', outOfSample: '6m', anchored: false } },
  };
}

// Days counted independently: whole days between two UTC midnights.
const days = (a: string, b: string) => (new Date(`${b}T00:00:00Z`).getTime() - new Date(`${a}T00:00:00Z`).getTime()) / 86_400_000;

describe('toWalkForwardJob', () => {
  it('adds the windows to every field of the job, trimmed, an empty step left to the server', () => {
    const body = toWalkForwardJob(JOB, { inSample: ' 1y ', outOfSample: '6m', step: '  ', anchored: true });
    const { validation, ...rest } = body;
    expect(rest).toEqual(JOB);
    expect(validation).toEqual({ inSample: '1y', outOfSample: '6m', step: null, anchored: true });
    expect(toWalkForwardJob(JOB, { ...DEFAULT_WALK_FORWARD, step: '3m' }).validation.step).toBe('3m');
    expect(toWalkForwardJob(JOB, undefined).validation).toEqual({ inSample: '1y', outOfSample: '6m', step: null, anchored: false });
  });
});

describe('walkForwardFieldFor', () => {
  it.each([
    ['validation.inSample', ['walkForward', 'inSample']],
    ['validation.outOfSample', ['walkForward', 'outOfSample']],
    ['validation.step', ['walkForward', 'step']],
    ['validation.anchored', ['walkForward', 'anchored']],
    ['validation', null],
    ['validation.windows[2].baseConfig.endDate', null],
    ['parameters.fastPeriod.max', ['parameters', 'fastPeriod', 'max']],
    ['objective.metric', ['objectiveMetric']],
    ['baseConfig.endDate', null],
  ])('%s', (field, name) => expect(walkForwardFieldFor(field)).toEqual(name));
});

describe('timeline', () => {
  const windows = [
    // Out of order on purpose: rows follow the window index.
    window(1, '2018-07-02', '2019-07-01', '2019-07-02', '2020-01-01', { state: 'outOfSample', parameters: { slowPeriod: 40, fastPeriod: 10 } }),
    window(0, '2018-01-02', '2019-01-01', '2019-01-02', '2019-07-01', { state: 'completed', parameters: { fastPeriod: 15, slowPeriod: 30, extra: 'x' } }),
    // A gap of three days between the spans, and a truncated last window.
    window(2, '2019-01-02', '2020-01-01', '2020-01-05', '2020-03-31', { state: 'noFeasibleTrial', truncated: true }),
  ];
  const rows = timelineRows(status(windows));

  it('gives one row per window in index order with its spans, state and the choice in the job parameter order', () => {
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.label)).toEqual(['Window 1', 'Window 2', 'Window 3']);
    expect(rows[0]).toMatchObject({ inSample: ['2018-01-02', '2019-01-01'], outOfSample: ['2019-01-02', '2019-07-01'], state: 'completed' });
    expect(rows[0].parameters).toBe('fastPeriod=15, slowPeriod=30, extra=x');
    expect(rows[1].parameters).toBe('fastPeriod=10, slowPeriod=40');
    expect(rows[2]).toMatchObject({ parameters: '—', state: 'noFeasibleTrial', truncated: true });
  });

  it('stacks lead, in-sample, gap and out-of-sample so each bar ends where its span ends', () => {
    const bars = timelineBars(rows);
    rows.forEach((r, i) => {
      expect(dateOfDay(bars.lead[i])).toBe(r.inSample[0]);
      expect(bars.inSample[i]).toBe(days(r.inSample[0], r.inSample[1]) + 1);
      expect(dateOfDay(bars.lead[i] + bars.inSample[i] + bars.gap[i])).toBe(r.outOfSample[0]);
      expect(dateOfDay(bars.lead[i] + bars.inSample[i] + bars.gap[i] + bars.outOfSample[i] - 1)).toBe(r.outOfSample[1]);
    });
    expect(bars.gap).toEqual([0, 0, 3]);
    expect(dateOfDay(bars.min)).toBe('2018-01-02');
    expect(dateOfDay(bars.max)).toBe('2020-04-01');
    expect(timelineBars([])).toMatchObject({ lead: [], min: 0, max: 1 });
  });

  it('counts done windows (completed or without a feasible trial)', () => {
    expect(windowsProgress(status(windows))).toEqual({ done: 2, total: 3 });
    expect(windowsProgress(status([]))).toEqual({ done: 0, total: 0 });
  });

  it('day numbers round-trip across a leap day and a year end', () => {
    for (const d of ['2020-02-28', '2020-02-29', '2020-03-01', '2019-12-31', '2020-01-01', '1970-01-01']) expect(dateOfDay(dayNumber(d))).toBe(d);
    expect(dayNumber('2020-03-01') - dayNumber('2020-02-28')).toBe(2);
    expect(dayNumber('2020-01-02T00:00:00')).toBe(dayNumber('2020-01-02'));
  });
});

describe('parametersText and windowMetricRows', () => {
  it('writes words plainly and other values as JSON; nothing chosen is a dash', () => {
    expect(parametersText({ maType: 'SMA', allowShort: false, n: 3 })).toBe('maType=SMA, allowShort=false, n=3');
    expect(parametersText(null)).toBe('—');
    expect(parametersText({})).toBe('—');
  });

  it('gives every window every metric, both sides, null where a side has none', () => {
    const s = status([
      window(1, '2018-07-02', '2019-07-01', '2019-07-02', '2020-01-01', { inSampleMetrics: { sharpeRatio: 1.5, totalReturn: null } }),
      window(0, '2018-01-02', '2019-01-01', '2019-01-02', '2019-07-01',
        { inSampleMetrics: { sharpeRatio: 0.1, totalReturn: 0.02 }, outOfSampleMetrics: { sharpeRatio: -0.3, totalReturn: -0.01 } }),
    ]);
    expect(windowMetricRows(s, ['sharpeRatio', 'totalReturn'])).toEqual([
      { index: 0, metric: 'sharpeRatio', inSample: 0.1, outOfSample: -0.3 },
      { index: 0, metric: 'totalReturn', inSample: 0.02, outOfSample: -0.01 },
      { index: 1, metric: 'sharpeRatio', inSample: 1.5, outOfSample: null },
      { index: 1, metric: 'totalReturn', inSample: null, outOfSample: null },
    ]);
  });
});

describe('equityLines', () => {
  const stitched = [{ date: '2019-07-01T00:00:00', equity: 100000 }, { date: '2019-07-02', equity: 100500 }];
  const curve = (index: number, dates: string[], values: number[]) => ({
    index, optimizationId: `o${index}`, trial: index + 1, inSampleStart: dates[0], inSampleEnd: dates[dates.length - 1],
    outOfSampleStart: '2019-07-01', anchor: values[values.length - 1], equity: dates.map((date, i) => ({ date, equity: values[i] })),
  });

  it('gives the stitched curve alone when there are no in-sample curves (yet)', () => {
    expect(equityLines(stitched, null)).toEqual([{ name: STITCHED_SERIES, window: null, data: [['2019-07-01', 100000], ['2019-07-02', 100500]] }]);
    expect(equityLines([], { id: 'x', scaling: '', windows: [], notes: [] })).toEqual([{ name: STITCHED_SERIES, window: null, data: [] }]);
  });

  it('puts every window\'s in-sample curve after the stitched one, in window order, all under one legend name, points as served', () => {
    const inSample: WalkForwardInSample = {
      id: 'x', scaling: '', notes: [],
      // Out of order as a server could list them; overlapping dates, as rolling windows have.
      windows: [curve(2, ['2019-01-02', '2019-06-28'], [99000, 100500]), curve(0, ['2018-01-02', '2018-12-31'], [90000, 100000]),
        curve(1, ['2018-07-02', '2019-01-02'], [97000, 101000.25])],
    };
    const lines = equityLines(stitched, inSample);
    expect(lines.map((l) => [l.name, l.window])).toEqual([[STITCHED_SERIES, null], [IN_SAMPLE_SERIES, 0], [IN_SAMPLE_SERIES, 1], [IN_SAMPLE_SERIES, 2]]);
    expect(lines[2].data).toEqual([['2018-07-02', 97000], ['2019-01-02', 101000.25]]);
    // Each in-sample line ends at its anchor: where the stitched curve stood when its window's out of sample began.
    for (const w of inSample.windows) expect(lines.find((l) => l.window === w.index)!.data.at(-1)![1]).toBe(w.anchor);
    expect(STITCHED_SERIES).not.toBe(IN_SAMPLE_SERIES);
  });
});
