// The account: capital, currency, account type, risk-free rate and the benchmark.
import { Col, Form, Row, Select, Typography } from 'antd';
import type { ConfigurationOptions, InstrumentInfo } from '../../api/types';
import { NumberField, SelectField } from './fields';

export function CapitalSection({ instruments, options }: { instruments: InstrumentInfo[]; options: ConfigurationOptions }) {
  return (
    <>
      <Typography.Title level={5}>Capital</Typography.Title>
      <Row gutter={16}>
        <Col xs={12} md={6}><NumberField name={['initialBalance']} label="Initial capital" min={0} step={1000} /></Col>
        <Col xs={12} md={4}><SelectField name={['baseCurrency']} label="Currency" values={options.currencies} /></Col>
        <Col xs={12} md={4}><SelectField name={['accountType']} label="Account" values={options.accountTypes} /></Col>
        <Col xs={12} md={5}><NumberField name={['riskFreeRate']} label="Risk-free rate" step={0.005} help="Annual, 0.02 = 2%" /></Col>
        <Col xs={12} md={5}>
          <Form.Item name="benchmark" label="Benchmark" htmlFor="field-benchmark" extra="Default: the first instrument">
            <Select id="field-benchmark" aria-label="Benchmark" allowClear showSearch
              options={[{ value: '', label: 'First instrument' }, ...instruments.map((i) => ({ value: i.id, label: i.id }))]} />
          </Form.Item>
        </Col>
      </Row>
    </>
  );
}
