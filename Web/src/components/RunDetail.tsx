// One run: its header and controls, live monitoring, and the results.
import { Button, Card, Space, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import { useBacktestLive } from '../live/useBacktestLive';
import { BacktestMonitor, StateTag } from './BacktestMonitor';
import { BacktestResults } from './BacktestResults';
import { RunActions } from './runActions';

export default function RunDetail({ id, onBack }: { id: string; onBack(): void }) {
  const live = useBacktestLive(id);
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="run-detail">
      <Card size="small">
        <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
          <Space>
            <Button icon={<ArrowLeftOutlined />} onClick={onBack} aria-label="Back to runs" />
            <Typography.Text strong>{live.status?.strategy ?? 'Backtest'}</Typography.Text>
            <Typography.Text copyable={{ text: id }} type="secondary" data-testid="run-id">{id}</Typography.Text>
            <StateTag state={live.status?.state} />
            {live.status?.priority && <Typography.Text type="secondary">priority {live.status.priority}</Typography.Text>}
          </Space>
          <RunActions id={id} state={live.status?.state} onChanged={live.refresh} />
        </Space>
      </Card>
      <BacktestMonitor live={live} />
      <BacktestResults backtestId={id} live={live} />
    </Space>
  );
}
