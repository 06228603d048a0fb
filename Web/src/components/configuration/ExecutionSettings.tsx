// How orders fill: the fill model, commission and slippage (each model shows its own figures) and the volume cap.
import { Col, Form, Row } from 'antd';
import type { ConfigurationOptions } from '../../api/types';
import type { FormValues } from '../configForm';
import { NumberField, SelectField } from './fields';

export function ExecutionSettings({ options }: { options: ConfigurationOptions }) {
  const form = Form.useFormInstance<FormValues>();
  const commissionModel = Form.useWatch(['executionSettings', 'commission', 'model'], form);
  const slippageModel = Form.useWatch(['executionSettings', 'slippage', 'model'], form);
  return (
    <Row gutter={16}>
      <Col xs={12} md={6}><SelectField name={['executionSettings', 'fillModel']} label="Fill model" values={options.fillModels} /></Col>
      <Col xs={12} md={6}><SelectField name={['executionSettings', 'commission', 'model']} label="Commission model" values={options.commissionModels} /></Col>
      {commissionModel === 'percent' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'commission', 'rate']} label="Commission rate" step={0.0005} help="0.001 = 0.1%" /></Col>}
      {commissionModel === 'fixed' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'commission', 'amount']} label="Commission per order" /></Col>}
      {commissionModel === 'perShare' && <>
        <Col xs={12} md={4}><NumberField name={['executionSettings', 'commission', 'perShare']} label="Per share" step={0.001} /></Col>
        <Col xs={12} md={4}><NumberField name={['executionSettings', 'commission', 'minimum']} label="Minimum" /></Col>
        <Col xs={12} md={4}><NumberField name={['executionSettings', 'commission', 'maximumPercent']} label="Maximum %" step={0.001} /></Col>
      </>}
      <Col xs={12} md={6}><SelectField name={['executionSettings', 'slippage', 'model']} label="Slippage model" values={options.slippageModels} /></Col>
      {slippageModel === 'fixedBps' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'slippage', 'bps']} label="Slippage bps" /></Col>}
      {slippageModel === 'fixedTicks' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'slippage', 'ticks']} label="Slippage ticks" /></Col>}
      {slippageModel === 'volumeShare' && <Col xs={12} md={6}><NumberField name={['executionSettings', 'slippage', 'impact']} label="Price impact" step={0.01} /></Col>}
      <Col xs={12} md={6}><NumberField name={['executionSettings', 'maxVolumeParticipation']} label="Max volume share" step={0.01} help="0 = no cap" /></Col>
    </Row>
  );
}
