// The confirmation dialog: what is about to run, in a few lines.
import { Descriptions, Modal } from 'antd';
import type { PendingRun } from './useReviewAndRun';

export function ConfirmRun({ pending, submitting, onRun, onCancel }: {
  pending: PendingRun | null; submitting: boolean; onRun(): void; onCancel(): void;
}) {
  return (
    <Modal
      open={!!pending}
      title="Run this backtest?"
      okText="Run backtest"
      onOk={onRun}
      confirmLoading={submitting}
      onCancel={onCancel}
      destroyOnHidden
    >
      {pending && (
        <Descriptions size="small" column={1} bordered data-testid="confirm-summary">
          <Descriptions.Item label="Strategy">{pending.config.strategyClass}</Descriptions.Item>
          <Descriptions.Item label="Parameters">
            {Object.entries(pending.config.strategyConfig).map(([k, v]) => `${k}=${String(v)}`).join(', ') || 'defaults'}
          </Descriptions.Item>
          <Descriptions.Item label="Instruments">{pending.config.instruments.join(', ')}</Descriptions.Item>
          <Descriptions.Item label="Dates">{pending.config.startDate} → {pending.config.endDate}</Descriptions.Item>
          <Descriptions.Item label="Capital">
            {pending.config.initialBalance.toLocaleString('en-US')} {pending.config.baseCurrency} ({pending.config.accountType})
          </Descriptions.Item>
          <Descriptions.Item label="Data">
            {pending.config.dataConfiguration.resolution} {pending.config.dataConfiguration.dataType}, {pending.config.dataConfiguration.adjustment}
          </Descriptions.Item>
          <Descriptions.Item label="Priority">{pending.priority}</Descriptions.Item>
        </Descriptions>
      )}
    </Modal>
  );
}
