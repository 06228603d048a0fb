// The configuration form's values and their mapping to the API: form values <-> BacktestConfig, the defaults (as
// served), the server's validation field paths (e.g. "strategyConfig.fastPeriod", "instruments[2]") -> form field
// names, and the data available for the date range presets.
import dayjs, { type Dayjs } from 'dayjs';
import type { BacktestConfig, ConfigurationOptions, InstrumentInfo, ParameterSchema, Priority, StrategyTemplate } from '../api/types';
import { servedOptions } from './configuration/servedOptions';

export const DATE_FORMAT = 'YYYY-MM-DD';

export type FormValues = Omit<BacktestConfig, 'startDate' | 'endDate'> & {
  dateRange: [Dayjs, Dayjs] | null;
  priority: Priority;
};

/**
 * The settings' defaults, as the API serves them (the engine's BacktestConfig defaults, the start request's priority);
 * the strategy, its parameters, the dates and the instruments are the form's to choose.
 */
export function defaultSettings(
  options: ConfigurationOptions | null = servedOptions(),
): Omit<FormValues, 'strategyClass' | 'strategyConfig' | 'dateRange' | 'instruments'> {
  if (!options) throw new Error('the configuration options have not been loaded from the API');
  const { strategyClass: _s, strategyConfig: _c, startDate: _b, endDate: _e, instruments: _i, benchmark, ...settings } =
    structuredClone(options.defaults);
  // The benchmark field's empty choice is "First instrument", which the API writes as null.
  return { ...settings, benchmark: benchmark ?? '', priority: options.defaultPriority };
}

/** The schema's defaults for a strategy's parameters. */
export function parameterDefaults(parameters: ParameterSchema[]): Record<string, unknown> {
  return Object.fromEntries(parameters.map((p) => [p.name, p.default ?? (p.type === 'boolean' ? false : undefined)]));
}

export function toConfig(values: FormValues, strategy: StrategyTemplate | undefined): BacktestConfig {
  const { dateRange, priority: _priority, benchmark, ...rest } = values;
  // Only the strategy's own parameters are sent; empty optional ones are left to the strategy's defaults.
  const known = new Set(strategy?.parameters.map((p) => p.name) ?? Object.keys(values.strategyConfig ?? {}));
  const strategyConfig = Object.fromEntries(
    Object.entries(values.strategyConfig ?? {}).filter(([k, v]) => known.has(k) && v !== undefined && v !== null && v !== ''),
  );
  return {
    ...rest,
    strategyConfig,
    startDate: dateRange ? dateRange[0].format(DATE_FORMAT) : '',
    endDate: dateRange ? dateRange[1].format(DATE_FORMAT) : '',
    benchmark: benchmark ? benchmark : null,
  };
}

/** The form field that shows a server error for a config field path; null for a path the form has no field for. */
export function formNameFor(field: string): (string | number)[] | null {
  if (field === 'startDate' || field === 'endDate') return ['dateRange'];
  const list = /^(instruments|venues)\[\d+\]$/.exec(field);
  if (list) return [list[1]];
  if (!field || field === '$') return null;
  return field.split('.');
}

/** The last date for which every chosen instrument has data at the resolution (today when nothing is chosen). */
export function availableEnd(instruments: InstrumentInfo[], chosen: string[], resolution: string): Dayjs {
  const ranges = chosen
    .map((id) => availabilityOf(instruments.find((i) => i.id === id), resolution))
    .filter((r): r is { first: string; last: string } => !!r);
  if (!ranges.length) return dayjs().startOf('day');
  return dayjs(ranges.map((r) => r.last).sort()[0]);
}

export function availabilityOf(instrument: InstrumentInfo | undefined, resolution: string) {
  if (!instrument?.availability) return null;
  const a = instrument.availability;
  return a[resolution] ?? a[`${resolution}/bars`] ?? a[`${resolution}/ticks`] ?? null;
}

/**
 * The last end date the cluster admits for a start date: the start plus the served number of calendar years (29 February
 * plus one year is 28 February, as the server counts); null when the cluster has no limit.
 */
export function latestEnd(start: Dayjs, maxDurationYears: number | null): Dayjs | null {
  return maxDurationYears === null ? null : start.add(maxDurationYears, 'year');
}

/** What the date range's help says about the cluster's limit. */
export function durationLimitText(maxDurationYears: number | null): string {
  if (maxDurationYears === null) return 'The cluster sets no limit on the range.';
  const years = `${maxDurationYears} ${maxDurationYears === 1 ? 'year' : 'years'}`;
  return `The cluster admits at most ${years}: the end on or before the start plus ${years}.`;
}

export const PRESETS: { label: string; months: number }[] = [
  { label: '1M', months: 1 },
  { label: '3M', months: 3 },
  { label: '6M', months: 6 },
  { label: '1Y', months: 12 },
  { label: '2Y', months: 24 },
];

export function presetRange(end: Dayjs, months: number): [Dayjs, Dayjs] {
  return [end.subtract(months, 'month'), end];
}
