// Sets up a backtest: dates with presets, strategy and its schema-driven parameters, venues and instruments
// with their data availability, capital, and the data, execution and risk settings, offered as the API serves
// them (configuration/servedOptions). The server validates (the one validation module); its messages are shown on
// the fields they name. The sections and hooks are in ./configuration.
import { Button, Card, Collapse, Form, Select, Space, Spin } from 'antd';
import type { BacktestConfig, ConfigurationOptions, InstrumentInfo, Priority, StrategyTemplate } from '../api/types';
import { defaultSettings, type FormValues } from './configForm';
import { CapitalSection } from './configuration/CapitalSection';
import { ConfirmRun } from './configuration/ConfirmRun';
import { DataSection } from './configuration/DataSection';
import { DataSettings } from './configuration/DataSettings';
import { ExecutionSettings } from './configuration/ExecutionSettings';
import { RiskSettings } from './configuration/RiskSettings';
import { ServerErrors } from './configuration/ServerErrors';
import { StrategySection } from './configuration/StrategySection';
import { options as selectOptions } from './configuration/fields';
import { usePresets } from './configuration/usePresets';
import { useReviewAndRun } from './configuration/useReviewAndRun';
import { useServedOptions } from './configuration/servedOptions';
import { useServerErrors } from './configuration/useServerErrors';
import { useStrategy } from './configuration/useStrategy';

export interface BacktestConfigurationProps {
  strategies: StrategyTemplate[];
  instruments: InstrumentInfo[];
  /** Starts the run; rejects with an ApiError whose field errors are shown on the form. */
  onSubmit(config: BacktestConfig, priority: Priority): Promise<void>;
  /** Values to start from (e.g. to run a finished backtest again); the rest are the defaults. */
  initial?: Partial<FormValues>;
}

const TITLE = 'New backtest';

/** The form, once the API has said what it offers; until then, a spinner in its place. */
export function BacktestConfiguration(props: BacktestConfigurationProps) {
  const options = useServedOptions();
  if (!options) {
    return <Card title={TITLE} size="small" data-testid="backtest-configuration"><Spin /></Card>;
  }
  return <ConfigurationForm {...props} options={options} />;
}

function ConfigurationForm({ strategies, instruments, onSubmit, initial, options }: BacktestConfigurationProps & { options: ConfigurationOptions }) {
  const [form] = Form.useForm<FormValues>();
  const { strategyClass, strategy } = useStrategy(form, strategies, initial);
  const presets = usePresets(form, strategyClass, strategy);
  const serverErrors = useServerErrors(form);
  const { pending, submitting, review, run, cancel } = useReviewAndRun(form, strategy, onSubmit, serverErrors);

  const initialValues: Partial<FormValues> = {
    ...defaultSettings(options),
    strategyConfig: {},
    instruments: [],
    dateRange: null,
    ...initial,
  };

  return (
    <Card title={TITLE} size="small" data-testid="backtest-configuration">
      <Form<FormValues>
        form={form}
        layout="vertical"
        initialValues={initialValues}
        onFinish={review}
        onValuesChange={() => serverErrors.serverErrors.length && serverErrors.setServerErrors([])}
        scrollToFirstError
        aria-label="Backtest configuration"
        requiredMark
      >
        <ServerErrors errors={serverErrors.serverErrors} />
        <StrategySection strategies={strategies} strategy={strategy} strategyClass={strategyClass} presets={presets} />
        <DataSection instruments={instruments} defaultResolution={options.defaults.dataConfiguration.resolution}
          maxDurationYears={options.maxDurationYears} />
        <CapitalSection instruments={instruments} options={options} />

        <Collapse
          size="small"
          style={{ marginBottom: 16 }}
          items={[
            { key: 'data', label: 'Data settings', forceRender: true, children: <DataSettings options={options} /> },
            { key: 'execution', label: 'Execution settings', forceRender: true, children: <ExecutionSettings options={options} /> },
            { key: 'risk', label: 'Risk settings', forceRender: true, children: <RiskSettings options={options} /> },
          ]}
        />

        <Space wrap>
          <Form.Item name="priority" label="Priority" htmlFor="field-priority" style={{ marginBottom: 0 }}>
            <Select id="field-priority" aria-label="Priority" style={{ width: 140 }} options={selectOptions(options.priorities)} />
          </Form.Item>
          <Button type="primary" htmlType="submit" style={{ marginTop: 30 }}>Review and run</Button>
        </Space>
      </Form>

      <ConfirmRun pending={pending} submitting={submitting} onRun={run} onCancel={cancel} />
    </Card>
  );
}
