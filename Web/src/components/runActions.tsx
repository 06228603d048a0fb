// Pause, resume, cancel and delete for one run; shared by the queue, the run list and the run's page.
import { Button, Popconfirm, Space, message } from 'antd';
import { PauseOutlined, CaretRightOutlined, StopOutlined, DeleteOutlined } from '@ant-design/icons';
import { useSession } from '../session';
import { isTerminal, type BacktestState } from '../api/types';

export function RunActions({ id, state, onChanged, allowDelete }: {
  id: string; state?: BacktestState; onChanged?(): void; allowDelete?: boolean;
}) {
  const { api } = useSession();
  const act = (name: string, call: () => Promise<unknown>) => async () => {
    try {
      await call();
      message.success(`${name}: done`);
    } catch (e) {
      message.error(`${name}: ${(e as Error).message}`);
    } finally {
      onChanged?.();
    }
  };
  const live = !isTerminal(state);
  return (
    <Space size={4} wrap>
      {state === 'running' && (
        <Button size="small" icon={<PauseOutlined />} onClick={act('Pause', () => api.pause(id))} aria-label={`Pause ${id}`}>Pause</Button>
      )}
      {state === 'paused' && (
        <Button size="small" icon={<CaretRightOutlined />} onClick={act('Resume', () => api.resume(id))} aria-label={`Resume ${id}`}>Resume</Button>
      )}
      {live && (
        <Popconfirm title="Cancel this backtest?" onConfirm={act('Cancel', () => api.cancel(id))} okText="Cancel it" cancelText="Keep">
          <Button size="small" danger icon={<StopOutlined />} aria-label={`Cancel ${id}`}>Cancel</Button>
        </Popconfirm>
      )}
      {allowDelete && (
        <Popconfirm title="Delete this backtest and its results?" onConfirm={act('Delete', () => api.remove(id))} okText="Delete">
          <Button size="small" icon={<DeleteOutlined />} aria-label={`Delete ${id}`}>Delete</Button>
        </Popconfirm>
      )}
    </Space>
  );
}
