// One walk-forward analysis: its state and windows' progress (the status read every 2 s until it ends), a cancel
// button, the windows on a timeline (in-sample and out-of-sample spans on one date axis, with each window's choice and
// state), and once completed the stitched out-of-sample curve with every window's in-sample curve (read once from
// /insample), the efficiency, the t-statistic, the parameter drift and each window's metrics in and out of sample. The
// pure parts are in ./walkForward.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Button, Card, Descriptions, Progress, Space, Table, Tag, Typography, message } from 'antd';
import type { ApiError } from '../api/client';
import type { ParameterDrift, WalkForwardInSample, WalkForwardStatus } from '../api/types';
import { useSession } from '../session';
import { EChart } from './EChart';
import { METRIC_BY_NAME, formatMetric } from './metricDefinitions';
import {
  IN_SAMPLE_SERIES, STITCHED_SERIES, dateOfDay, equityLines, searchedParameters, timelineBars, timelineRows, windowMetricRows, windowsProgress,
  type TimelineRow, type WindowMetricRow,
} from './walkForward';

const TERMINAL = new Set(['completed', 'cancelled', 'failed']);
const POLL_MS = 2000;
const WINDOW_METRICS = ['sharpeRatio', 'totalReturn', 'annualizedReturn', 'maxDrawdown'];
const WINDOW_COLORS: Record<string, string> = { optimizing: 'processing', outOfSample: 'warning', completed: 'success', noFeasibleTrial: 'default' };

const metricText = (name: string, v: number | null | undefined) => formatMetric(v ?? null, METRIC_BY_NAME.get(name)?.format ?? 'ratio');
const number = (v: number | null, digits = 3) => (v === null || v === undefined ? '—' : v.toFixed(digits));

export default function WalkForwardJobView({ id, onBack }: { id: string; onBack(): void }) {
  const { api } = useSession();
  const [status, setStatus] = useState<WalkForwardStatus | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => api.walkForward(id).then(setStatus, (e: ApiError) => setError(e.message)), [api, id]);
  const ended = status ? TERMINAL.has(status.status) : false;
  useEffect(() => {
    void load();
  }, [load]);
  // The status is read every 2 s until the analysis ends.
  useEffect(() => {
    if (ended) return;
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [load, ended]);
  // The in-sample curves exist once the stitched curve does: read them once then.
  const [inSample, setInSample] = useState<WalkForwardInSample | null>(null);
  const [inSampleError, setInSampleError] = useState<string | null>(null);
  const stitched = status?.status === 'completed' && !!status.summary;
  useEffect(() => {
    if (!stitched) return;
    let live = true;
    api.walkForwardInSample(id).then((c) => live && setInSample(c), (e: ApiError) => live && setInSampleError(e.message));
    return () => {
      live = false;
    };
  }, [api, id, stitched]);

  if (error) return <Card size="small"><Typography.Text type="danger">{error}</Typography.Text> <Button onClick={onBack}>Back</Button></Card>;
  if (!status) return <Card size="small" loading />;

  const cancel = () => api.cancelWalkForward(id).then(setStatus, (e: ApiError) => message.error(e.message));
  const progress = windowsProgress(status);
  const summary = status.summary;
  const v = status.validation;
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="walkforward-job">
      <Card size="small" title={<span>{status.name} <Tag data-testid="walkforward-state">{status.status}</Tag></span>} extra={
        <Space>
          <Button onClick={onBack}>Back</Button>
          <Button danger disabled={ended} onClick={() => void cancel()} data-testid="walkforward-cancel">Cancel</Button>
        </Space>
      }>
        <Progress percent={progress.total ? Math.floor((100 * progress.done) / progress.total) : 0}
          status={status.status === 'failed' ? 'exception' : ended ? 'success' : 'active'} />
        <Descriptions size="small" column={4} items={[
          { key: 'w', label: 'Windows', children: <span data-testid="walkforward-windows-done">{progress.done} / {progress.total}</span> },
          { key: 'v', label: 'Windows of', children: `${v.inSample} in sample, ${v.outOfSample} out, step ${v.step}${v.anchored ? ', anchored' : ''}` },
          { key: 'o', label: 'Objective', children: `${status.objective.direction} ${status.objective.metric}` },
          { key: 'm', label: 'Method', children: `${status.method} · ${status.strategy}` },
        ]} />
        {status.errorMessage && <Typography.Text type="danger">{status.errorMessage}</Typography.Text>}
      </Card>
      <Timeline rows={timelineRows(status)} />
      {status.status === 'completed' && !summary && (
        <Card size="small"><Typography.Text data-testid="walkforward-no-summary">No window had a feasible trial: there is no out-of-sample result.</Typography.Text></Card>
      )}
      {summary && (
        <>
          <Card size="small" title="Stitched out of sample" data-testid="walkforward-summary">
            <Descriptions size="small" column={4} items={[
              { key: 'e', label: 'Efficiency', children: <span data-testid="walkforward-efficiency">{number(summary.efficiency)}</span> },
              { key: 't', label: 't-statistic', children: <span data-testid="walkforward-tstat">{number(summary.tStatistic)}</span> },
              ...WINDOW_METRICS.map((m) => ({ key: m, label: METRIC_BY_NAME.get(m)?.label ?? m, children: metricText(m, summary.metrics?.[m]) })),
            ]} />
            <EquityCurves points={summary.stitchedEquity} inSample={inSample} />
            {inSampleError && <Typography.Text type="warning" data-testid="walkforward-insample-error">In-sample curves: {inSampleError}</Typography.Text>}
            {inSample?.notes.map((n) => <div key={n}><Typography.Text type="secondary" data-testid="walkforward-insample-note">{n}</Typography.Text></div>)}
          </Card>
          <DriftTable drift={summary.drift} />
        </>
      )}
      <WindowMetrics rows={windowMetricRows(status, WINDOW_METRICS)} parameters={searchedParameters(status)} />
    </Space>
  );
}

function Timeline({ rows }: { rows: TimelineRow[] }) {
  const option = useMemo(() => {
    const bars = timelineBars(rows);
    const labels = rows.map((r) => r.label);
    const stack = (name: string, data: number[], color: string | null) => ({
      name, type: 'bar', stack: 'span', data, barWidth: 14,
      itemStyle: color ? { color } : { color: 'transparent' },
      emphasis: color ? undefined : { disabled: true },
      tooltip: color ? undefined : { show: false },
    });
    return {
      animation: false,
      grid: { left: 80, right: 24, top: 28, bottom: 28 },
      legend: { data: ['In sample', 'Out of sample'], top: 0 },
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number; seriesName: string }) => {
          const r = rows[p.dataIndex];
          const span = p.seriesName === 'In sample' ? r.inSample : r.outOfSample;
          return `${r.label} · ${p.seriesName}<br/>${span[0]} – ${span[1]}<br/>${r.state}: ${r.parameters}`;
        },
      },
      xAxis: { type: 'value', min: bars.min, max: bars.max, axisLabel: { formatter: (d: number) => dateOfDay(d) } },
      yAxis: { type: 'category', data: labels, inverse: true },
      series: [
        stack('lead', bars.lead, null), stack('In sample', bars.inSample, '#5470c6'), stack('gap', bars.gap, null),
        stack('Out of sample', bars.outOfSample, '#91cc75'),
      ],
    };
  }, [rows]);
  return (
    <Card size="small" title="Windows" data-testid="walkforward-timeline">
      {rows.length > 0 && <EChart option={option} height={Math.max(140, 30 * rows.length + 70)} testId="walkforward-timeline-chart"
        label="The windows' in-sample and out-of-sample spans" />}
      <Table<TimelineRow> size="small" rowKey="index" dataSource={rows} pagination={false} data-testid="walkforward-windows"
        columns={[
          { title: 'Window', dataIndex: 'label' },
          { title: 'In sample', render: (_, r) => `${r.inSample[0]} – ${r.inSample[1]}` },
          { title: 'Out of sample', render: (_, r) => `${r.outOfSample[0]} – ${r.outOfSample[1]}${r.truncated ? ' (truncated)' : ''}` },
          { title: 'Chosen parameters', dataIndex: 'parameters' },
          { title: 'State', dataIndex: 'state', render: (s: string) => <Tag color={WINDOW_COLORS[s]} data-testid="walkforward-window-state">{s}</Tag> },
        ]} />
    </Card>
  );
}

/** The stitched out-of-sample curve (solid) and each window's in-sample curve (dashed, one legend entry) on one date axis. */
function EquityCurves({ points, inSample }: { points: { date: string; equity: number }[]; inSample: WalkForwardInSample | null }) {
  const lines = useMemo(() => equityLines(points, inSample), [points, inSample]);
  const option = useMemo(() => ({
    animation: false,
    grid: { left: 70, right: 24, top: 32, bottom: 28 },
    legend: { data: [STITCHED_SERIES, IN_SAMPLE_SERIES], top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', scale: true },
    series: lines.map((line) => ({
      name: line.name, type: 'line', showSymbol: false, data: line.data,
      ...(line.window === null
        ? { lineStyle: { width: 2, color: '#389e0d' }, itemStyle: { color: '#389e0d' }, z: 3 }
        : { lineStyle: { width: 1, type: 'dashed', color: '#4096ff' }, itemStyle: { color: '#4096ff' }, z: 2 }),
    })),
  }), [lines]);
  // What is drawn, for the browser tests (the chart itself is a canvas): each line's name, window, points and end dates.
  const drawnLines = JSON.stringify(lines.map((l) => ({ name: l.name, window: l.window, points: l.data.length, first: l.data[0]?.[0] ?? null,
    last: l.data.at(-1)?.[0] ?? null })));
  const windows = lines.length - 1;
  return (
    <div data-testid="walkforward-equity-lines" data-lines={drawnLines}>
      <EChart option={option} height={300} testId="walkforward-equity"
        label="Stitched out-of-sample equity with each window's in-sample equity, rebased to meet it" />
      {inSample && (
        <Typography.Text type="secondary" data-testid="walkforward-insample-caption">
          {windows === 1 ? 'The in-sample curve of 1 window' : `The in-sample curves of ${windows} windows`} (dashed): the chosen trial's
          daily returns, each rebased to end where the stitched curve begins that window's out-of-sample part.
        </Typography.Text>
      )}
    </div>
  );
}

function DriftTable({ drift }: { drift: ParameterDrift[] }) {
  return (
    <Card size="small" title="Parameter drift" data-testid="walkforward-drift">
      <Table<ParameterDrift> size="small" rowKey="parameter" dataSource={drift} pagination={false} columns={[
        { title: 'Parameter', dataIndex: 'parameter' },
        { title: 'Values by window', render: (_, d) => d.values.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') },
        { title: 'Changes', dataIndex: 'changes' },
        { title: 'Distinct', dataIndex: 'distinct' },
        { title: 'Mean', render: (_, d) => number(d.mean) },
        { title: 'Std dev', render: (_, d) => number(d.standardDeviation) },
        { title: 'Mean |change|', render: (_, d) => number(d.meanAbsoluteChange) },
      ]} />
    </Card>
  );
}

function WindowMetrics({ rows, parameters }: { rows: WindowMetricRow[]; parameters: string[] }) {
  const byWindow = useMemo(() => {
    const map = new Map<number, Record<string, WindowMetricRow>>();
    for (const r of rows) map.set(r.index, { ...(map.get(r.index) ?? {}), [r.metric]: r });
    return [...map.entries()].map(([index, metrics]) => ({ index, metrics }));
  }, [rows]);
  const metrics = [...new Set(rows.map((r) => r.metric))];
  return (
    <Card size="small" title={`In sample vs out of sample by window${parameters.length ? ` (searching ${parameters.join(', ')})` : ''}`}
      data-testid="walkforward-window-metrics">
      <Table size="small" rowKey="index" dataSource={byWindow} pagination={false} columns={[
        { title: 'Window', render: (_, r) => `Window ${r.index + 1}` },
        ...metrics.map((m) => ({
          title: METRIC_BY_NAME.get(m)?.label ?? m,
          children: [
            { title: 'in', key: `${m}-in`, render: (_: unknown, r: { metrics: Record<string, WindowMetricRow> }) => metricText(m, r.metrics[m]?.inSample) },
            { title: 'out', key: `${m}-out`, render: (_: unknown, r: { metrics: Record<string, WindowMetricRow> }) => metricText(m, r.metrics[m]?.outOfSample) },
          ],
        })),
      ]} />
    </Card>
  );
}
