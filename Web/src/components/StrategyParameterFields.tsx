// The strategy's parameter form, generated from the schema the API returns: one field per parameter with its
// type, required flag, bounds, default and description. Nothing here knows any particular strategy.
import { Col, Form, InputNumber, Row, Select, Switch, Input, Typography } from 'antd';
import type { Rule } from 'antd/es/form';
import type { ParameterSchema } from '../api/types';

export function parameterRules(p: ParameterSchema): Rule[] {
  const rules: Rule[] = [];
  if (p.required) rules.push({ required: true, message: `${p.name} is required` });
  if (p.type === 'integer' || p.type === 'number') {
    rules.push({
      validator: (_, value) => {
        if (value === undefined || value === null || value === '') return Promise.resolve();
        if (typeof value !== 'number') return Promise.reject(new Error(`${p.name} must be of type ${p.type}`));
        if (p.type === 'integer' && !Number.isInteger(value)) return Promise.reject(new Error(`${p.name} must be of type integer`));
        if ((p.min !== null && value < p.min) || (p.max !== null && value > p.max)) {
          return Promise.reject(new Error(`${p.name} must be between ${p.min ?? 'unbounded'} and ${p.max ?? 'unbounded'}`));
        }
        return Promise.resolve();
      },
    });
  }
  return rules;
}

function bounds(p: ParameterSchema) {
  if (p.min !== null && p.max !== null) return `${p.min} to ${p.max}`;
  if (p.min !== null) return `at least ${p.min}`;
  if (p.max !== null) return `at most ${p.max}`;
  return null;
}

// The schema has no step: take one that fits the range (0.01 within 1, 0.1 within 20, else 1).
function stepFor(p: ParameterSchema) {
  if (p.type === 'integer') return 1;
  const span = p.min !== null && p.max !== null ? p.max - p.min : Infinity;
  return span <= 1 ? 0.01 : span <= 20 ? 0.1 : 1;
}

// Form.Item hands its child value/checked and onChange: pass them on to the real input.
function ParameterInput({ p, id, ...control }: { p: ParameterSchema; id: string; [prop: string]: unknown }) {
  switch (p.type) {
    case 'boolean':
      return <Switch id={id} aria-label={p.name} {...control} />;
    case 'integer':
    case 'number':
      return (
        <InputNumber
          {...control}
          id={id}
          aria-label={p.name}
          style={{ width: '100%' }}
          min={p.min ?? undefined}
          max={p.max ?? undefined}
          step={stepFor(p)}
          precision={p.type === 'integer' ? 0 : undefined}
        />
      );
    default:
      return p.allowed?.length ? (
        <Select {...control} id={id} aria-label={p.name} options={p.allowed.map((a) => ({ value: a, label: a }))} />
      ) : (
        <Input {...control} id={id} aria-label={p.name} />
      );
  }
}

export function StrategyParameterFields({ parameters }: { parameters: ParameterSchema[] }) {
  if (!parameters.length) {
    return <Typography.Text type="secondary">This strategy has no parameters.</Typography.Text>;
  }
  return (
    <Row gutter={16}>
      {parameters.map((p) => {
        const id = `param-${p.name}`;
        const range = bounds(p);
        return (
          <Col xs={24} sm={12} lg={8} key={p.name}>
            <Form.Item
              name={['strategyConfig', p.name]}
              label={p.name}
              htmlFor={id}
              required={p.required}
              rules={parameterRules(p)}
              valuePropName={p.type === 'boolean' ? 'checked' : 'value'}
              tooltip={p.description}
              extra={
                <span data-testid={`param-help-${p.name}`}>
                  {p.description}
                  {range ? ` (${range}` : ' ('}
                  {range ? '; ' : ''}default {String(p.default ?? 'none')}, {p.type})
                </span>
              }
            >
              <ParameterInput p={p} id={id} />
            </Form.Item>
          </Col>
        );
      })}
    </Row>
  );
}
