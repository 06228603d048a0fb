// The Walk-forward page: the Optimize form with the windows' settings (OptimizePage's OptimizeForm in walk-forward
// mode), and below it the trader's analyses.
import { useEffect, useState } from 'react';
import { Card, Space, Spin, Table, Tag, Typography } from 'antd';
import type { InstrumentInfo, StrategyTemplate, WalkForwardListItem } from '../api/types';
import { useSession } from '../session';
import { useServedOptions } from './configuration/servedOptions';
import { OptimizeForm, type OptimizeFormValues } from './OptimizePage';

const STATE_COLORS: Record<string, string> = {
  queued: 'default', running: 'processing', completed: 'success', cancelled: 'default', failed: 'error',
};

export function WalkForwardPage({ strategies, instruments, onOpen, initial }: {
  strategies: StrategyTemplate[];
  instruments: InstrumentInfo[];
  onOpen(id: string): void;
  initial?: Partial<OptimizeFormValues>;
}) {
  const options = useServedOptions();
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      {options ? <OptimizeForm walkForward initial={initial} strategies={strategies} instruments={instruments} options={options} onOpen={onOpen} />
        : <Card title="New walk-forward analysis" size="small"><Spin /></Card>}
      <WalkForwardList onOpen={onOpen} />
    </Space>
  );
}

/** The trader's analyses, newest first. */
function WalkForwardList({ onOpen }: { onOpen(id: string): void }) {
  const { api } = useSession();
  const [page, setPage] = useState(1);
  const [data, setData] = useState<{ items: WalkForwardListItem[]; total: number }>({ items: [], total: 0 });
  useEffect(() => {
    let live = true;
    const load = () => api.walkForwards({ page, pageSize: 10 }).then((p) => live && setData(p), () => undefined);
    void load();
    const timer = setInterval(load, 5000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, page]);
  return (
    <Card title="Walk-forward analyses" size="small" data-testid="walkforward-list">
      <Table<WalkForwardListItem> size="small" rowKey="id" dataSource={data.items}
        pagination={{ current: page, pageSize: 10, total: data.total, onChange: setPage }}
        columns={[
          { title: 'Name', dataIndex: 'name', render: (name: string | null, row) =>
            <Typography.Link onClick={() => onOpen(row.id)} data-testid={`walkforward-open-${row.id}`}>{name || row.id.slice(0, 8)}</Typography.Link> },
          { title: 'State', dataIndex: 'status', render: (s: string) => <Tag color={STATE_COLORS[s]}>{s}</Tag> },
          { title: 'Windows', dataIndex: 'windowsPlanned' },
          { title: 'Created', dataIndex: 'createdAt', render: (v: string) => new Date(v).toLocaleString() },
          { title: 'Completed', dataIndex: 'completedAt', render: (v: string | null) => (v ? new Date(v).toLocaleString() : '—') },
        ]} />
    </Card>
  );
}
