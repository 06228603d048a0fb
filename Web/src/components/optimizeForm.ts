// The Optimize form's values and what it posts: per strategy parameter a mode (fixed, range or list) with its
// defaults from the schema, and the job built from them over the base config the backtest form builds (configForm).
// The server validates the job (Engine/Optimization/OptimizationValidator.cs); nothing here re-implements its rules.
import type {
  BacktestConfig, ConstraintOp, Direction, OptimizationJob, OptimizationMethod, ParameterSchema, ParameterSpec, Priority, StrategyTemplate,
} from '../api/types';
import { toConfig, type FormValues } from './configForm';

export type ParameterMode = 'fixed' | 'range' | 'list';

/** One parameter as the form holds it; the list is the text the user typed, comma-separated. */
export interface ParameterChoice {
  mode: ParameterMode;
  value?: unknown;
  min?: number;
  max?: number;
  step?: number;
  list?: string;
}

export interface OptimizeValues {
  name: string;
  parameters: Record<string, ParameterChoice>;
  method: OptimizationMethod;
  maxTrials: number | null;
  seed: number;
  objectiveMetric: string;
  direction: Direction;
  constraints: { metric: string; op: ConstraintOp; value: number }[];
}

/** Whether a parameter can be searched over a range (numbers only; booleans and words take a value or a list). */
export const rangeable = (p: ParameterSchema) => p.type === 'integer' || p.type === 'number';

/**
 * The range a parameter starts with: around its default (half to twice it) within the schema's bounds, in about ten
 * steps (whole steps for integers); the schema's bounds when there is no default.
 */
export function defaultRange(p: ParameterSchema): { min: number; max: number; step: number } {
  const lo = p.min ?? -Infinity;
  const hi = p.max ?? Infinity;
  const base = typeof p.default === 'number' ? p.default : null;
  let min = base !== null ? Math.max(lo, base / 2) : Number.isFinite(lo) ? lo : 0;
  let max = base !== null ? Math.min(hi, base === 0 ? 1 : base * 2) : Number.isFinite(hi) ? hi : min + 10;
  if (p.type === 'integer') {
    min = Math.ceil(min);
    max = Math.floor(max);
  }
  if (max < min) max = min;
  const span = max - min;
  const step = p.type === 'integer' ? Math.max(1, Math.round(span / 10)) : span > 0 ? Number((span / 10).toPrecision(6)) : 1;
  return { min, max, step };
}

/** A parameter's first choice: a range for numbers (defaulting from the schema), its default value otherwise. */
export function defaultChoice(p: ParameterSchema): ParameterChoice {
  if (rangeable(p)) return { mode: 'range', ...defaultRange(p), value: p.default ?? undefined };
  return { mode: 'fixed', value: p.default ?? (p.type === 'boolean' ? false : p.allowed?.[0]) };
}

/** A list typed as text: numbers for numeric parameters, true/false for booleans, words otherwise; blanks dropped. */
export function parseList(text: string, p: ParameterSchema): (string | number | boolean)[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    if (rangeable(p)) {
      const n = Number(s);
      return Number.isFinite(n) ? n : s; // a word stays a word: the server names it
    }
    if (p.type === 'boolean') return s === 'true' ? true : s === 'false' ? false : s;
    return s;
  });
}

/** What one parameter's choice posts; undefined leaves it to the base config (a fixed value left empty). */
export function parameterSpec(choice: ParameterChoice, p: ParameterSchema): ParameterSpec | undefined {
  switch (choice.mode) {
    case 'range': {
      const spec: { min: number; max: number; step?: number } = { min: Number(choice.min), max: Number(choice.max) };
      if (choice.step !== undefined && choice.step !== null && (choice.step as unknown) !== '') spec.step = Number(choice.step);
      return spec;
    }
    case 'list':
      return { values: parseList(choice.list ?? '', p) };
    default:
      return choice.value === undefined || choice.value === null || choice.value === '' ? undefined : (choice.value as ParameterSpec);
  }
}

/**
 * The base config from the Optimize form's values: the backtest form's fields as that form maps them (configForm),
 * without the job's own fields, and with no strategy parameters (they all come from the space).
 */
export function baseConfigOf(values: FormValues & OptimizeValues, strategy: StrategyTemplate | undefined): BacktestConfig {
  const {
    name: _name, parameters: _parameters, method: _method, maxTrials: _maxTrials, seed: _seed, objectiveMetric: _metric, direction: _direction,
    constraints: _constraints, ...backtest
  } = values;
  return toConfig({ ...backtest, strategyConfig: {} }, strategy);
}

/** The job the form posts (to /plan and to start): the base config with the strategy's parameters as chosen. */
export function toJob(values: OptimizeValues, baseConfig: BacktestConfig, schema: ParameterSchema[], priority: Priority,
  strategyVersion?: number | null): OptimizationJob {
  const parameters: Record<string, ParameterSpec> = {};
  for (const p of schema) {
    const choice = values.parameters?.[p.name];
    if (!choice) continue;
    const spec = parameterSpec(choice, p);
    if (spec !== undefined) parameters[p.name] = spec;
  }
  // Searched parameters come from the space: the base config keeps only what is not searched.
  const strategyConfig = Object.fromEntries(Object.entries(baseConfig.strategyConfig ?? {}).filter(([k]) => !(k in parameters)));
  return {
    name: values.name?.trim() || `${baseConfig.strategyClass} ${values.method}`,
    baseConfig: { ...baseConfig, strategyConfig },
    parameters,
    method: values.method,
    maxTrials: values.maxTrials === undefined || values.maxTrials === null || (values.maxTrials as unknown) === '' ? null : Number(values.maxTrials),
    objective: { metric: values.objectiveMetric, direction: values.direction },
    constraints: (values.constraints ?? []).filter((c) => c && c.metric && c.op && c.value !== undefined && c.value !== null)
      .map((c) => ({ metric: c.metric, op: c.op, value: Number(c.value) })),
    target: null,
    seed: Number(values.seed ?? 0),
    priority,
    // A custom strategy is pinned to the version whose schema built the form, as the server would pin its latest.
    ...(typeof strategyVersion === 'number' ? { strategyVersion } : {}),
  };
}

/**
 * The time a job should take at a rate measured on this cluster (a finished job's trials per second, remembered
 * by the job page); null when no rate has been measured yet.
 */
export function estimateSeconds(trialsPlanned: number, trialsPerSecond: number | null): number | null {
  if (!trialsPerSecond || trialsPerSecond <= 0 || !Number.isFinite(trialsPerSecond)) return null;
  return trialsPlanned / trialsPerSecond;
}

const RATE_KEY = 'backtesting.optimization.trialsPerSecond';

/** The last rate a job page saw for a finished job (per strategy), kept in this browser. */
export function rememberedRate(strategy: string): number | null {
  try {
    const all = JSON.parse(localStorage.getItem(RATE_KEY) ?? '{}') as Record<string, number>;
    return typeof all[strategy] === 'number' ? all[strategy] : null;
  } catch {
    return null;
  }
}

export function rememberRate(strategy: string, trialsPerSecond: number) {
  if (!(trialsPerSecond > 0)) return;
  try {
    const all = JSON.parse(localStorage.getItem(RATE_KEY) ?? '{}') as Record<string, number>;
    all[strategy] = trialsPerSecond;
    localStorage.setItem(RATE_KEY, JSON.stringify(all));
  } catch {
    // storage unavailable: the estimate just stays unknown
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The server's field paths for the job ("parameters.slowPeriod.max", "baseConfig.endDate") as the form's field names. */
export function optimizeFieldFor(field: string): (string | number)[] | null {
  const parameter = /^parameters\.([^.[\]]+)(?:\.(min|max|step|values))?/.exec(field);
  if (parameter) {
    const part = parameter[2] === 'values' ? 'list' : parameter[2] ?? 'value';
    return ['parameters', parameter[1], part];
  }
  if (field === 'objective.metric') return ['objectiveMetric'];
  if (field === 'objective.direction') return ['direction'];
  const constraint = /^constraints\[(\d+)\]\.(metric|op|value)$/.exec(field);
  if (constraint) return ['constraints', Number(constraint[1]), constraint[2]];
  if (['name', 'method', 'maxTrials', 'seed'].includes(field)) return [field];
  return null;
}
