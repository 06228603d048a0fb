// Every run of the signed-in user (an admin sees all): filters by state and strategy, pages, open and delete.
import { useCallback, useEffect, useState } from 'react';
import { Alert, Card, Input, Select, Space, Table, Typography } from 'antd';
import { useSession } from '../session';
import type { BacktestStatus } from '../api/types';
import { StateTag } from './BacktestMonitor';
import { RunActions } from './runActions';

const STATES = ['queued', 'running', 'paused', 'completed', 'cancelled', 'failed', 'timedOut'];

export function RunList({ onOpen }: { onOpen(id: string): void }) {
  const { api } = useSession();
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);
  const [status, setStatus] = useState<string | undefined>();
  const [strategy, setStrategy] = useState('');
  const [data, setData] = useState<{ items: BacktestStatus[]; total: number }>({ items: [], total: 0 });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    api.list({ page, pageSize, status, strategy: strategy || undefined, sort: 'createdNewest' }).then(
      (p) => {
        setData(p);
        setError(null);
        setLoading(false);
      },
      (e: Error) => {
        setError(e.message);
        setLoading(false);
      },
    );
  }, [api, page, pageSize, status, strategy]);

  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [load]);

  return (
    <Card size="small" title="Runs" data-testid="run-list" extra={
      <Space>
        <Select allowClear placeholder="Any state" aria-label="Filter by state" style={{ width: 140 }} value={status}
          onChange={(v) => { setStatus(v); setPage(1); }} options={STATES.map((s) => ({ value: s, label: s }))} />
        <Input.Search allowClear placeholder="Strategy" aria-label="Filter by strategy" style={{ width: 180 }}
          onSearch={(v) => { setStrategy(v); setPage(1); }} />
      </Space>
    }>
      {error && <Alert type="error" message={error} style={{ marginBottom: 8 }} />}
      <Table<BacktestStatus>
        rowKey="id"
        size="small"
        loading={loading}
        dataSource={data.items}
        scroll={{ x: 900 }}
        pagination={{ current: page, pageSize, total: data.total, showSizeChanger: true,
          onChange: (p, s) => { setPage(p); setPageSize(s); } }}
        columns={[
          { title: 'Backtest', dataIndex: 'id', render: (id: string) =>
            <Typography.Link onClick={() => onOpen(id)} data-testid={`run-open-${id}`}>{id.slice(0, 8)}</Typography.Link> },
          { title: 'Strategy', dataIndex: 'strategy' },
          { title: 'State', dataIndex: 'state', render: (s: string) => <StateTag state={s} /> },
          { title: 'Created', dataIndex: 'createdAt', render: (t?: string) => t?.slice(0, 19).replace('T', ' ') },
          { title: 'Period', key: 'period', render: (_, r) =>
            r.startDate ? `${r.startDate.slice(0, 10)} → ${r.endDate?.slice(0, 10) ?? ''}` : '—' },
          { title: 'Progress', key: 'progress', align: 'right', render: (_, r) =>
            r.percentage !== undefined ? `${r.percentage.toFixed(0)}%` : '—' },
          { title: 'Owner', dataIndex: 'owner' },
          { title: 'Actions', key: 'actions', render: (_, r) => <RunActions id={r.id} state={r.state} onChanged={load} allowDelete /> },
        ]}
      />
    </Card>
  );
}
