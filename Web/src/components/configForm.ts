// The configuration form's values and their mapping to the API: form values <-> BacktestConfig, and the
// server's validation field paths (e.g. "strategyConfig.fastPeriod", "instruments[2]") -> form field names.
import dayjs, { type Dayjs } from 'dayjs';
import type { BacktestConfig, InstrumentInfo, ParameterSchema, Priority, StrategyTemplate } from '../api/types';

export const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF'];
export const RESOLUTIONS = ['daily', 'hour', 'minute', 'tick'];
export const DATA_TYPES = ['bars', 'ticks'];
export const ADJUSTMENTS = ['raw', 'split', 'splitDividend'];
export const FILL_MODELS = ['nextBarOpen', 'sameBarClose', 'nextTick'];
export const SLIPPAGE_MODELS = ['none', 'fixedBps', 'fixedTicks', 'volumeShare'];
export const COMMISSION_MODELS = ['none', 'percent', 'fixed', 'perShare'];
export const SIZING_MODES = ['fixedQuantity', 'fixedNotional', 'percentEquity', 'volatilityTarget'];
export const DATE_FORMAT = 'YYYY-MM-DD';

export type FormValues = Omit<BacktestConfig, 'startDate' | 'endDate'> & {
  dateRange: [Dayjs, Dayjs] | null;
  priority: Priority;
};

/** The settings' defaults, as in Engine/Configuration/BacktestConfig.cs and docs/configuration.md. */
export function defaultSettings(): Omit<FormValues, 'strategyClass' | 'strategyConfig' | 'dateRange' | 'instruments'> {
  return {
    venues: [],
    initialBalance: 100_000,
    baseCurrency: 'USD',
    accountType: 'cash',
    riskFreeRate: 0,
    benchmark: '',
    priority: 'normal',
    dataConfiguration: {
      resolution: 'daily',
      dataType: 'bars',
      adjustment: 'splitDividend',
      qualityFilters: { dropInvalid: true, dropZeroVolume: false, spikeThreshold: 0, reportGaps: true },
      warmup: 0,
      extendedHours: false,
      fxCarryForward: false,
    },
    executionSettings: {
      fillModel: 'nextBarOpen',
      slippage: { model: 'none', bps: 0, ticks: 0, impact: 0.1 },
      commission: { model: 'none', rate: 0, amount: 0, perShare: 0, minimum: 0, maximumPercent: 0 },
      maxVolumeParticipation: 0,
    },
    riskSettings: {
      positionSizing: { mode: 'percentEquity', quantity: 100, notional: 10_000, percent: 0.95, riskPercent: 0.01, atrPeriod: 14 },
      limits: { maxPositionQuantity: 0, maxPositionPercent: 0, maxOpenPositions: 0 },
      stops: { stopLossPercent: 0, takeProfitPercent: 0 },
      maxLeverage: 1,
      drawdownHalt: 0,
    },
  };
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
