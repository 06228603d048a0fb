// One optimization job: its progress and rate (live over the hub), a sortable leaderboard read page by page from the
// server, a heatmap of any two parameters (refreshed as trials arrive), "open as backtest" per trial, the lifecycle
// buttons, the exports and, once completed, its robustness (RobustnessPanel).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Button, Card, Descriptions, Progress, Select, Space, Table, Tag, Typography, message } from 'antd';
import type { SorterResult } from 'antd/es/table/interface';
import type { ApiError } from '../api/client';
import type { OptimizationLiveMessage, OptimizationStatus, Surface, TrialRow } from '../api/types';
import { useSession } from '../session';
import { Heatmap } from './Heatmap';
import { RobustnessPanel } from './RobustnessPanel';
import { METRICS, METRIC_BY_NAME, formatMetric } from './metricDefinitions';
import { formatDuration, rememberRate } from './optimizeForm';

const TERMINAL = new Set(['completed', 'cancelled', 'failed']);
const LEADERBOARD_METRICS = ['sharpeRatio', 'totalReturn', 'maxDrawdown', 'totalTrades'];
const PAGE_SIZE = 20;

const label = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

export default function OptimizationJobView({ id, onBack, onOpenBacktest }: { id: string; onBack(): void; onOpenBacktest(id: string): void }) {
  const { api, hub } = useSession();
  const [status, setStatus] = useState<OptimizationStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [trialsSeen, setTrialsSeen] = useState(0);

  const load = useCallback(() => api.optimization(id).then(setStatus, (e: ApiError) => setError(e.message)), [api, id]);
  useEffect(() => {
    void load();
  }, [load]);

  // Live: progress moves the bar, new trials refresh the leaderboard and the heatmap, the completion re-reads the status.
  useEffect(() => hub.subscribeOptimization(id, {
    onMessage: (m: OptimizationLiveMessage) => {
      if (m.type === 'optimization_progress') {
        setStatus((s) => (s ? { ...s, status: m.data.status, progress: m.data.progress, best: m.data.best, batches: m.data.batches } : s));
      } else if (m.type === 'optimization_trials') {
        setTrialsSeen((n) => n + m.data.trials.length);
      } else {
        void load();
        setTrialsSeen((n) => n + 1);
      }
    },
    onResync: () => void load(),
  }), [hub, id, load]);

  useEffect(() => {
    if (status?.status === 'completed') rememberRate(status.strategy, status.progress.trialsPerSecond);
  }, [status?.status, status?.strategy, status?.progress.trialsPerSecond]);

  if (error) return <Card size="small"><Typography.Text type="danger">{error}</Typography.Text> <Button onClick={onBack}>Back</Button></Card>;
  if (!status) return <Card size="small" loading />;

  const act = (action: () => Promise<OptimizationStatus>) => action().then(setStatus, (e: ApiError) => message.error(e.message));
  const terminal = TERMINAL.has(status.status);
  const p = status.progress;
  const download = async (format: 'csv' | 'xlsx' | 'pdf') => {
    const { blob, fileName } = await api.exportTrials(id, format);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    URL.revokeObjectURL(url);
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="optimization-job">
      <Card size="small" title={<span>{status.name} <Tag data-testid="optimization-state">{status.status}</Tag></span>} extra={
        <Space>
          <Button onClick={onBack}>Back</Button>
          {status.status === 'paused'
            ? <Button onClick={() => act(() => api.resumeOptimization(id))}>Resume</Button>
            : <Button disabled={terminal} onClick={() => act(() => api.pauseOptimization(id))}>Pause</Button>}
          <Button danger disabled={terminal} onClick={() => act(() => api.cancelOptimization(id))}>Cancel</Button>
          <Button onClick={() => void download('csv')}>CSV</Button>
          <Button onClick={() => void download('xlsx')}>Excel</Button>
          <Button onClick={() => void download('pdf')}>PDF report</Button>
        </Space>
      }>
        <Progress percent={p.trialsPlanned ? Math.floor((100 * p.trialsCompleted) / p.trialsPlanned) : 0}
          status={status.status === 'failed' ? 'exception' : terminal ? 'success' : 'active'} />
        <Descriptions size="small" column={4} items={[
          { key: 't', label: 'Trials', children: <span data-testid="trials-completed">{p.trialsCompleted} / {p.trialsPlanned}</span> },
          { key: 'f', label: 'Feasible', children: p.trialsFeasible },
          { key: 'r', label: 'Trials/s', children: <span data-testid="trials-per-second">{p.trialsPerSecond.toFixed(2)}</span> },
          { key: 'e', label: 'Remaining', children: p.estimatedTimeRemaining === null ? '—' : formatDuration(p.estimatedTimeRemaining) },
          { key: 'o', label: 'Objective', children: `${status.objective.direction} ${status.objective.metric}` },
          { key: 'm', label: 'Method', children: `${status.method} · ${status.strategy}` },
          { key: 'b', label: 'Best', children: status.best ? `trial ${status.best.trial}: ${status.best.objective.toFixed(4)}` : '—' },
          { key: 'x', label: 'Batches', children: `${status.batches.completed} / ${status.batches.total} done, ${status.batches.running} running` },
        ]} />
        {status.errorMessage && <Typography.Text type="danger">{status.errorMessage}</Typography.Text>}
      </Card>
      <Leaderboard id={id} status={status} refresh={trialsSeen} onOpenBacktest={onOpenBacktest} />
      <SurfaceCard id={id} status={status} refresh={trialsSeen} />
      <RobustnessPanel id={id} ended={status.status === 'completed'} />
    </Space>
  );
}

function Leaderboard({ id, status, refresh, onOpenBacktest }: { id: string; status: OptimizationStatus; refresh: number; onOpenBacktest(id: string): void }) {
  const { api } = useSession();
  const [sort, setSort] = useState<string | undefined>(undefined);
  const [page, setPage] = useState(1);
  const [data, setData] = useState<{ items: TrialRow[]; total: number }>({ items: [], total: 0 });
  const parameters = Object.keys(status.config?.parameters ?? {});
  const lastRead = useRef(0);

  useEffect(() => {
    // Live trials arrive in bursts: read at most about once a second.
    const wait = Math.max(0, 1000 - (Date.now() - lastRead.current));
    const timer = setTimeout(() => {
      lastRead.current = Date.now();
      api.trials(id, { sort, page, pageSize: PAGE_SIZE }).then(setData, () => undefined);
    }, wait);
    return () => clearTimeout(timer);
  }, [api, id, sort, page, refresh]);

  const open = async (trial: number) => {
    try {
      const { id: backtestId } = await api.openTrialAsBacktest(id, trial);
      message.success(`Trial ${trial} started as backtest ${backtestId.slice(0, 8)}`);
      onOpenBacktest(backtestId);
    } catch (e) {
      message.error((e as ApiError).message);
    }
  };

  const metricColumn = (name: string) => ({
    key: name, title: METRIC_BY_NAME.get(name)?.label ?? name, sorter: true, sortOrder: sortOrderOf(sort, name),
    render: (_: unknown, row: TrialRow) => formatMetric(row.metrics?.[name] ?? null, METRIC_BY_NAME.get(name)?.format ?? 'ratio'),
  });

  return (
    <Card size="small" title="Leaderboard" data-testid="leaderboard">
      <Table<TrialRow> size="small" rowKey="trial" dataSource={data.items}
        pagination={{ current: page, pageSize: PAGE_SIZE, total: data.total, onChange: setPage, showSizeChanger: false }}
        onChange={(_, __, sorter) => {
          const s = sorter as SorterResult<TrialRow>;
          const key = s.columnKey ? String(s.columnKey) : undefined;
          setSort(key && s.order ? `${s.order === 'descend' ? '-' : ''}${key}` : undefined);
          setPage(1);
        }}
        columns={[
          { key: 'trial', title: 'Trial', dataIndex: 'trial', sorter: true, sortOrder: sortOrderOf(sort, 'trial') },
          ...parameters.map((name) => ({ key: `p-${name}`, title: name, render: (_: unknown, row: TrialRow) => label(row.parameters[name]) })),
          { key: 'objective', title: `Objective (${status.objective.metric})`, sorter: true, sortOrder: sortOrderOf(sort, 'objective'),
            render: (_: unknown, row: TrialRow) => (row.objective === null ? '—' : row.objective.toFixed(4)) },
          ...LEADERBOARD_METRICS.filter((m) => m !== status.objective.metric).map(metricColumn),
          { key: 'feasible', title: 'Feasible', render: (_: unknown, row: TrialRow) =>
            (row.feasible ? <Tag color="success">yes</Tag> : <Tag title={row.infeasibleReason ?? ''}>no</Tag>) },
          { key: 'open', title: '', render: (_: unknown, row: TrialRow) =>
            <Button size="small" disabled={!row.feasible} onClick={() => void open(row.trial)} data-testid={`open-trial-${row.trial}`}>Open as backtest</Button> },
        ]} />
    </Card>
  );
}

function sortOrderOf(sort: string | undefined, key: string): 'ascend' | 'descend' | null {
  if (!sort) return null;
  if (sort === key) return 'ascend';
  if (sort === `-${key}`) return 'descend';
  return null;
}

function SurfaceCard({ id, status, refresh }: { id: string; status: OptimizationStatus; refresh: number }) {
  const { api } = useSession();
  const searched = useMemo(() => Object.entries(status.config?.parameters ?? {})
    .filter(([, spec]) => typeof spec === 'object' && spec !== null).map(([name]) => name), [status.config]);
  const names = searched.length >= 2 ? searched : Object.keys(status.config?.parameters ?? {});
  const [x, setX] = useState<string | undefined>(names[0]);
  const [y, setY] = useState<string | undefined>(names[1]);
  const [metric, setMetric] = useState(status.objective.metric);
  const [surface, setSurface] = useState<Surface | null>(null);
  const lastRead = useRef(0);

  useEffect(() => {
    if (!x || !y || x === y) return;
    const wait = Math.max(0, 2000 - (Date.now() - lastRead.current));
    const timer = setTimeout(() => {
      lastRead.current = Date.now();
      api.surface(id, x, y, metric).then(setSurface, () => setSurface(null));
    }, wait);
    return () => clearTimeout(timer);
  }, [api, id, x, y, metric, refresh]);

  const heat = useMemo(() => {
    if (!surface) return null;
    const xLabels = surface.xValues.map(label);
    const yLabels = surface.yValues.map(label);
    const cells = surface.cells.map((c) => [xLabels.indexOf(label(c.x)), yLabels.indexOf(label(c.y)), c.best] as [number, number, number | null])
      .filter(([i, j]) => i >= 0 && j >= 0);
    const values = cells.map((c) => c[2]).filter((v): v is number => v !== null);
    return { xLabels, yLabels, cells, min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 1 };
  }, [surface]);
  const format = useCallback((v: number) => formatMetric(v, METRIC_BY_NAME.get(metric)?.format ?? 'ratio'), [metric]);

  if (names.length < 2) return null;
  return (
    <Card size="small" title="Surface" data-testid="surface" extra={
      <Space>
        <Select aria-label="Heatmap x" value={x} onChange={setX} style={{ width: 140 }} options={names.map((n) => ({ value: n, label: n }))} />
        <Select aria-label="Heatmap y" value={y} onChange={setY} style={{ width: 140 }} options={names.map((n) => ({ value: n, label: n }))} />
        <Select aria-label="Heatmap metric" value={metric} onChange={setMetric} style={{ width: 180 }} showSearch
          options={METRICS.map((m) => ({ value: m.name, label: m.label }))} />
      </Space>
    }>
      {heat && <Heatmap xLabels={heat.xLabels} yLabels={heat.yLabels} cells={heat.cells} min={heat.min} max={heat.max} format={format}
        ariaLabel={`${metric} by ${x} and ${y}`} testId="surface-heatmap" height={Math.max(240, 28 * heat.yLabels.length + 100)} />}
    </Card>
  );
}
