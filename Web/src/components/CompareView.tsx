// Compare runs: pick finished runs, see every metric side by side with the best marked, the equity curves
// normalized to 100 on the first common date, and the correlation of their daily returns.
import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Col, Empty, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { TrophyFilled } from '@ant-design/icons';
import { ColorType, LineSeries, createChart } from 'lightweight-charts';
import { useSession } from '../session';
import type { BacktestStatus, ComparisonResult } from '../api/types';
import { METRIC_BY_NAME, formatMetric } from './metricDefinitions';
import { Heatmap } from './Heatmap';
import { series } from './EquityCurveChart';

const COLORS = ['#1677ff', '#fa8c16', '#52c41a', '#eb2f96', '#722ed1', '#13c2c2', '#a0d911', '#faad14'];
const shortId = (id: string) => id.slice(0, 8);

function NormalizedCurves({ comparison }: { comparison: ComparisonResult }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = createChart(ref.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#fff' }, textColor: '#333', attributionLogo: false },
      grid: { vertLines: { color: '#f0f0f0' }, horzLines: { color: '#f0f0f0' } },
    });
    comparison.curves.series.forEach((s, i) => {
      const line = chart.addSeries(LineSeries, { color: COLORS[i % COLORS.length], lineWidth: 2, title: labelOf(comparison, s.id) });
      line.setData(series(comparison.curves.dates.map((d, k) => ({ time: d, value: s.equity[k] }))));
    });
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [comparison]);
  return <div ref={ref} style={{ height: 320 }} role="img" aria-label="Normalized equity curves" data-testid="compare-curves" />;
}

const labelOf = (c: ComparisonResult, id: string) => c.runs.find((r) => r.id === id)?.label || shortId(id);

export function CompareView({ initialIds = [] }: { initialIds?: string[] }) {
  const { api } = useSession();
  const [runs, setRuns] = useState<BacktestStatus[]>([]);
  const [selected, setSelected] = useState<string[]>(initialIds);
  const [comparison, setComparison] = useState<ComparisonResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [listed, setListed] = useState(false);

  useEffect(() => {
    api.list({ status: 'completed', pageSize: 100 })
      .then((p) => setRuns(p.items), (e: Error) => setError(e.message))
      .finally(() => setListed(true));
  }, [api]);

  const compare = async () => {
    setLoading(true);
    setError(null);
    try {
      setComparison(await api.compare(selected));
    } catch (e) {
      setError((e as Error).message);
      setComparison(null);
    } finally {
      setLoading(false);
    }
  };

  const rows = useMemo(() => comparison?.metrics.filter((m) => METRIC_BY_NAME.has(m.name)) ?? [], [comparison]);
  const heat = useMemo(() => {
    if (!comparison) return null;
    // Axis labels stay short: the strategy and the run's short id (the table above has the full labels).
    const labels = comparison.runs.map((r) => `${(r.label || '').split(' ')[0]} ${shortId(r.id)}`.trim());
    const cells: [number, number, number | null][] = [];
    comparison.correlations.values.forEach((row, y) => row.forEach((v, x) => cells.push([x, y, v])));
    return { labels, cells };
  }, [comparison]);

  return (
    <div data-testid="compare-view">
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          mode="multiple"
          id="compare-runs"
          loading={!listed}
          aria-label="Runs to compare"
          placeholder="Pick two or more finished runs"
          style={{ minWidth: 420 }}
          value={selected}
          onChange={setSelected}
          optionFilterProp="label"
          data-testid="compare-select"
          options={runs.map((r) => ({ value: r.id, label: `${r.strategy ?? ''} ${shortId(r.id)} (${r.createdAt?.slice(0, 16).replace('T', ' ') ?? ''})` }))}
        />
        <Button type="primary" onClick={compare} disabled={selected.length < 2} loading={loading}>Compare</Button>
      </Space>
      {error && <Alert type="error" message={error} style={{ marginBottom: 12 }} />}
      {!comparison ? (
        <Empty description="Pick at least two finished runs" />
      ) : (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Table
            size="small"
            rowKey="name"
            pagination={false}
            scroll={{ x: true, y: 360 }}
            data-testid="compare-table"
            dataSource={rows}
            columns={[
              { title: 'Metric', dataIndex: 'name', fixed: 'left', width: 200,
                render: (n: string) => <span title={METRIC_BY_NAME.get(n)?.meaning}>{METRIC_BY_NAME.get(n)?.label ?? n}</span> },
              ...comparison.runs.map((run, i) => ({
                title: <span style={{ color: COLORS[i % COLORS.length] }}>{run.label || shortId(run.id)}</span>,
                key: run.id,
                render: (_: unknown, m: ComparisonResult['metrics'][number]) => {
                  const def = METRIC_BY_NAME.get(m.name);
                  const best = m.best.includes(run.id);
                  const text = formatMetric(m.values[i], def?.format ?? 'ratio');
                  return best
                    ? <Typography.Text strong data-testid="best-value"><TrophyFilled style={{ color: '#faad14' }} aria-label="best" /> {text}</Typography.Text>
                    : text;
                },
              })),
            ]}
          />
          <Row gutter={16}>
            <Col xs={24} lg={14}>
              <Typography.Title level={5}>Equity, normalized to 100</Typography.Title>
              <NormalizedCurves comparison={comparison} />
            </Col>
            <Col xs={24} lg={10}>
              <Typography.Title level={5}>Correlation of daily returns ({comparison.correlations.periods} days)</Typography.Title>
              {heat && (
                <Heatmap xLabels={heat.labels} yLabels={heat.labels} cells={heat.cells} min={-1} max={1}
                  format={(v) => v.toFixed(2)} height={320} ariaLabel="Correlation heatmap" testId="correlation-heatmap" topDown />
              )}
            </Col>
          </Row>
          {comparison.sharpeTests.length > 0 && (
            <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
              Sharpe ratio difference tests (Jobson–Korkie–Memmel):{' '}
              {comparison.sharpeTests.map((t) => (
                <Tag key={`${t.runA}-${t.runB}`}>
                  {shortId(t.runA)} vs {shortId(t.runB)}: p = {t.pValue === null ? '—' : t.pValue.toFixed(3)}{t.reliable ? '' : ' (few periods)'}
                </Tag>
              ))}
            </Typography.Paragraph>
          )}
          {comparison.notes.map((n, i) => <Typography.Paragraph key={i} type="secondary" style={{ fontSize: 12, margin: 0 }}>{n}</Typography.Paragraph>)}
        </Space>
      )}
    </div>
  );
}
