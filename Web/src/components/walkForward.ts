// The walk-forward page's pure parts: the windows' settings the form holds and what it posts, the server's field paths
// as the form's names, and a status turned into the timeline's rows and the per-window metrics table. The server
// validates the windows (Engine/Robustness/WalkForwardPlanner); nothing here re-implements its rules.
import type { OptimizationJob, WalkForwardInSample, WalkForwardJob, WalkForwardStatus, WalkForwardWindowState } from '../api/types';
import { optimizeFieldFor } from './optimizeForm';

/** The windows' settings as the form holds them: lengths as typed ("1y", "6m"); an empty step means "the out-of-sample length". */
export interface WalkForwardValues {
  inSample: string;
  outOfSample: string;
  step: string;
  anchored: boolean;
}

export const DEFAULT_WALK_FORWARD: WalkForwardValues = { inSample: '1y', outOfSample: '6m', step: '', anchored: false };

/** The body of POST /walkforward: the optimization job the Optimize form builds, plus the windows. */
export function toWalkForwardJob(job: OptimizationJob, values: WalkForwardValues | undefined): WalkForwardJob {
  const v = values ?? DEFAULT_WALK_FORWARD;
  const step = (v.step ?? '').trim();
  return {
    ...job,
    validation: { inSample: (v.inSample ?? '').trim(), outOfSample: (v.outOfSample ?? '').trim(), step: step === '' ? null : step, anchored: !!v.anchored },
  };
}

/**
 * The server's field paths as the form's names: the windows' own ("validation.inSample"), then the job's as the
 * Optimize form maps them; a window's in-sample job ("validation.windows[2].baseConfig.endDate") has no field of its own.
 */
export function walkForwardFieldFor(field: string): (string | number)[] | null {
  const own = /^validation\.(inSample|outOfSample|step|anchored)$/.exec(field);
  if (own) return ['walkForward', own[1]];
  if (field.startsWith('validation')) return null;
  return optimizeFieldFor(field);
}

/** One window on the timeline: its in-sample and out-of-sample spans (dates as yyyy-mm-dd), its choice and its state. */
export interface TimelineRow {
  index: number;
  label: string;
  inSample: [string, string];
  outOfSample: [string, string];
  state: WalkForwardWindowState;
  truncated: boolean;
  parameters: string;
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The parameters a window chose, "name=value" in the job's parameter order; "—" before the choice or without one. */
export function parametersText(parameters: Record<string, unknown> | null, order: string[] = []): string {
  if (!parameters) return '—';
  const names = [...order.filter((n) => n in parameters), ...Object.keys(parameters).filter((n) => !order.includes(n))];
  return names.length ? names.map((n) => `${n}=${show(parameters[n])}`).join(', ') : '—';
}

/** The searched parameters of a job, in the order it lists them. */
export const searchedParameters = (status: WalkForwardStatus) => Object.keys(status.config?.parameters ?? {});

/** The timeline's rows: one per window in window order. */
export function timelineRows(status: WalkForwardStatus): TimelineRow[] {
  const order = searchedParameters(status);
  return [...status.windows].sort((a, b) => a.index - b.index).map((w) => ({
    index: w.index,
    label: `Window ${w.index + 1}`,
    inSample: [w.inSampleStart, w.inSampleEnd],
    outOfSample: [w.outOfSampleStart, w.outOfSampleEnd],
    state: w.state,
    truncated: w.truncated,
    parameters: parametersText(w.parameters, order),
  }));
}

/** Windows done (completed or without a feasible trial) out of all of them. */
export function windowsProgress(status: WalkForwardStatus): { done: number; total: number } {
  const done = status.windows.filter((w) => w.state === 'completed' || w.state === 'noFeasibleTrial').length;
  return { done, total: status.windows.length };
}

/** One window's metric in sample (the chosen trial's) and out of sample (its backtest's); null where there is none. */
export interface WindowMetricRow {
  index: number;
  metric: string;
  inSample: number | null;
  outOfSample: number | null;
}

/** Per window and metric, both sides, for the metrics table. */
export function windowMetricRows(status: WalkForwardStatus, metrics: string[]): WindowMetricRow[] {
  return [...status.windows].sort((a, b) => a.index - b.index).flatMap((w) => metrics.map((metric) => ({
    index: w.index,
    metric,
    inSample: w.inSampleMetrics?.[metric] ?? null,
    outOfSample: w.outOfSampleMetrics?.[metric] ?? null,
  })));
}

/** Days since 1970-01-01 of a yyyy-mm-dd date (UTC), the timeline's axis unit. */
export const dayNumber = (date: string) => Math.round(Date.parse(`${date.slice(0, 10)}T00:00:00Z`) / 86_400_000);

/**
 * The timeline as stacked horizontal bars on a day axis: per window an invisible lead up to its in-sample start, the
 * in-sample span, any gap, and the out-of-sample span (both spans inclusive of their end day); the axis runs from
 * the first in-sample start to the last out-of-sample end.
 */
export function timelineBars(rows: TimelineRow[]): { lead: number[]; inSample: number[]; gap: number[]; outOfSample: number[]; min: number; max: number } {
  const lead = rows.map((r) => dayNumber(r.inSample[0]));
  const inSample = rows.map((r) => dayNumber(r.inSample[1]) - dayNumber(r.inSample[0]) + 1);
  const gap = rows.map((r) => Math.max(0, dayNumber(r.outOfSample[0]) - dayNumber(r.inSample[1]) - 1));
  const outOfSample = rows.map((r) => dayNumber(r.outOfSample[1]) - dayNumber(r.outOfSample[0]) + 1);
  const ends = rows.map((r) => dayNumber(r.outOfSample[1]) + 1);
  return { lead, inSample, gap, outOfSample, min: lead.length ? Math.min(...lead) : 0, max: ends.length ? Math.max(...ends) : 1 };
}

/** A day number as yyyy-mm-dd (the inverse of dayNumber). */
export const dateOfDay = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);

/** The equity chart's legend entries: the stitched curve, and one entry for every window's in-sample curve. */
export const STITCHED_SERIES = 'Out of sample (stitched)';
export const IN_SAMPLE_SERIES = 'In sample (chosen trial, rebased)';

/** One line of the equity chart: [yyyy-mm-dd, equity] points; `window` is the window's index for an in-sample line. */
export interface EquityLine {
  name: string;
  window: number | null;
  data: [string, number][];
}

/**
 * The equity chart's lines on one date axis: the stitched out-of-sample curve first, then each window's in-sample curve
 * in window order, all under one legend entry (the server rebased each to end where the stitched curve begins that
 * window's out-of-sample part, so the lines meet there).
 */
export function equityLines(stitched: { date: string; equity: number }[], inSample: WalkForwardInSample | null): EquityLine[] {
  const points = (equity: { date: string; equity: number }[]): [string, number][] => equity.map((p) => [p.date.slice(0, 10), p.equity]);
  return [
    { name: STITCHED_SERIES, window: null, data: points(stitched) },
    ...[...(inSample?.windows ?? [])].sort((a, b) => a.index - b.index).map((w) => ({ name: IN_SAMPLE_SERIES, window: w.index, data: points(w.equity) })),
  ];
}
