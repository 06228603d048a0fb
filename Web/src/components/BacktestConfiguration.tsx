// Sets up a backtest: dates with presets, strategy and its schema-driven parameters, venues and instruments
// with their data availability, capital, and the data, execution and risk settings. The server validates
// (the one validation module); its messages are shown on the fields they name.
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  Alert, Button, Card, Col, Collapse, DatePicker, Descriptions, Form, Input, InputNumber, Modal, Row, Select, Space,
  Switch, Tag, Typography, message,
} from 'antd';
import dayjs from 'dayjs';
import { ApiError } from '../api/client';
import { PRIORITIES, type BacktestConfig, type InstrumentInfo, type Priority, type StrategyTemplate } from '../api/types';
import { StrategyParameterFields } from './StrategyParameterFields';
import {
  ADJUSTMENTS, COMMISSION_MODELS, CURRENCIES, DATA_TYPES, DATE_FORMAT, FILL_MODELS, PRESETS, RESOLUTIONS,
  SIZING_MODES, SLIPPAGE_MODELS, availabilityOf, availableEnd, defaultSettings, formNameFor, parameterDefaults,
  presetRange, toConfig, type FormValues,
} from './configForm';

export interface BacktestConfigurationProps {
  strategies: StrategyTemplate[];
  instruments: InstrumentInfo[];
  /** Starts the run; rejects with an ApiError whose field errors are shown on the form. */
  onSubmit(config: BacktestConfig, priority: Priority): Promise<void>;
  /** Values to start from (e.g. to run a finished backtest again); the rest are the defaults. */
  initial?: Partial<FormValues>;
}

interface SavedPreset { name: string; values: Partial<FormValues> }
const presetKey = (strategy: string) => `backtesting.presets.${strategy}`;
const loadPresets = (strategy: string): SavedPreset[] => {
  try {
    return JSON.parse(localStorage.getItem(presetKey(strategy)) ?? '[]');
  } catch {
    return [];
  }
};

const options = (values: string[]) => values.map((v) => ({ value: v, label: v }));

/** A labelled number field whose input is reachable by its label (for people and for tests). */
function NumberField({ name, label, help, min, max, step }: {
  name: (string | number)[]; label: string; help?: string; min?: number; max?: number; step?: number;
}) {
  const id = `field-${name.join('-')}`;
  return (
    <Form.Item name={name} label={label} htmlFor={id} extra={help}>
      <InputNumber id={id} aria-label={label} style={{ width: '100%' }} min={min} max={max} step={step} />
    </Form.Item>
  );
}

function SelectField({ name, label, values, help }: { name: (string | number)[]; label: string; values: string[]; help?: string }) {
  const id = `field-${name.join('-')}`;
  return (
    <Form.Item name={name} label={label} htmlFor={id} extra={help}>
      <Select id={id} aria-label={label} options={options(values)} />
    </Form.Item>
  );
}

function SwitchField({ name, label }: { name: (string | number)[]; label: string }) {
  const id = `field-${name.join('-')}`;
  return (
    <Form.Item name={name} label={label} htmlFor={id} valuePropName="checked">
      <Switch id={id} aria-label={label} />
    </Form.Item>
  );
}

export function BacktestConfiguration({ strategies, instruments, onSubmit, initial }: BacktestConfigurationProps) {
  const [form] = Form.useForm<FormValues>();
  const [serverErrors, setServerErrors] = useState<{ field: string; message: string }[]>([]);
  const [pending, setPending] = useState<{ config: BacktestConfig; priority: Priority } | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [presetName, setPresetName] = useState('');
  const [presetsVersion, setPresetsVersion] = useState(0);

  const strategyClass = Form.useWatch('strategyClass', form);
  const chosenVenues = Form.useWatch('venues', form) ?? [];
  const chosenInstruments = Form.useWatch('instruments', form) ?? [];
  const resolution = Form.useWatch(['dataConfiguration', 'resolution'], form) ?? 'daily';
  const dateRange = Form.useWatch('dateRange', form);
  const sizingMode = Form.useWatch(['riskSettings', 'positionSizing', 'mode'], form);
  const commissionModel = Form.useWatch(['executionSettings', 'commission', 'model'], form);
  const slippageModel = Form.useWatch(['executionSettings', 'slippage', 'model'], form);

  const strategy = strategies.find((s) => s.name === strategyClass);
  const savedPresets = useMemo(() => (strategyClass ? loadPresets(strategyClass) : []),
    [strategyClass, presetsVersion]);

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

  // A new strategy brings its own parameters, with the schema's defaults.
  const firstStrategy = useRef(initial?.strategyClass);
  useEffect(() => {
    if (!strategy) return;
    if (firstStrategy.current === strategy.name && initial?.strategyConfig) {
      firstStrategy.current = undefined;
      return;
    }
    firstStrategy.current = undefined;
    form.setFieldsValue({ strategyConfig: parameterDefaults(strategy.parameters) } as never);
  }, [strategy, form, initial]);

  useEffect(() => {
    if (!form.getFieldValue('strategyClass') && strategies.length) form.setFieldValue('strategyClass', strategies[0].name);
  }, [strategies, form]);

  const applyRangePreset = (months: number) => {
    form.setFieldValue('dateRange', presetRange(dataEnd, months));
    form.setFields([{ name: ['dateRange'], errors: [] }]);
  };

  const showServerErrors = (error: ApiError) => {
    const items = error.validationErrors;
    const known = new Map<string, string[]>();
    const unplaced: { field: string; message: string }[] = [];
    for (const item of items) {
      const name = formNameFor(item.field);
      const isField = name && hasPath(form.getFieldsValue(true), name);
      if (name && isField) {
        const key = JSON.stringify(name);
        known.set(key, [...(known.get(key) ?? []), item.message]);
      } else {
        unplaced.push(item);
      }
    }
    form.setFields([...known].map(([key, errors]) => ({ name: JSON.parse(key), errors })));
    setServerErrors(items.length ? items : [{ field: '', message: error.message }]);
    const first = [...known.keys()][0];
    if (first) form.scrollToField(JSON.parse(first));
    return unplaced;
  };

  const review = async () => {
    try {
      const values = await form.validateFields();
      setServerErrors([]);
      setPending({ config: toConfig({ ...form.getFieldsValue(true), ...values }, strategy), priority: values.priority });
    } catch {
      // The form shows what is missing.
    }
  };

  const run = async () => {
    if (!pending) return;
    setSubmitting(true);
    try {
      await onSubmit(pending.config, pending.priority);
      setPending(null);
      setServerErrors([]);
    } catch (e) {
      setPending(null);
      if (e instanceof ApiError && e.status === 400) {
        showServerErrors(e);
      } else if (e instanceof ApiError && e.status === 429) {
        message.error(`Too many backtests started: try again in ${e.retryAfterSeconds ?? 'a few'} seconds`);
        setServerErrors([{ field: '', message: e.message }]);
      } else {
        setServerErrors([{ field: '', message: (e as Error).message }]);
      }
    } finally {
      setSubmitting(false);
    }
  };

  const savePreset = () => {
    if (!strategyClass || !presetName.trim()) return;
    const values = form.getFieldsValue(true) as FormValues;
    const { dateRange: _d, instruments: _i, venues: _v, ...kept } = values;
    const rest = loadPresets(strategyClass).filter((p) => p.name !== presetName.trim());
    localStorage.setItem(presetKey(strategyClass), JSON.stringify([...rest, { name: presetName.trim(), values: kept }]));
    setPresetName('');
    setPresetsVersion((v) => v + 1);
    message.success(`Preset "${presetName.trim()}" saved`);
  };

  const applyPreset = (name: string) => {
    if (!strategy) return;
    if (name === '__defaults') {
      form.setFieldsValue({ ...defaultSettings(), strategyConfig: parameterDefaults(strategy.parameters) } as never);
      return;
    }
    const preset = savedPresets.find((p) => p.name === name);
    if (preset) form.setFieldsValue(preset.values as never);
  };

  const initialValues: Partial<FormValues> = {
    ...defaultSettings(),
    strategyConfig: {},
    instruments: [],
    dateRange: null,
    ...initial,
  };

  return (
    <Card title="New backtest" size="small" data-testid="backtest-configuration">
      <Form<FormValues>
        form={form}
        layout="vertical"
        initialValues={initialValues}
        onFinish={review}
        onValuesChange={() => serverErrors.length && setServerErrors([])}
        scrollToFirstError
        aria-label="Backtest configuration"
        requiredMark
      >
        {serverErrors.length > 0 && (
          <Alert
            type="error"
            showIcon
            role="alert"
            data-testid="server-errors"
            style={{ marginBottom: 12 }}
            message="The server did not accept this configuration"
            description={
              <ul style={{ margin: 0, paddingLeft: 18 }}>
                {serverErrors.map((e, i) => (
                  <li key={i}>{e.field ? <code>{e.field}</code> : null} {e.message}</li>
                ))}
              </ul>
            }
          />
        )}
        <Row gutter={16}>
          <Col xs={24} md={8}>
            <Form.Item name="strategyClass" label="Strategy" htmlFor="field-strategyClass"
              rules={[{ required: true, message: 'choose a strategy' }]}
              extra={strategy?.description}>
              <Select
                id="field-strategyClass"
                aria-label="Strategy"
                options={strategies.map((s) => ({
                  value: s.name,
                  label: <span>{s.name} {s.kind && s.kind !== 'template' ? <Tag>{s.kind}</Tag> : null}</span>,
                }))}
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="Strategy preset" htmlFor="field-preset">
              <Space.Compact style={{ width: '100%' }}>
                <Select
                  id="field-preset"
                  aria-label="Strategy preset"
                  placeholder="Apply a preset"
                  value={null}
                  onChange={applyPreset}
                  options={[{ value: '__defaults', label: 'Schema defaults' },
                    ...savedPresets.map((p) => ({ value: p.name, label: p.name }))]}
                />
              </Space.Compact>
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="Save current settings as a preset" htmlFor="field-preset-name">
              <Space.Compact style={{ width: '100%' }}>
                <Input id="field-preset-name" aria-label="Preset name" placeholder="Preset name" value={presetName}
                  onChange={(e) => setPresetName(e.target.value)} />
                <Button onClick={savePreset} disabled={!presetName.trim() || !strategyClass}>Save</Button>
              </Space.Compact>
            </Form.Item>
          </Col>
        </Row>

        <Typography.Title level={5}>Parameters</Typography.Title>
        <div data-testid="parameter-form">
          <StrategyParameterFields parameters={strategy?.parameters ?? []} />
        </div>

        <Typography.Title level={5}>Data range and instruments</Typography.Title>
        <Row gutter={16}>
          <Col xs={24} md={10}>
            <Form.Item name="dateRange" label="Date range" htmlFor="field-dateRange"
              rules={[{ required: true, message: 'choose a start and an end date' }]}
              extra={`Presets end at ${dataEnd.format(DATE_FORMAT)}, the last date with ${resolution} data for the chosen instruments.`}>
              <DatePicker.RangePicker
                id={{ start: 'field-dateRange', end: 'field-dateRange-end' }}
                aria-label="Date range"
                style={{ width: '100%' }}
                allowEmpty={[false, false]}
                format={DATE_FORMAT}
                presets={PRESETS.map((p) => ({ label: p.label, value: presetRange(dataEnd, p.months) }))}
                disabledDate={(d) => d.isAfter(dayjs(), 'day')}
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

        <Typography.Title level={5}>Capital</Typography.Title>
        <Row gutter={16}>
          <Col xs={12} md={6}><NumberField name={['initialBalance']} label="Initial capital" min={0} step={1000} /></Col>
          <Col xs={12} md={4}><SelectField name={['baseCurrency']} label="Currency" values={CURRENCIES} /></Col>
          <Col xs={12} md={4}><SelectField name={['accountType']} label="Account" values={['cash', 'margin']} /></Col>
          <Col xs={12} md={5}><NumberField name={['riskFreeRate']} label="Risk-free rate" step={0.005} help="Annual, 0.02 = 2%" /></Col>
          <Col xs={12} md={5}>
            <Form.Item name="benchmark" label="Benchmark" htmlFor="field-benchmark" extra="Default: the first instrument">
              <Select id="field-benchmark" aria-label="Benchmark" allowClear showSearch
                options={[{ value: '', label: 'First instrument' }, ...instruments.map((i) => ({ value: i.id, label: i.id }))]} />
            </Form.Item>
          </Col>
        </Row>

        <Collapse
          size="small"
          style={{ marginBottom: 16 }}
          items={[
            {
              key: 'data',
              label: 'Data settings',
              forceRender: true,
              children: (
                <Row gutter={16}>
                  <Col xs={12} md={4}><SelectField name={['dataConfiguration', 'resolution']} label="Resolution" values={RESOLUTIONS} /></Col>
                  <Col xs={12} md={4}><SelectField name={['dataConfiguration', 'dataType']} label="Bars or ticks" values={DATA_TYPES} /></Col>
                  <Col xs={12} md={4}><SelectField name={['dataConfiguration', 'adjustment']} label="Adjustment" values={ADJUSTMENTS} /></Col>
                  <Col xs={12} md={4}><NumberField name={['dataConfiguration', 'warmup']} label="Warm-up bars" min={0} /></Col>
                  <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'qualityFilters', 'dropInvalid']} label="Drop invalid bars" /></Col>
                  <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'qualityFilters', 'dropZeroVolume']} label="Drop zero volume" /></Col>
                  <Col xs={12} md={4}><NumberField name={['dataConfiguration', 'qualityFilters', 'spikeThreshold']} label="Spike filter" min={0} step={0.05} help="Fraction move to drop, 0 = off" /></Col>
                  <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'qualityFilters', 'reportGaps']} label="Report gaps" /></Col>
                  <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'extendedHours']} label="Extended hours" /></Col>
                  <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'fxCarryForward']} label="Carry stale FX rates forward" /></Col>
                </Row>
              ),
            },
            {
              key: 'execution',
              label: 'Execution settings',
              forceRender: true,
              children: (
                <Row gutter={16}>
                  <Col xs={12} md={6}><SelectField name={['executionSettings', 'fillModel']} label="Fill model" values={FILL_MODELS} /></Col>
                  <Col xs={12} md={6}><SelectField name={['executionSettings', 'commission', 'model']} label="Commission model" values={COMMISSION_MODELS} /></Col>
                  {commissionModel === 'percent' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'commission', 'rate']} label="Commission rate" step={0.0005} help="0.001 = 0.1%" /></Col>}
                  {commissionModel === 'fixed' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'commission', 'amount']} label="Commission per order" /></Col>}
                  {commissionModel === 'perShare' && <>
                    <Col xs={12} md={4}><NumberField name={['executionSettings', 'commission', 'perShare']} label="Per share" step={0.001} /></Col>
                    <Col xs={12} md={4}><NumberField name={['executionSettings', 'commission', 'minimum']} label="Minimum" /></Col>
                    <Col xs={12} md={4}><NumberField name={['executionSettings', 'commission', 'maximumPercent']} label="Maximum %" step={0.001} /></Col>
                  </>}
                  <Col xs={12} md={6}><SelectField name={['executionSettings', 'slippage', 'model']} label="Slippage model" values={SLIPPAGE_MODELS} /></Col>
                  {slippageModel === 'fixedBps' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'slippage', 'bps']} label="Slippage bps" /></Col>}
                  {slippageModel === 'fixedTicks' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'slippage', 'ticks']} label="Slippage ticks" /></Col>}
                  {slippageModel === 'volumeShare' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'slippage', 'impact']} label="Price impact" step={0.01} /></Col>}
                  <Col xs={12} md={6}><NumberField name={['executionSettings', 'maxVolumeParticipation']} label="Max volume share" step={0.01} help="0 = no cap" /></Col>
                </Row>
              ),
            },
            {
              key: 'risk',
              label: 'Risk settings',
              forceRender: true,
              children: (
                <Row gutter={16}>
                  <Col xs={12} md={6}><SelectField name={['riskSettings', 'positionSizing', 'mode']} label="Position sizing" values={SIZING_MODES} /></Col>
                  {sizingMode === 'fixedQuantity' && <Col xs={12} md={6}><NumberField name={['riskSettings', 'positionSizing', 'quantity']} label="Quantity" /></Col>}
                  {sizingMode === 'fixedNotional' && <Col xs={12} md={6}><NumberField name={['riskSettings', 'positionSizing', 'notional']} label="Notional" /></Col>}
                  {sizingMode === 'percentEquity' && <Col xs={12} md={6}><NumberField name={['riskSettings', 'positionSizing', 'percent']} label="Equity fraction" step={0.05} help="0.95 = 95%" /></Col>}
                  {sizingMode === 'volatilityTarget' && <>
                    <Col xs={12} md={6}><NumberField name={['riskSettings', 'positionSizing', 'riskPercent']} label="Risk per ATR" step={0.005} /></Col>
                    <Col xs={12} md={6}><NumberField name={['riskSettings', 'positionSizing', 'atrPeriod']} label="ATR period" /></Col>
                  </>}
                  <Col xs={12} md={6}><NumberField name={['riskSettings', 'maxLeverage']} label="Max leverage" step={0.5} help="Up to 10 (margin accounts)" /></Col>
                  <Col xs={12} md={6}><NumberField name={['riskSettings', 'limits', 'maxPositionQuantity']} label="Max position quantity" help="0 = none" /></Col>
                  <Col xs={12} md={6}><NumberField name={['riskSettings', 'limits', 'maxPositionPercent']} label="Max position % of equity" step={0.05} help="0 = none" /></Col>
                  <Col xs={12} md={6}><NumberField name={['riskSettings', 'limits', 'maxOpenPositions']} label="Max open positions" help="0 = none" /></Col>
                  <Col xs={12} md={6}><NumberField name={['riskSettings', 'stops', 'stopLossPercent']} label="Stop loss" step={0.01} help="Fraction, 0 = off" /></Col>
                  <Col xs={12} md={6}><NumberField name={['riskSettings', 'stops', 'takeProfitPercent']} label="Take profit" step={0.01} help="Fraction, 0 = off" /></Col>
                  <Col xs={12} md={6}><NumberField name={['riskSettings', 'drawdownHalt']} label="Drawdown halt" step={0.05} help="Fraction, 0 = off" /></Col>
                </Row>
              ),
            },
          ]}
        />

        <Space wrap>
          <Form.Item name="priority" label="Priority" htmlFor="field-priority" style={{ marginBottom: 0 }}>
            <Select id="field-priority" aria-label="Priority" style={{ width: 140 }} options={options(PRIORITIES)} />
          </Form.Item>
          <Button type="primary" htmlType="submit" style={{ marginTop: 30 }}>Review and run</Button>
        </Space>
      </Form>

      <Modal
        open={!!pending}
        title="Run this backtest?"
        okText="Run backtest"
        onOk={run}
        confirmLoading={submitting}
        onCancel={() => setPending(null)}
        destroyOnHidden
      >
        {pending && (
          <Descriptions size="small" column={1} bordered data-testid="confirm-summary">
            <Descriptions.Item label="Strategy">{pending.config.strategyClass}</Descriptions.Item>
            <Descriptions.Item label="Parameters">
              {Object.entries(pending.config.strategyConfig).map(([k, v]) => `${k}=${String(v)}`).join(', ') || 'defaults'}
            </Descriptions.Item>
            <Descriptions.Item label="Instruments">{pending.config.instruments.join(', ')}</Descriptions.Item>
            <Descriptions.Item label="Dates">{pending.config.startDate} → {pending.config.endDate}</Descriptions.Item>
            <Descriptions.Item label="Capital">
              {pending.config.initialBalance.toLocaleString('en-US')} {pending.config.baseCurrency} ({pending.config.accountType})
            </Descriptions.Item>
            <Descriptions.Item label="Data">
              {pending.config.dataConfiguration.resolution} {pending.config.dataConfiguration.dataType}, {pending.config.dataConfiguration.adjustment}
            </Descriptions.Item>
            <Descriptions.Item label="Priority">{pending.priority}</Descriptions.Item>
          </Descriptions>
        )}
      </Modal>
    </Card>
  );
}

function hasPath(values: unknown, path: (string | number)[]): boolean {
  let current: unknown = values;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in (current as object))) return false;
    current = (current as Record<string | number, unknown>)[key];
  }
  return true;
}
