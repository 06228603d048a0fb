// Live monitoring of one run: progress with percentage, ETA, bars/s and the date being processed, live
// statistics and resources, errors with their details, and the connection state (stale data is marked).
import { Alert, Badge, Card, Col, Descriptions, Progress, Row, Statistic, Tag, Typography } from 'antd';
import type { LiveState } from '../live/useBacktestLive';
import { isTerminal } from '../api/types';

export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return '< 1 s';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const STATE_COLORS: Record<string, string> = {
  created: 'default', queued: 'default', starting: 'processing', running: 'processing', paused: 'warning',
  completed: 'success', cancelled: 'default', failed: 'error', timedOut: 'error',
};
export const StateTag = ({ state }: { state?: string }) =>
  <Tag color={STATE_COLORS[state ?? ''] ?? 'default'} data-testid="state-tag">{state ?? 'unknown'}</Tag>;

const PHASE_BADGE = {
  connected: { status: 'success', text: 'live' },
  connecting: { status: 'processing', text: 'connecting' },
  reconnecting: { status: 'warning', text: 'reconnecting…' },
  disconnected: { status: 'error', text: 'disconnected' },
} as const;

export function BacktestMonitor({ live, currency = 'USD' }: { live: LiveState; currency?: string }) {
  const { status, progress, error, complete, phase, stale } = live;
  const state = status?.state;
  const p = progress?.progress;
  const done = state === 'completed';
  const percent = done ? 100 : Math.min(100, Math.max(0, p?.percentage ?? 0));
  const money = (v: number | undefined) => v === undefined ? '—'
    : new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 0 }).format(v);
  const badge = PHASE_BADGE[phase];
  // A paused or waiting run has no rate and no ETA.
  const moving = state === 'running' || state === 'starting';

  return (
    <Card
      size="small"
      data-testid="backtest-monitor"
      title={<span>Progress <StateTag state={state} /></span>}
      extra={<Badge status={badge.status} text={<span data-testid="connection-phase">{badge.text}</span>} />}
      style={{ opacity: stale && !isTerminal(state) ? 0.6 : 1 }}
    >
      {stale && !isTerminal(state) && status && (
        <Typography.Text type="warning" data-testid="stale-note">Re-reading the current state…</Typography.Text>
      )}
      <Progress
        percent={Number(percent.toFixed(1))}
        status={state === 'failed' || state === 'timedOut' ? 'exception' : done ? 'success' : state === 'running' ? 'active' : 'normal'}
        aria-label="Backtest progress"
        data-testid="progress-bar"
        data-percent={percent}
      />
      <Row gutter={[12, 12]}>
        <Col xs={12} md={6}><Statistic title="ETA" value={moving ? formatEta(p?.estimatedTimeRemaining) : '—'} /></Col>
        <Col xs={12} md={6}><Statistic title="Bars/s" value={p && (moving || done) ? Math.round(p.processingRate).toLocaleString('en-US') : '—'} /></Col>
        <Col xs={12} md={6}><Statistic title="Processing date" value={p?.currentDate?.slice(0, 10) || '—'} /></Col>
        <Col xs={12} md={6}>
          <Statistic title="Bars" value={p ? `${p.processedBars.toLocaleString('en-US')} / ${p.totalBars.toLocaleString('en-US')}` : '—'} />
        </Col>
      </Row>
      {progress && (
        <Descriptions size="small" column={{ xs: 2, md: 4 }} style={{ marginTop: 12 }} data-testid="live-stats">
          <Descriptions.Item label="Trades">{progress.statistics.tradesExecuted}</Descriptions.Item>
          <Descriptions.Item label="Balance">{money(progress.statistics.currentBalance)}</Descriptions.Item>
          <Descriptions.Item label="Unrealized P&L">{money(progress.statistics.unrealizedPnl)}</Descriptions.Item>
          <Descriptions.Item label="Drawdown">{(progress.statistics.drawdown * 100).toFixed(2)}%</Descriptions.Item>
          <Descriptions.Item label="CPU">{progress.performance.cpuUsage.toFixed(0)}%</Descriptions.Item>
          <Descriptions.Item label="Memory">{progress.performance.memoryUsage.toFixed(0)} MB</Descriptions.Item>
          <Descriptions.Item label="Disk I/O">{progress.performance.diskIO.toFixed(1)} MB/s</Descriptions.Item>
        </Descriptions>
      )}
      {complete && (
        <Alert
          style={{ marginTop: 12 }}
          type={complete.status === 'completed' ? 'success' : complete.status === 'cancelled' ? 'info' : 'error'}
          showIcon
          data-testid="completion"
          message={`Backtest ${complete.status}${complete.partial ? ' (partial results)' : ''} in ${complete.executionTime.toFixed(1)} s`}
          description={`${complete.summary.totalTrades} trades, final balance ${money(complete.summary.finalBalance)}, total return ${(complete.summary.totalReturn * 100).toFixed(2)}%`}
        />
      )}
      {error && (
        <Alert
          style={{ marginTop: 12 }}
          type="error"
          showIcon
          data-testid="run-error"
          message={`${error.errorType} error: ${error.errorMessage}`}
          description={error.errorDetails && (
            <details>
              <summary>Details{error.errorDetails.recoverable ? ' (recoverable)' : ''}</summary>
              {error.errorDetails.failedAtDate && <div>Failed at {error.errorDetails.failedAtDate}</div>}
              {error.errorDetails.failedInstrument && <div>Instrument {error.errorDetails.failedInstrument}</div>}
              {error.errorDetails.validationErrors?.map((v, i) => <div key={i}><code>{v.field}</code> {v.message}</div>)}
              {error.errorDetails.stackTrace && <pre style={{ maxHeight: 200, overflow: 'auto', fontSize: 11 }}>{error.errorDetails.stackTrace}</pre>}
            </details>
          )}
        />
      )}
      {live.loadError && <Alert style={{ marginTop: 12 }} type="warning" message={live.loadError} />}
    </Card>
  );
}
