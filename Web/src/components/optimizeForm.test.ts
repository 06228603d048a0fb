import { describe, expect, it } from 'vitest';
import type { BacktestConfig, ParameterSchema } from '../api/types';
import { STRATEGIES } from '../test/fixtures';
import dayjs from 'dayjs';
import type { FormValues } from './configForm';
import {
  baseConfigOf, defaultChoice, defaultRange, estimateSeconds, optimizeFieldFor, parameterSpec, parseList, toJob, type OptimizeValues, type ParameterChoice,
} from './optimizeForm';

const MA = STRATEGIES[0].parameters;
const BB = STRATEGIES[1].parameters;
const param = (schema: ParameterSchema[], name: string) => schema.find((p) => p.name === name)!;

const base: BacktestConfig = {
  strategyClass: 'MovingAverageCross', strategyConfig: {}, startDate: '2019-01-01', endDate: '2020-12-31', instruments: ['SPY.ARCA'],
  initialBalance: 100000, baseCurrency: 'USD',
} as unknown as BacktestConfig;

const values = (parameters: Record<string, ParameterChoice>, change: Partial<OptimizeValues> = {}): OptimizeValues => ({
  name: 'job', parameters, method: 'grid', maxTrials: null, seed: 42, objectiveMetric: 'sharpeRatio', direction: 'maximize', constraints: [],
  ...change,
});

describe('the default choice of each parameter type', () => {
  it('gives integers a whole-stepped range around the default, within the schema', () => {
    expect(defaultRange(param(MA, 'fastPeriod'))).toEqual({ min: 5, max: 20, step: 2 });
    expect(defaultRange(param(MA, 'slowPeriod'))).toEqual({ min: 15, max: 60, step: 5 });
    expect(defaultChoice(param(MA, 'fastPeriod')).mode).toBe('range');
  });

  it('gives numbers about ten steps between half and twice the default', () => {
    expect(defaultRange(param(BB, 'stdDevs'))).toEqual({ min: 1, max: 4, step: 0.3 });
  });

  it('clamps to the schema bounds and never inverts the range', () => {
    const p: ParameterSchema = { name: 'p', type: 'integer', required: true, default: 3, min: 2, max: 4, description: '', allowed: null };
    expect(defaultRange(p)).toEqual({ min: 2, max: 4, step: 1 });
    const zero: ParameterSchema = { name: 'z', type: 'number', required: false, default: 0, min: 0, max: 100, description: '', allowed: null };
    expect(defaultRange(zero)).toEqual({ min: 0, max: 1, step: 0.1 });
    const unbounded: ParameterSchema = { name: 'u', type: 'integer', required: false, default: null, min: null, max: null, description: '', allowed: null };
    const r = defaultRange(unbounded);
    expect(r.min).toBeLessThanOrEqual(r.max);
  });

  it('gives words and booleans their default as a fixed value', () => {
    expect(defaultChoice(param(MA, 'maType'))).toEqual({ mode: 'fixed', value: 'SMA' });
    expect(defaultChoice(param(MA, 'allowShort'))).toEqual({ mode: 'fixed', value: false });
  });
});

describe('what the form posts for each parameter mode', () => {
  it('posts a fixed value as the value itself', () => {
    expect(parameterSpec({ mode: 'fixed', value: 12 }, param(MA, 'fastPeriod'))).toBe(12);
    expect(parameterSpec({ mode: 'fixed', value: 'EMA' }, param(MA, 'maType'))).toBe('EMA');
    expect(parameterSpec({ mode: 'fixed', value: false }, param(MA, 'allowShort'))).toBe(false);
  });

  it('leaves an empty fixed value to the base config', () => {
    expect(parameterSpec({ mode: 'fixed', value: undefined }, param(MA, 'fastPeriod'))).toBeUndefined();
    expect(parameterSpec({ mode: 'fixed', value: '' }, param(MA, 'maType'))).toBeUndefined();
  });

  it('posts a range as min, max and step, and no step when none is given', () => {
    expect(parameterSpec({ mode: 'range', min: 5, max: 50, step: 5 }, param(MA, 'fastPeriod'))).toEqual({ min: 5, max: 50, step: 5 });
    expect(parameterSpec({ mode: 'range', min: 0.5, max: 3 }, param(BB, 'stdDevs'))).toEqual({ min: 0.5, max: 3 });
  });

  it('posts a list as values typed by the parameter, keeping order and dropping blanks', () => {
    expect(parameterSpec({ mode: 'list', list: '50, 30,40,,' }, param(MA, 'slowPeriod'))).toEqual({ values: [50, 30, 40] });
    expect(parameterSpec({ mode: 'list', list: 'SMA, EMA' }, param(MA, 'maType'))).toEqual({ values: ['SMA', 'EMA'] });
    expect(parameterSpec({ mode: 'list', list: 'true,false' }, param(MA, 'allowShort'))).toEqual({ values: [true, false] });
  });

  it('keeps a word typed into a numeric list as a word, for the server to name', () => {
    expect(parseList('10, ten', param(MA, 'fastPeriod'))).toEqual([10, 'ten']);
  });
});

describe('the job', () => {
  it('puts every parameter in the space and none in the base config, with the search settings', () => {
    const job = toJob(values({
      fastPeriod: { mode: 'range', min: 5, max: 15, step: 5 },
      slowPeriod: { mode: 'list', list: '30, 40' },
      maType: { mode: 'fixed', value: 'EMA' },
      allowShort: { mode: 'fixed', value: undefined },
    }, { constraints: [{ metric: 'maxDrawdown', op: '>=', value: -0.2 }] }), { ...base, strategyConfig: { fastPeriod: 10 } }, MA, 'high');
    expect(job).toEqual({
      name: 'job',
      baseConfig: { ...base, strategyConfig: {} },
      parameters: { fastPeriod: { min: 5, max: 15, step: 5 }, slowPeriod: { values: [30, 40] }, maType: 'EMA' },
      method: 'grid',
      maxTrials: null,
      objective: { metric: 'sharpeRatio', direction: 'maximize' },
      constraints: [{ metric: 'maxDrawdown', op: '>=', value: -0.2 }],
      target: null,
      seed: 42,
      priority: 'high',
    });
  });

  it('names an unnamed job after its strategy and method, and sends maxTrials and the seed as numbers', () => {
    const job = toJob(values({}, { name: '  ', method: 'tpe', maxTrials: '25' as unknown as number, seed: '7' as unknown as number }), base, MA, 'normal');
    expect(job.name).toBe('MovingAverageCross tpe');
    expect(job.maxTrials).toBe(25);
    expect(job.seed).toBe(7);
  });

  it('pins a custom strategy\'s version when given one, and sends no version for a template', () => {
    for (const version of [1, 2, 17]) {
      expect(toJob(values({}), base, MA, 'normal', version).strategyVersion).toBe(version);
    }
    for (const none of [null, undefined]) {
      const job = toJob(values({}), base, MA, 'normal', none);
      expect('strategyVersion' in job).toBe(false);
      expect(JSON.parse(JSON.stringify(job))).not.toHaveProperty('strategyVersion');
    }
  });

  it('drops unfinished constraint rows', () => {
    const job = toJob(values({}, { constraints: [{ metric: '', op: '>=', value: 1 }, { metric: 'totalTrades', op: '>', value: 10 }] }), base, MA, 'normal');
    expect(job.constraints).toEqual([{ metric: 'totalTrades', op: '>', value: 10 }]);
  });
});

describe('the base config', () => {
  it('holds the backtest form\'s fields only: none of the job\'s, and no strategy parameters', () => {
    const form = {
      strategyClass: 'MovingAverageCross', strategyConfig: { fastPeriod: 10 }, instruments: ['SPY.ARCA'], initialBalance: 100000,
      baseCurrency: 'USD', benchmark: '', priority: 'normal', dateRange: [dayjs('2019-01-01'), dayjs('2020-12-31')],
      ...values({ fastPeriod: { mode: 'range', min: 5, max: 15, step: 5 } }, { constraints: [{ metric: 'totalTrades', op: '>', value: 1 }] }),
    } as unknown as FormValues & OptimizeValues;
    expect(baseConfigOf(form, STRATEGIES[0])).toEqual({
      strategyClass: 'MovingAverageCross', strategyConfig: {}, instruments: ['SPY.ARCA'], initialBalance: 100000, baseCurrency: 'USD',
      benchmark: null, startDate: '2019-01-01', endDate: '2020-12-31',
    });
  });
});

describe('the time estimate and the server field paths', () => {
  it('divides the planned trials by a measured rate, and has none without one', () => {
    expect(estimateSeconds(120, 4)).toBe(30);
    expect(estimateSeconds(120, null)).toBeNull();
    expect(estimateSeconds(120, 0)).toBeNull();
  });

  it('places each job error on the field that shows it', () => {
    expect(optimizeFieldFor('parameters.slowPeriod.max')).toEqual(['parameters', 'slowPeriod', 'max']);
    expect(optimizeFieldFor('parameters.fastPeriod.values[1]')).toEqual(['parameters', 'fastPeriod', 'list']);
    expect(optimizeFieldFor('parameters.maType')).toEqual(['parameters', 'maType', 'value']);
    expect(optimizeFieldFor('objective.metric')).toEqual(['objectiveMetric']);
    expect(optimizeFieldFor('constraints[2].op')).toEqual(['constraints', 2, 'op']);
    expect(optimizeFieldFor('maxTrials')).toEqual(['maxTrials']);
    expect(optimizeFieldFor('parameters')).toBeNull();
  });
});
