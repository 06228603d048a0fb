// Position sizing (each mode shows its own figures), leverage, limits, stops and the drawdown halt.
import { Col, Form, Row } from 'antd';
import type { ConfigurationOptions } from '../../api/types';
import type { FormValues } from '../configForm';
import { NumberField, SelectField } from './fields';

export function RiskSettings({ options }: { options: ConfigurationOptions }) {
  const form = Form.useFormInstance<FormValues>();
  const sizingMode = Form.useWatch(['riskSettings', 'positionSizing', 'mode'], form);
  return (
    <Row gutter={16}>
      <Col xs={12} md={6}><SelectField name={['riskSettings', 'positionSizing', 'mode']} label="Position sizing" values={options.sizingModes} /></Col>
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
  );
}
