// How the data is read: resolution, bars or ticks, price adjustment, warm-up and the quality filters.
import { Col, Row } from 'antd';
import type { ConfigurationOptions } from '../../api/types';
import { NumberField, SelectField, SwitchField } from './fields';

export function DataSettings({ options }: { options: ConfigurationOptions }) {
  return (
    <Row gutter={16}>
      <Col xs={12} md={4}><SelectField name={['dataConfiguration', 'resolution']} label="Resolution" values={options.resolutions} /></Col>
      <Col xs={12} md={4}><SelectField name={['dataConfiguration', 'dataType']} label="Bars or ticks" values={options.dataTypes} /></Col>
      <Col xs={12} md={4}><SelectField name={['dataConfiguration', 'adjustment']} label="Adjustment" values={options.adjustments} /></Col>
      <Col xs={12} md={4}><NumberField name={['dataConfiguration', 'warmup']} label="Warm-up bars" min={0} /></Col>
      <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'qualityFilters', 'dropInvalid']} label="Drop invalid bars" /></Col>
      <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'qualityFilters', 'dropZeroVolume']} label="Drop zero volume" /></Col>
      <Col xs={12} md={4}><NumberField name={['dataConfiguration', 'qualityFilters', 'spikeThreshold']} label="Spike filter" min={0} step={0.05} help="Fraction move to drop, 0 = off" /></Col>
      <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'qualityFilters', 'reportGaps']} label="Report gaps" /></Col>
      <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'extendedHours']} label="Extended hours" /></Col>
      <Col xs={12} md={4}><SwitchField name={['dataConfiguration', 'fxCarryForward']} label="Carry stale FX rates forward" /></Col>
    </Row>
  );
}
