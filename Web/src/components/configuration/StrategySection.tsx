// The strategy, its presets and its parameters (a form generated from the strategy's schema).
import { Button, Col, Form, Input, Row, Select, Space, Tag, Typography } from 'antd';
import type { StrategyTemplate } from '../../api/types';
import { StrategyParameterFields } from '../StrategyParameterFields';
import { SCHEMA_DEFAULTS, type usePresets } from './usePresets';

export function StrategySection({ strategies, strategy, strategyClass, presets }: {
  strategies: StrategyTemplate[];
  strategy: StrategyTemplate | undefined;
  strategyClass: string | undefined;
  presets: ReturnType<typeof usePresets>;
}) {
  const { savedPresets, presetName, setPresetName, savePreset, applyPreset } = presets;
  return (
    <>
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
                options={[{ value: SCHEMA_DEFAULTS, label: 'Schema defaults' },
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
    </>
  );
}
