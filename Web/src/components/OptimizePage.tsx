// The Optimize page: a job over one backtest. The backtest's pieces are the backtest form's (strategy, data, capital and
// settings: ./configuration, configForm); per strategy parameter the trader picks fixed, range or list (optimizeForm);
// then the method, budget, objective and constraints. The planned trial count comes from the server (/plan) as the
// form changes, with a time estimate at the rate a finished job measured. Below, the trader's jobs. The same form, with
// the windows' settings added (walkForward), starts a walk-forward analysis (WalkForwardPage).
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  Button, Card, Col, Collapse, Form, Input, InputNumber, Row, Select, Space, Spin, Switch, Tag, Typography, message,
} from 'antd';
import type { ApiError } from '../api/client';
import type { ConfigurationOptions, InstrumentInfo, OptimizationListItem, ParameterSchema, StrategyTemplate } from '../api/types';
import { useSession } from '../session';
import { defaultSettings, formNameFor, type FormValues } from './configForm';
import { CapitalSection } from './configuration/CapitalSection';
import { DataSection } from './configuration/DataSection';
import { DataSettings } from './configuration/DataSettings';
import { ExecutionSettings } from './configuration/ExecutionSettings';
import { RiskSettings } from './configuration/RiskSettings';
import { ServerErrors } from './configuration/ServerErrors';
import type { ServerError } from './configuration/useServerErrors';
import { useServedOptions } from './configuration/servedOptions';
import { options as selectOptions } from './configuration/fields';
import { METRICS } from './metricDefinitions';
import {
  baseConfigOf, defaultChoice, estimateSeconds, formatDuration, optimizeFieldFor, rangeable, rememberedRate, toJob, type OptimizeValues,
} from './optimizeForm';
import { DEFAULT_WALK_FORWARD, toWalkForwardJob, walkForwardFieldFor, type WalkForwardValues } from './walkForward';
import { PolledListCard } from './PolledListCard';
import { usePolledList } from './usePolledList';

type Values = FormValues & OptimizeValues & { walkForward?: WalkForwardValues };

const METHODS = ['grid', 'random', 'tpe'];
const OPS = ['>=', '<=', '>', '<'];
const metricOptions = METRICS.map((m) => ({ value: m.name, label: m.label }));

export type OptimizeFormValues = Values;

export function OptimizePage({ strategies, instruments, onOpen }: {
  strategies: StrategyTemplate[];
  instruments: InstrumentInfo[];
  onOpen(id: string): void;
}) {
  const options = useServedOptions();
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      {options ? <OptimizeForm strategies={strategies} instruments={instruments} options={options} onOpen={onOpen} />
        : <Card title="New optimization" size="small"><Spin /></Card>}
      <OptimizationList onOpen={onOpen} />
    </Space>
  );
}

export function OptimizeForm({ strategies, instruments, options, onOpen, walkForward = false, initial }: {
  strategies: StrategyTemplate[];
  instruments: InstrumentInfo[];
  options: ConfigurationOptions;
  onOpen(id: string): void;
  /** Adds the windows' settings and starts a walk-forward analysis instead of an optimization. */
  walkForward?: boolean;
  /** Values to start from instead of the defaults (e.g. a date range and instruments). */
  initial?: Partial<Values>;
}) {
  const { api } = useSession();
  const [form] = Form.useForm<Values>();
  const strategyClass = Form.useWatch('strategyClass', form);
  const strategy = strategies.find((s) => s.name === strategyClass);
  const [planned, setPlanned] = useState<number | null>(null);
  const [errors, setErrors] = useState<ServerError[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [version, setVersion] = useState(0);

  // A new strategy brings its parameters, each with its schema's default choice.
  useEffect(() => {
    if (!strategy) return;
    form.setFieldValue('parameters', Object.fromEntries(strategy.parameters.map((p) => [p.name, defaultChoice(p)])));
    setVersion((v) => v + 1);
  }, [strategy, form]);
  useEffect(() => {
    if (!form.getFieldValue('strategyClass') && strategies.length) form.setFieldValue('strategyClass', strategies[0].name);
  }, [strategies, form]);

  const job = () => {
    const { walkForward: _windows, ...values } = form.getFieldsValue(true) as Values;
    return toJob(values, baseConfigOf(values, strategy), strategy?.parameters ?? [], values.priority,
      strategy?.kind === 'custom' ? strategy.version : null);
  };

  // The planned count follows the form (debounced); its errors are shown as the start's would be.
  useEffect(() => {
    if (!strategy) return;
    const timer = setTimeout(() => {
      api.planOptimization(job()).then((n) => {
        setPlanned(n);
        setErrors([]);
      }, (e: ApiError) => {
        setPlanned(null);
        setErrors(e.validationErrors?.length ? e.validationErrors : [{ field: '', message: e.message }]);
      });
    }, 400);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, strategy, api]);

  const showErrors = (e: ApiError) => {
    const items: ServerError[] = e.validationErrors?.length ? e.validationErrors : [{ field: '', message: e.message }];
    setErrors(items);
    form.setFields(items.flatMap((item) => {
      const name = (walkForward ? walkForwardFieldFor(item.field) : optimizeFieldFor(item.field))
        ?? (item.field.startsWith('baseConfig.') ? formNameFor(item.field.slice('baseConfig.'.length)) : null);
      return name ? [{ name, errors: [item.message] }] : [];
    }));
  };

  const launch = async () => {
    setSubmitting(true);
    try {
      if (walkForward) {
        const windows = (form.getFieldsValue(true) as Values).walkForward;
        const started = await api.startWalkForward(toWalkForwardJob(job(), windows));
        message.success(`Walk-forward analysis started: ${started.windowsPlanned} windows`);
        onOpen(started.id);
      } else {
        const started = await api.startOptimization(job());
        message.success(`Optimization started: ${started.trialsPlanned} trials`);
        onOpen(started.id);
      }
    } catch (e) {
      showErrors(e as ApiError);
    } finally {
      setSubmitting(false);
    }
  };

  const rate = strategy ? rememberedRate(strategy.name) : null;
  const estimate = planned !== null ? estimateSeconds(planned, rate) : null;
  const initialValues = useMemo(() => ({
    ...defaultSettings(options), strategyConfig: {}, instruments: [], dateRange: null, name: '', method: 'grid', maxTrials: null, seed: 42,
    objectiveMetric: 'sharpeRatio', direction: 'maximize', constraints: [], parameters: {}, walkForward: { ...DEFAULT_WALK_FORWARD },
    ...initial,
  }) as unknown as Values, [options, initial]);

  return (
    <Card title={walkForward ? 'New walk-forward analysis' : 'New optimization'} size="small" data-testid={walkForward ? 'walkforward-form' : 'optimize-form'}>
      <Form<Values> form={form} layout="vertical" initialValues={initialValues} onFinish={launch}
        onValuesChange={() => setVersion((v) => v + 1)} aria-label={walkForward ? 'Walk-forward analysis' : 'Optimization'} requiredMark>
        <ServerErrors errors={errors} />
        <Row gutter={16}>
          <Col xs={24} md={8}>
            <Form.Item name="name" label="Name" htmlFor="field-name"><Input id="field-name" aria-label="Name" maxLength={200} /></Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item name="strategyClass" label="Strategy" htmlFor="field-strategyClass" rules={[{ required: true, message: 'choose a strategy' }]}
              extra={strategy?.description}>
              <Select id="field-strategyClass" aria-label="Strategy" options={strategies.map((s) => ({ value: s.name, label: s.name }))} />
            </Form.Item>
          </Col>
        </Row>
        <DataSection instruments={instruments} defaultResolution={options.defaults.dataConfiguration.resolution}
          maxDurationYears={options.maxDurationYears} />
        <CapitalSection instruments={instruments} options={options} />
        <Collapse size="small" style={{ marginBottom: 16 }} items={[
          { key: 'data', label: 'Data settings', forceRender: true, children: <DataSettings options={options} /> },
          { key: 'execution', label: 'Execution settings', forceRender: true, children: <ExecutionSettings options={options} /> },
          { key: 'risk', label: 'Risk settings', forceRender: true, children: <RiskSettings options={options} /> },
        ]} />

        <Typography.Title level={5}>Parameters</Typography.Title>
        <div data-testid="optimize-parameters">
          {(strategy?.parameters ?? []).map((p) => <ParameterRow key={`${strategy?.name}-${p.name}`} p={p} />)}
        </div>

        <Typography.Title level={5}>Search</Typography.Title>
        <Row gutter={16}>
          <Col xs={8} md={4}>
            <Form.Item name="method" label="Method" htmlFor="field-method">
              <Select id="field-method" aria-label="Method" options={selectOptions(METHODS)} />
            </Form.Item>
          </Col>
          <Col xs={8} md={4}>
            <Form.Item name="maxTrials" label="Max trials" htmlFor="field-maxTrials" extra="Required for random and tpe">
              <InputNumber id="field-maxTrials" aria-label="Max trials" min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col xs={8} md={4}>
            <Form.Item name="seed" label="Seed" htmlFor="field-seed">
              <InputNumber id="field-seed" aria-label="Seed" precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col xs={12} md={6}>
            <Form.Item name="objectiveMetric" label="Objective" htmlFor="field-objective">
              <Select id="field-objective" aria-label="Objective" showSearch options={metricOptions} />
            </Form.Item>
          </Col>
          <Col xs={12} md={6}>
            <Form.Item name="direction" label="Direction" htmlFor="field-direction">
              <Select id="field-direction" aria-label="Direction" options={selectOptions(['maximize', 'minimize'])} />
            </Form.Item>
          </Col>
        </Row>

        <Typography.Title level={5}>Constraints</Typography.Title>
        <Form.List name="constraints">
          {(fields, { add, remove }) => (
            <>
              {fields.map((field) => (
                <Space key={field.key} align="baseline" data-testid="constraint-row">
                  <Form.Item name={[field.name, 'metric']} rules={[{ required: true, message: 'a metric' }]}>
                    <Select aria-label="Constraint metric" showSearch style={{ width: 220 }} options={metricOptions} />
                  </Form.Item>
                  <Form.Item name={[field.name, 'op']} rules={[{ required: true, message: 'an operator' }]}>
                    <Select aria-label="Constraint operator" style={{ width: 80 }} options={selectOptions(OPS)} />
                  </Form.Item>
                  <Form.Item name={[field.name, 'value']} rules={[{ required: true, message: 'a value' }]}>
                    <InputNumber aria-label="Constraint value" style={{ width: 140 }} />
                  </Form.Item>
                  <Button onClick={() => remove(field.name)}>Remove</Button>
                </Space>
              ))}
              <div style={{ marginBottom: 16 }}>
                <Button onClick={() => add({ metric: 'maxDrawdown', op: '>=', value: -0.2 })}>Add constraint</Button>
              </div>
            </>
          )}
        </Form.List>

        {walkForward && <WindowSettings />}

        <Space wrap align="center">
          <Form.Item name="priority" label="Priority" htmlFor="field-priority" style={{ marginBottom: 0 }}>
            <Select id="field-priority" aria-label="Priority" style={{ width: 140 }} options={selectOptions(options.priorities)} />
          </Form.Item>
          <Typography.Text data-testid="planned-trials" style={{ marginTop: 30, display: 'inline-block' }}>
            {walkForward && 'Per window: '}{planned === null ? 'Trials: —' : `Trials: ${planned.toLocaleString()}`}
            {planned !== null && (estimate !== null
              ? ` · about ${formatDuration(estimate)} at ${rate!.toFixed(1)} trials/s (the last finished job's rate)`
              : ' · time unknown until a job of this strategy has run')}
          </Typography.Text>
          <Button type="primary" htmlType="submit" loading={submitting} disabled={planned === null} style={{ marginTop: 30 }}
            data-testid={walkForward ? 'launch-walkforward' : 'launch-optimization'}>{walkForward ? 'Launch walk-forward' : 'Launch optimization'}</Button>
        </Space>
      </Form>
    </Card>
  );
}

/** The walk-forward windows: in-sample, out-of-sample and step lengths ("1y", "6m", "2w", "30d") and whether anchored. */
function WindowSettings() {
  const length = (name: keyof WalkForwardValues, label: string, extra?: string) => (
    <Col xs={12} md={5}>
      <Form.Item name={['walkForward', name]} label={label} htmlFor={`field-wf-${name}`} extra={extra}>
        <Input id={`field-wf-${name}`} aria-label={label} placeholder={name === 'step' ? 'out-of-sample length' : undefined} />
      </Form.Item>
    </Col>
  );
  return (
    <>
      <Typography.Title level={5}>Windows</Typography.Title>
      <Row gutter={16} data-testid="walkforward-windows-settings">
        {length('inSample', 'In sample', 'e.g. 1y, 6m, 2w, 30d')}
        {length('outOfSample', 'Out of sample')}
        {length('step', 'Step', 'empty: the out-of-sample length')}
        <Col xs={12} md={5}>
          <Form.Item name={['walkForward', 'anchored']} label="Anchored" valuePropName="checked" htmlFor="field-wf-anchored"
            extra="in sample always from the start">
            <Switch id="field-wf-anchored" aria-label="Anchored" />
          </Form.Item>
        </Col>
      </Row>
    </>
  );
}

/** One parameter: its mode and the inputs of that mode (value; min, max, step; or a comma-separated list). */
function ParameterRow({ p }: { p: ParameterSchema }) {
  const form = Form.useFormInstance<Values>();
  const mode = Form.useWatch(['parameters', p.name, 'mode'], form);
  const numeric = rangeable(p);
  const modes = numeric ? ['fixed', 'range', 'list'] : ['fixed', 'list'];
  const input = (name: string, label: string) => (
    <Form.Item name={['parameters', p.name, name]} label={label} style={{ marginBottom: 8 }}>
      <InputNumber id={`opt-${p.name}-${name}`} aria-label={`${p.name} ${label}`} precision={p.type === 'integer' ? 0 : undefined} style={{ width: 120 }} />
    </Form.Item>
  );
  return (
    <Space align="end" wrap data-testid={`parameter-${p.name}`} style={{ display: 'flex', marginBottom: 4 }}>
      <div style={{ width: 160 }}>
        <Typography.Text strong>{p.name}</Typography.Text>
        <div><Typography.Text type="secondary" style={{ fontSize: 12 }}>{p.type}{p.min !== null || p.max !== null ? ` ${p.min ?? '…'}–${p.max ?? '…'}` : ''}</Typography.Text></div>
      </div>
      <Form.Item name={['parameters', p.name, 'mode']} label="Mode" style={{ marginBottom: 8 }}>
        <Select id={`opt-${p.name}-mode`} aria-label={`${p.name} mode`} style={{ width: 100 }} options={selectOptions(modes)} />
      </Form.Item>
      {mode === 'range' && (<>{input('min', 'min')}{input('max', 'max')}{input('step', 'step')}</>)}
      {mode === 'list' && (
        <Form.Item name={['parameters', p.name, 'list']} label="Values (comma-separated)" style={{ marginBottom: 8 }}>
          <Input id={`opt-${p.name}-list`} aria-label={`${p.name} values`} style={{ width: 260 }} placeholder={p.allowed?.join(', ') ?? '10, 20, 30'} />
        </Form.Item>
      )}
      {(mode === 'fixed' || mode === undefined) && (
        <Form.Item name={['parameters', p.name, 'value']} label="Value" style={{ marginBottom: 8 }}>
          {numeric ? <InputNumber aria-label={`${p.name} value`} style={{ width: 120 }} />
            : p.type === 'boolean' ? <Select aria-label={`${p.name} value`} style={{ width: 120 }} options={[{ value: true, label: 'true' }, { value: false, label: 'false' }]} />
              : p.allowed?.length ? <Select aria-label={`${p.name} value`} style={{ width: 160 }} options={selectOptions(p.allowed)} />
                : <Input aria-label={`${p.name} value`} style={{ width: 160 }} />}
        </Form.Item>
      )}
    </Space>
  );
}

const STATE_COLORS: Record<string, string> = {
  queued: 'default', running: 'processing', paused: 'warning', completed: 'success', cancelled: 'default', failed: 'error',
};

/** The trader's jobs, newest first. */
function OptimizationList({ onOpen }: { onOpen(id: string): void }) {
  const { api } = useSession();
  const list = usePolledList(useCallback((page: number, pageSize: number) => api.optimizations({ page, pageSize }), [api]));
  return (
    <PolledListCard<OptimizationListItem> title="Optimizations" testId="optimization-list" list={list}
        columns={[
          { title: 'Name', dataIndex: 'name', render: (name: string | null, row) =>
            <Typography.Link onClick={() => onOpen(row.id)} data-testid={`optimization-open-${row.id}`}>{name || row.id.slice(0, 8)}</Typography.Link> },
          { title: 'State', dataIndex: 'status', render: (s: string) => <Tag color={STATE_COLORS[s]}>{s}</Tag> },
          { title: 'Strategy', dataIndex: 'strategy' },
          { title: 'Method', dataIndex: 'method' },
          { title: 'Trials', render: (_, row) => `${row.trialsCompleted} / ${row.trialsPlanned}` },
          { title: 'Best', dataIndex: 'bestObjective', render: (v: number | null) => (v === null ? '—' : v.toFixed(4)) },
          { title: 'Created', dataIndex: 'createdAt', render: (v: string) => new Date(v).toLocaleString() },
        ]} />
  );
}
