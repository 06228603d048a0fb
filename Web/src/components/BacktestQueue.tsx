// Queued and running backtests: position, changeable priority, live progress, CPU and memory per run, and
// pause/resume/cancel. The list is re-read every two seconds; progress arrives live from the hub.
import { useCallback, useEffect, useState } from 'react';
import { Alert, Card, Progress, Select, Table, Typography, message } from 'antd';
import { useSession } from '../session';
import { PRIORITIES, type Priority, type ProgressData, type QueueEntry } from '../api/types';
import { StateTag, formatEta } from './BacktestMonitor';
import { RunActions } from './runActions';

function useLiveProgress(ids: string[]) {
  const { hub } = useSession();
  const [progress, setProgress] = useState<Record<string, ProgressData>>({});
  const key = ids.join(',');
  useEffect(() => {
    const offs = key.split(',').filter(Boolean).map((id) =>
      hub.subscribe(id, {
        onMessage: (m) => {
          if (m.type === 'backtest_progress') setProgress((p) => ({ ...p, [id]: m.data }));
        },
      }));
    return () => offs.forEach((off) => off());
  }, [hub, key]);
  return progress;
}

export function BacktestQueue({ onOpen }: { onOpen(id: string): void }) {
  const { api } = useSession();
  const [entries, setEntries] = useState<QueueEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);

  const load = useCallback(() => {
    api.queue().then(
      (q) => {
        setEntries(q);
        setError(null);
        setLoaded(true);
      },
      (e: Error) => setError(e.message),
    );
  }, [api]);

  useEffect(() => {
    load();
    const timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  }, [load]);

  const live = useLiveProgress(entries.map((e) => e.id));

  // Resources only mean something once a worker runs (a waiting run reports zeros).
  const resources = (e: QueueEntry) => (e.state === 'running' || e.state === 'paused' ? live[e.id] ?? e.progress ?? null : null);

  const changePriority = async (id: string, priority: Priority) => {
    try {
      await api.setPriority(id, priority);
      message.success(`Priority set to ${priority}`);
    } catch (e) {
      message.error((e as Error).message);
    }
    load();
  };

  return (
    <Card size="small" title="Queue" data-testid="backtest-queue"
      extra={<Typography.Text type="secondary">{entries.length} queued or running</Typography.Text>}>
      {error && <Alert type="error" message={error} style={{ marginBottom: 8 }} />}
      <Table<QueueEntry>
        rowKey="id"
        size="small"
        loading={!loaded && !error}
        dataSource={entries}
        pagination={false}
        scroll={{ x: 1000 }}
        locale={{ emptyText: 'Nothing queued or running' }}
        columns={[
          { title: 'Pos.', dataIndex: 'position', width: 60, render: (p: number | null) => p ?? '—' },
          {
            title: 'Backtest', dataIndex: 'id', width: 170,
            render: (id: string, e) => (
              <Typography.Link onClick={() => onOpen(id)} data-testid={`queue-open-${id}`}>
                {e.strategy ?? ''} {id.slice(0, 8)}
              </Typography.Link>
            ),
          },
          {
            title: 'Instruments', dataIndex: 'instruments', width: 150,
            render: (instruments: string[]) => <Typography.Text ellipsis>{instruments.join(', ')}</Typography.Text>,
          },
          { title: 'State', dataIndex: 'state', width: 100, render: (s: string) => <StateTag state={s} /> },
          {
            title: 'Priority', dataIndex: 'priority', width: 120,
            render: (p: Priority, e) => (
              <Select size="small" value={p} style={{ width: 100 }} aria-label={`Priority of ${e.id}`}
                disabled={e.position === null} title={e.position === null ? 'Only a waiting backtest\'s priority can change' : undefined}
                onChange={(v) => changePriority(e.id, v)} options={PRIORITIES.map((x) => ({ value: x, label: x }))} />
            ),
          },
          {
            title: 'Progress', key: 'progress', width: 220,
            render: (_, e) => {
              const p = live[e.id] ?? e.progress ?? undefined;
              return (
                <div data-testid={`queue-progress-${e.id}`}>
                  <Progress percent={Number((p?.progress.percentage ?? 0).toFixed(1))} size="small"
                    status={e.state === 'running' ? 'active' : 'normal'} />
                  {p && e.state === 'running' && (
                    <Typography.Text type="secondary" style={{ fontSize: 11 }}>
                      ETA {formatEta(p.progress.estimatedTimeRemaining)} · {Math.round(p.progress.processingRate).toLocaleString('en-US')} bars/s
                    </Typography.Text>
                  )}
                </div>
              );
            },
          },
          { title: 'CPU', key: 'cpu', width: 70, render: (_, e) => { const p = resources(e); return p ? `${p.performance.cpuUsage.toFixed(0)}%` : '—'; } },
          { title: 'Memory', key: 'mem', width: 90, render: (_, e) => { const p = resources(e); return p ? `${p.performance.memoryUsage.toFixed(0)} MB` : '—'; } },
          { title: 'Actions', key: 'actions', render: (_, e) => <RunActions id={e.id} state={e.state} onChanged={load} /> },
        ]}
      />
    </Card>
  );
}
