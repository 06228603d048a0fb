// The Walk-forward page: the Optimize form with the windows' settings (OptimizePage's OptimizeForm in walk-forward
// mode), and below it the trader's analyses.
import { useCallback } from 'react';
import { Card, Space, Spin, Tag, Typography } from 'antd';
import type { InstrumentInfo, StrategyTemplate, WalkForwardListItem } from '../api/types';
import { useSession } from '../session';
import { useServedOptions } from './configuration/servedOptions';
import { OptimizeForm, type OptimizeFormValues } from './OptimizePage';
import { PolledListCard } from './PolledListCard';
import { usePolledList } from './usePolledList';

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
  const list = usePolledList(useCallback((page: number, pageSize: number) => api.walkForwards({ page, pageSize }), [api]));
  return (
    <PolledListCard<WalkForwardListItem> title="Walk-forward analyses" testId="walkforward-list" list={list}
        columns={[
          { title: 'Name', dataIndex: 'name', render: (name: string | null, row) =>
            <Typography.Link onClick={() => onOpen(row.id)} data-testid={`walkforward-open-${row.id}`}>{name || row.id.slice(0, 8)}</Typography.Link> },
          { title: 'State', dataIndex: 'status', render: (s: string) => <Tag color={STATE_COLORS[s]}>{s}</Tag> },
          { title: 'Windows', dataIndex: 'windowsPlanned' },
          { title: 'Created', dataIndex: 'createdAt', render: (v: string) => new Date(v).toLocaleString() },
          { title: 'Completed', dataIndex: 'completedAt', render: (v: string | null) => (v ? new Date(v).toLocaleString() : '—') },
        ]} />
  );
}
