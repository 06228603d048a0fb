// The results of one run in tabs: Overview (key figures at once), Trades, Charts, Risk and Compare, with the
// export buttons. While the run is live, the charts and trades fill from the live stream.
import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Descriptions, Empty, Space, Spin, Tabs, Typography, message } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useSession } from '../session';
import { ApiError } from '../api/client';
import type { BacktestResults as Results, ChartPoint, ExportFormat } from '../api/types';
import type { LiveState } from '../live/useBacktestLive';
import { EquityCurveChart } from './EquityCurveChart';
import { PerformanceMetrics } from './PerformanceMetrics';
import { TradeAnalysisTable } from './TradeAnalysisTable';
import { Heatmap } from './Heatmap';
import { CompareView } from './CompareView';
import { MonteCarloPanel } from './MonteCarloPanel';

const EXPORTS: { format: ExportFormat; label: string }[] = [
  { format: 'pdf', label: 'PDF' },
  { format: 'xlsx', label: 'Excel' },
  { format: 'csv', label: 'CSV' },
  { format: 'json', label: 'JSON' },
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function MonthlyReturns({ results }: { results: Results }) {
  const data = useMemo(() => {
    const years = [...new Set(results.monthlyReturns.map((m) => m.year))].sort();
    const cells = results.monthlyReturns.map((m) => [m.month - 1, years.indexOf(m.year), m.return] as [number, number, number | null]);
    const values = cells.map((c) => c[2]).filter((v): v is number => v !== null);
    const extreme = Math.max(0.01, ...values.map(Math.abs));
    return { years: years.map(String), cells, extreme };
  }, [results]);
  if (!results.monthlyReturns.length) return <Empty description="No monthly returns" />;
  return (
    <Heatmap xLabels={MONTHS} yLabels={data.years} cells={data.cells} min={-data.extreme} max={data.extreme} format={pct}
      height={Math.max(200, 90 + data.years.length * 32)} topDown ariaLabel="Monthly returns heatmap" testId="monthly-heatmap" />
  );
}

export function ExportButtons({ backtestId, disabled }: { backtestId: string; disabled?: boolean }) {
  const { api } = useSession();
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const download = async (format: ExportFormat) => {
    setBusy(format);
    try {
      const { blob, fileName } = await api.exportFile(backtestId, format);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      message.error(`Export failed: ${(e as Error).message}`);
    } finally {
      setBusy(null);
    }
  };
  return (
    <Space wrap data-testid="export-buttons">
      {EXPORTS.map((e) => (
        <Button key={e.format} icon={<DownloadOutlined />} loading={busy === e.format} disabled={disabled}
          onClick={() => download(e.format)}>{e.label}</Button>
      ))}
    </Space>
  );
}

export function BacktestResults({ backtestId, live }: { backtestId: string; live: LiveState }) {
  const { api } = useSession();
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState('overview');
  const state = live.status?.state;
  const finished = state === 'completed' || state === 'cancelled' || state === 'timedOut';

  useEffect(() => {
    setResults(null);
    setError(null);
    if (!finished) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The completion can arrive a moment before the results are stored (409): ask again until they are.
    const load = (attempt: number) =>
      api.results(backtestId).then(
        (r) => alive && setResults(r),
        (e: Error) => {
          if (!alive) return;
          if (e instanceof ApiError && e.status === 409 && attempt < 60) {
            timer = setTimeout(() => load(attempt + 1), Math.min(2000, 250 * (attempt + 1)));
          } else {
            setError(e.message);
          }
        },
      );
    void load(0);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [api, backtestId, finished]);

  const liveEquity: ChartPoint[] = useMemo(() => live.equity.map((p) => ({ time: p.date, value: p.equity })), [live.equity]);
  const liveDrawdown: ChartPoint[] = useMemo(() => live.equity.map((p) => ({ time: p.date, value: p.drawdown })), [live.equity]);
  const currency = results?.summary?.baseCurrency ?? 'USD';

  const chart = results ? (
    <EquityCurveChart equity={results.equity} drawdown={results.drawdown} benchmark={results.benchmark?.equity}
      benchmarkLabel={results.benchmark?.instrument} trades={results.trades.items} />
  ) : liveEquity.length ? (
    <EquityCurveChart equity={liveEquity} drawdown={liveDrawdown} trades={live.trades} live />
  ) : (
    <Empty description={finished ? 'Loading…' : 'The curve appears as soon as the run produces equity'} />
  );

  const waiting = !results && (
    error ? <Alert type="error" message={error} /> : finished ? <Spin /> : <Typography.Text type="secondary">Results appear when the run completes.</Typography.Text>
  );

  return (
    <Card
      size="small"
      title="Results"
      data-testid="backtest-results"
      extra={<ExportButtons backtestId={backtestId} disabled={!results} />}
    >
      {results?.partial && <Alert type="warning" showIcon message="Partial results: the run was stopped before the end of its data." style={{ marginBottom: 8 }} />}
      <Tabs
        activeKey={tab}
        onChange={setTab}
        items={[
          {
            key: 'overview',
            label: 'Overview',
            children: results ? (
              <Space direction="vertical" style={{ width: '100%' }}>
                <PerformanceMetrics metrics={results.metrics} currency={currency} keyOnly />
                <Descriptions size="small" bordered column={{ xs: 1, md: 3 }} data-testid="result-summary">
                  <Descriptions.Item label="Strategy">{results.summary.strategy}</Descriptions.Item>
                  <Descriptions.Item label="Instruments">{results.summary.instruments.join(', ')}</Descriptions.Item>
                  <Descriptions.Item label="Period">{results.summary.startDate} → {results.summary.endDate}</Descriptions.Item>
                  <Descriptions.Item label="Initial balance">{results.summary.initialBalance.toLocaleString('en-US')} {currency}</Descriptions.Item>
                  <Descriptions.Item label="Final balance">{results.summary.finalBalance.toLocaleString('en-US', { maximumFractionDigits: 2 })} {currency}</Descriptions.Item>
                  <Descriptions.Item label="Bars processed">{results.summary.processedBars.toLocaleString('en-US')}</Descriptions.Item>
                  {results.benchmark && (
                    <Descriptions.Item label="Benchmark">{results.benchmark.instrument} buy-and-hold {pct(results.benchmark.totalReturn)}</Descriptions.Item>
                  )}
                </Descriptions>
                {chart}
                {results.notes?.length ? (
                  <Alert type="info" message="Notes" description={<ul style={{ margin: 0 }}>{results.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>} />
                ) : null}
                <Typography.Title level={5}>All metrics</Typography.Title>
                <PerformanceMetrics metrics={results.metrics} currency={currency} groups={['returns', 'trades']} />
              </Space>
            ) : (
              <Space direction="vertical" style={{ width: '100%' }}>{waiting}{chart}</Space>
            ),
          },
          {
            key: 'trades',
            label: 'Trades',
            children: <TradeAnalysisTable trades={results ? results.trades.items : live.trades} currency={currency} />,
          },
          { key: 'charts', label: 'Charts', children: (
            <Space direction="vertical" style={{ width: '100%' }}>
              {chart}
              {results && <MonthlyReturns results={results} />}
              {results && state === 'completed' && <MonteCarloPanel backtestId={backtestId} />}
            </Space>
          ) },
          {
            key: 'risk',
            label: 'Risk',
            children: results ? (
              <Space direction="vertical" style={{ width: '100%' }}>
                <PerformanceMetrics metrics={results.metrics} currency={currency} groups={['risk', 'benchmark']} />
                <Typography.Title level={5}>Monthly returns</Typography.Title>
                <MonthlyReturns results={results} />
              </Space>
            ) : waiting,
          },
          { key: 'compare', label: 'Compare', children: <CompareView initialIds={[backtestId]} /> },
        ]}
      />
    </Card>
  );
}
