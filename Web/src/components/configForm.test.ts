import { describe, expect, it } from 'vitest';
import dayjs from 'dayjs';
import { availableEnd, defaultSettings, durationLimitText, formNameFor, latestEnd, parameterDefaults, presetRange, toConfig } from './configForm';
import { INSTRUMENTS, STRATEGIES } from '../test/fixtures';

describe('configForm', () => {
  it('maps the server\'s field paths to form fields', () => {
    expect(formNameFor('strategyConfig.fastPeriod')).toEqual(['strategyConfig', 'fastPeriod']);
    expect(formNameFor('instruments[3]')).toEqual(['instruments']);
    expect(formNameFor('venues[0]')).toEqual(['venues']);
    expect(formNameFor('startDate')).toEqual(['dateRange']);
    expect(formNameFor('executionSettings.commission.rate')).toEqual(['executionSettings', 'commission', 'rate']);
    expect(formNameFor('$')).toBeNull();
  });

  it('takes parameter defaults from the schema', () => {
    expect(parameterDefaults(STRATEGIES[0].parameters)).toEqual({ fastPeriod: 10, slowPeriod: 30, maType: 'SMA', allowShort: false });
  });

  it('sends only the chosen strategy\'s parameters and leaves empty optional ones out', () => {
    const config = toConfig({
      ...defaultSettings(), strategyClass: 'BollingerBands', instruments: ['SPY.ARCA'],
      strategyConfig: { period: 20, stdDevs: null, fastPeriod: 10 },
      dateRange: [dayjs('2020-01-01'), dayjs('2020-06-30')],
    }, STRATEGIES[1]);
    expect(config.strategyConfig).toEqual({ period: 20 });
    expect(config.startDate).toBe('2020-01-01');
    expect(config.endDate).toBe('2020-06-30');
  });

  it('ends range presets at the last date with data for every chosen instrument', () => {
    const end = availableEnd(INSTRUMENTS, ['SPY.ARCA', 'AAPL.NASDAQ'], 'hour');
    expect(end.format('YYYY-MM-DD')).toBe('2013-10-11');
    const [from, to] = presetRange(availableEnd(INSTRUMENTS, ['SPY.ARCA'], 'daily'), 12);
    expect(from.format('YYYY-MM-DD')).toBe('2020-03-31');
    expect(to.format('YYYY-MM-DD')).toBe('2021-03-31');
  });
});

describe('the cluster\'s longest range, as served', () => {
  it('ends on the start plus the served years, 29 February plus one year on 28 February as the server counts', () => {
    for (const years of [1, 2, 5, 8]) {
      expect(latestEnd(dayjs('2010-01-04'), years)!.format('YYYY-MM-DD')).toBe(`${2010 + years}-01-04`);
    }
    expect(latestEnd(dayjs('2012-02-29'), 1)!.format('YYYY-MM-DD')).toBe('2013-02-28');
    expect(latestEnd(dayjs('2012-02-29'), 2)!.format('YYYY-MM-DD')).toBe('2014-02-28');
    expect(latestEnd(dayjs('2012-02-29'), 4)!.format('YYYY-MM-DD')).toBe('2016-02-29');
    expect(latestEnd(dayjs('2012-02-29'), null)).toBeNull();
  });

  it('says the served limit in the date range\'s help, or that there is none', () => {
    expect(durationLimitText(8)).toBe('The cluster admits at most 8 years: the end on or before the start plus 8 years.');
    expect(durationLimitText(1)).toBe('The cluster admits at most 1 year: the end on or before the start plus 1 year.');
    expect(durationLimitText(null)).toBe('The cluster sets no limit on the range.');
  });
});
