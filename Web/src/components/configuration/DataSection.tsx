// What the backtest reads: the date range (with presets that end at the last date with data for the chosen
// instruments, and the cluster's longest range as served), the venues and the instruments (each showing the data
// available at the chosen resolution).
import { useMemo } from 'react';
import { Button, Col, DatePicker, Form, Row, Select, Space, Typography } from 'antd';
import dayjs from 'dayjs';
import type { InstrumentInfo } from '../../api/types';
import {
  DATE_FORMAT, PRESETS, availabilityOf, availableEnd, durationLimitText, latestEnd, presetRange, type FormValues,
} from '../configForm';
import { options } from './fields';

export function DataSection({ instruments, defaultResolution, maxDurationYears }: {
  instruments: InstrumentInfo[];
  defaultResolution: string;
  /** The cluster's longest range in years, as served (null: no limit); the server still judges every range. */
  maxDurationYears: number | null;
}) {
  const form = Form.useFormInstance<FormValues>();
  const chosenVenues = Form.useWatch('venues', form) ?? [];
  const chosenInstruments = Form.useWatch('instruments', form) ?? [];
  const resolution = Form.useWatch(['dataConfiguration', 'resolution'], form) ?? defaultResolution;
  const dateRange = Form.useWatch('dateRange', form);

  const venues = useMemo(() => [...new Set(instruments.map((i) => i.venue))].sort(), [instruments]);
  const dataEnd = availableEnd(instruments, chosenInstruments, resolution);

  const instrumentOptions = useMemo(() => {
    const start = dateRange?.[0]?.format(DATE_FORMAT);
    const end = dateRange?.[1]?.format(DATE_FORMAT);
    return instruments
      .filter((i) => !chosenVenues.length || chosenVenues.includes(i.venue))
      .map((i) => {
        const range = availabilityOf(i, resolution);
        const inRange = !!range && (!start || !end || (range.first <= end && range.last >= start));
        const text = range ? `${resolution} ${range.first} → ${range.last}` : `no ${resolution} data`;
        return {
          value: i.id,
          searchText: `${i.id} ${i.symbol}`,
          label: (
            <span data-testid={`instrument-option-${i.id}`}>
              {i.id}{' '}
              <Typography.Text type={inRange ? 'secondary' : 'warning'} style={{ fontSize: 12 }}>
                {text}{range && !inRange ? ' (none in the chosen range)' : ''}
              </Typography.Text>
            </span>
          ),
        };
      });
  }, [instruments, chosenVenues, resolution, dateRange]);

  const applyRangePreset = (months: number) => {
    form.setFieldValue('dateRange', presetRange(dataEnd, months));
    form.setFields([{ name: ['dateRange'], errors: [] }]);
  };

  return (
    <>
      <Typography.Title level={5}>Data range and instruments</Typography.Title>
      <Row gutter={16}>
        <Col xs={24} md={10}>
          <Form.Item name="dateRange" label="Date range" htmlFor="field-dateRange"
            rules={[{ required: true, message: 'choose a start and an end date' }]}
            extra={`Presets end at ${dataEnd.format(DATE_FORMAT)}, the last date with ${resolution} data for the chosen instruments. ${durationLimitText(maxDurationYears)}`}>
            <DatePicker.RangePicker
              id={{ start: 'field-dateRange', end: 'field-dateRange-end' }}
              aria-label="Date range"
              style={{ width: '100%' }}
              allowEmpty={[false, false]}
              format={DATE_FORMAT}
              presets={PRESETS.map((p) => ({ label: p.label, value: presetRange(dataEnd, p.months) }))}
              disabledDate={(d, info) => d.isAfter(dayjs(), 'day') || beyondLimit(d, info?.from, maxDurationYears)}
            />
          </Form.Item>
          <Space size={4} style={{ marginTop: -12, marginBottom: 12 }} role="group" aria-label="Date range presets">
            {PRESETS.map((p) => (
              <Button key={p.label} size="small" onClick={() => applyRangePreset(p.months)}>{p.label}</Button>
            ))}
          </Space>
        </Col>
        <Col xs={24} md={6}>
          <Form.Item name="venues" label="Venues" htmlFor="field-venues" extra="Optional: narrows the instruments.">
            <Select id="field-venues" aria-label="Venues" mode="multiple" allowClear options={options(venues)} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="instruments" label="Instruments" htmlFor="field-instruments"
            rules={[{ required: true, message: 'choose at least one instrument' }]}
            extra={`${instrumentOptions.length} instruments; each shows the ${resolution} data available.`}>
            <Select
              id="field-instruments"
              aria-label="Instruments"
              mode="multiple"
              allowClear
              showSearch
              optionFilterProp="searchText"
              options={instrumentOptions}
            />
          </Form.Item>
        </Col>
      </Row>
    </>
  );
}

/** Once one end of the range is picked, the days the other end cannot take: more than the limit away from it. */
function beyondLimit(day: dayjs.Dayjs, from: dayjs.Dayjs | undefined, maxDurationYears: number | null): boolean {
  if (!from) return false;
  const later = day.isAfter(from, 'day');
  const [start, end] = later ? [from, day] : [day, from];
  const last = latestEnd(start, maxDurationYears);
  return last !== null && end.isAfter(last, 'day');
}
