// The form's labelled fields: each input is reachable by its label (for people and for tests), with the id
// field-<path> that the label points at.
import { Form, InputNumber, Select, Switch } from 'antd';

export const options = (values: string[]) => values.map((v) => ({ value: v, label: v }));

export function NumberField({ name, label, help, min, max, step }: {
  name: (string | number)[]; label: string; help?: string; min?: number; max?: number; step?: number;
}) {
  const id = `field-${name.join('-')}`;
  return (
    <Form.Item name={name} label={label} htmlFor={id} extra={help}>
      <InputNumber id={id} aria-label={label} style={{ width: '100%' }} min={min} max={max} step={step} />
    </Form.Item>
  );
}

export function SelectField({ name, label, values, help }: { name: (string | number)[]; label: string; values: string[]; help?: string }) {
  const id = `field-${name.join('-')}`;
  return (
    <Form.Item name={name} label={label} htmlFor={id} extra={help}>
      <Select id={id} aria-label={label} options={options(values)} />
    </Form.Item>
  );
}

export function SwitchField({ name, label }: { name: (string | number)[]; label: string }) {
  const id = `field-${name.join('-')}`;
  return (
    <Form.Item name={name} label={label} htmlFor={id} valuePropName="checked">
      <Switch id={id} aria-label={label} />
    </Form.Item>
  );
}
