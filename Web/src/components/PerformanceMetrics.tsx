// Grouped metric cards. Each card says what the figure means and how the engine computes it.
import { Card, Col, Popover, Row, Statistic, Typography } from 'antd';
import { InfoCircleOutlined } from '@ant-design/icons';
import type { PerformanceMetrics as Metrics } from '../api/types';
import { METRICS, METRIC_GROUPS, formatMetric, type MetricDefinition, type MetricGroup } from './metricDefinitions';

function MetricCard({ def, value, currency }: { def: MetricDefinition; value: number | null | undefined; currency: string }) {
  const tone = def.name === 'maxDrawdown' || (def.format === 'percent' && def.group === 'returns')
    ? (value ?? 0) < 0 ? '#cf1322' : (value ?? 0) > 0 ? '#389e0d' : undefined
    : undefined;
  return (
    <Card size="small" data-testid={`metric-${def.name}`} style={{ height: '100%' }}>
      <Statistic
        title={
          <span>
            {def.label}{' '}
            <Popover
              title={def.label}
              content={<div style={{ maxWidth: 320 }}><p style={{ margin: 0 }}>{def.meaning}</p><code>{def.formula}</code></div>}
            >
              <InfoCircleOutlined aria-label={`How ${def.label} is computed`} tabIndex={0} />
            </Popover>
          </span>
        }
        value={formatMetric(value, def.format, currency)}
        valueStyle={{ fontSize: 18, color: tone }}
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{def.meaning}</Typography.Text>
    </Card>
  );
}

export interface PerformanceMetricsProps {
  metrics: Metrics;
  currency?: string;
  /** Only the key figures (the overview's first row), or whole groups. */
  keyOnly?: boolean;
  groups?: MetricGroup[];
}

export function PerformanceMetrics({ metrics, currency = 'USD', keyOnly, groups }: PerformanceMetricsProps) {
  if (keyOnly) {
    return (
      <Row gutter={[12, 12]} data-testid="key-metrics">
        {METRICS.filter((m) => m.key).map((def) => (
          <Col xs={12} md={6} xl={3} key={def.name}><MetricCard def={def} value={metrics[def.name]} currency={currency} /></Col>
        ))}
      </Row>
    );
  }
  return (
    <div data-testid="performance-metrics">
      {METRIC_GROUPS.filter((g) => !groups || groups.includes(g.group)).map((g) => (
        <div key={g.group} style={{ marginBottom: 16 }}>
          <Typography.Title level={5}>{g.title}</Typography.Title>
          <Row gutter={[12, 12]}>
            {METRICS.filter((m) => m.group === g.group).map((def) => (
              <Col xs={12} md={8} xl={6} key={def.name}><MetricCard def={def} value={metrics[def.name]} currency={currency} /></Col>
            ))}
          </Row>
        </div>
      ))}
    </div>
  );
}
