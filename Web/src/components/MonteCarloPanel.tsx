// A backtest's Monte Carlo on the Charts tab: the fan of equity percentiles over time, the drawdown distribution and
// what the paths say, each figure explained as the metric cards are (definitions: docs/robustness.md).
import { useEffect, useState } from 'react';
import { Alert, Card, Col, Popover, Row, Segmented, Space, Spin, Statistic, Typography } from 'antd';
import { InfoCircleOutlined } from '@ant-design/icons';
import { useSession } from '../session';
import type { MonteCarloDistribution, MonteCarloQuery, MonteCarloResult } from '../api/types';
import { EChart } from './EChart';
import { fanOption, histogramOption, pct } from './monteCarloCharts';

type Choice = 'blockBootstrap' | 'resample' | 'shuffle';
const CHOICES: { value: Choice; label: string; query: MonteCarloQuery }[] = [
  { value: 'blockBootstrap', label: 'Daily returns (block bootstrap)', query: { method: 'blockBootstrap' } },
  { value: 'resample', label: 'Trades resampled', query: { method: 'trades', sampling: 'resample' } },
  { value: 'shuffle', label: 'Trades shuffled', query: { method: 'trades', sampling: 'shuffle' } },
];
export const MONTE_CARLO_PATHS = 5000;

const EXPLAIN: Record<Choice, string> = {
  blockBootstrap: 'Each path redraws the daily returns in blocks of random (geometric) length, so streaks and calm spells survive.',
  resample: "Each path draws the closed trades' returns with replacement: the final equity varies as well as the drawdowns.",
  shuffle: "Each path plays the same trades in another order: every path ends at the same equity; only the way there (the drawdown) differs.",
};

function Figure({ label, value, meaning, formula, testId }: { label: string; value: string; meaning: string; formula: string; testId: string }) {
  return (
    <Card size="small" data-testid={testId} style={{ height: '100%' }}>
      <Statistic
        title={
          <span>
            {label}{' '}
            <Popover title={label} content={<div style={{ maxWidth: 320 }}><p style={{ margin: 0 }}>{meaning}</p><code>{formula}</code></div>}>
              <InfoCircleOutlined aria-label={`How ${label} is computed`} tabIndex={0} />
            </Popover>
          </span>
        }
        value={value}
        valueStyle={{ fontSize: 18 }}
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{meaning}</Typography.Text>
    </Card>
  );
}

const range = (d: MonteCarloDistribution, format: (v: number) => string) =>
  d.percentiles ? `${format(d.percentiles.p5)} … ${format(d.percentiles.p50)} … ${format(d.percentiles.p95)}` : '—';

export function MonteCarloView({ result }: { result: MonteCarloResult }) {
  const limit = pct(result.drawdownLimit, 0);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Row gutter={[8, 8]}>
        <Col xs={24} sm={12} lg={6}>
          <Figure testId="mc-probabilityOfLoss" label="Probability of a loss" value={pct(result.probabilityOfLoss)}
            meaning="The share of paths that end below the initial balance." formula="#(E_end < E_0) / paths" />
        </Col>
        <Col xs={24} sm={12} lg={6}>
          <Figure testId="mc-probabilityOfDrawdown" label={`Drawdown of ${limit} or more`} value={pct(result.probabilityOfDrawdownBeyondLimit)}
            meaning={`The share of paths whose worst fall from a peak is at least ${limit}.`} formula="#(max drawdown ≤ −limit) / paths" />
        </Col>
        <Col xs={24} sm={12} lg={6}>
          <Figure testId="mc-finalReturn" label="Final return (5% … median … 95%)" value={range(result.finalReturn, (v) => pct(v))}
            meaning="Where the paths end, as a return on the initial balance." formula="E_end / E_0 − 1, type-7 percentiles" />
        </Col>
        <Col xs={24} sm={12} lg={6}>
          <Figure testId="mc-sharpe" label="Sharpe ratio (5% … median … 95%)" value={range(result.sharpe, (v) => v.toFixed(2))}
            meaning="The Sharpe ratio of each path, with the backtest's own formula and risk-free rate."
            formula="mean(e) / sd(e) · √(steps a year)" />
        </Col>
      </Row>
      <Typography.Text type="secondary" data-testid="mc-description">
        {result.paths.toLocaleString('en-US')} paths of {result.steps.toLocaleString('en-US')} steps, seed {result.seed}
        {result.meanBlockLength !== null && `, mean block ${result.meanBlockLength.toFixed(1)} days${result.blockLengthAutomatic ? ' (estimated from the data)' : ''}`}.
        {' '}CAGR 5% … 95%: {range(result.cagr, (v) => pct(v))}.
      </Typography.Text>
      <Typography.Title level={5} style={{ margin: 0 }}>Equity percentiles over time</Typography.Title>
      <EChart option={fanOption(result)} height={320} testId="montecarlo-fan" label="Monte Carlo fan chart of equity percentiles" />
      <Typography.Title level={5} style={{ margin: 0 }}>Maximum drawdown over the paths</Typography.Title>
      <EChart option={histogramOption(result.maxDrawdown.histogram, 'max drawdown')} height={240} testId="montecarlo-drawdowns"
        label="Distribution of the maximum drawdown" />
      <Typography.Text type="secondary">
        Drawdown 5% … median … 95%: {range(result.maxDrawdown, (v) => pct(v))}. Each bar counts the paths whose deepest fall from a peak lies in its range.
      </Typography.Text>
    </Space>
  );
}

export function MonteCarloPanel({ backtestId }: { backtestId: string }) {
  const { api } = useSession();
  const [choice, setChoice] = useState<Choice>('blockBootstrap');
  const [result, setResult] = useState<MonteCarloResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    setResult(null);
    setError(null);
    const query = CHOICES.find((c) => c.value === choice)!.query;
    api.monteCarlo(backtestId, { ...query, paths: MONTE_CARLO_PATHS }).then(
      (r) => alive && setResult(r),
      (e: Error) => alive && setError(e.message),
    );
    return () => {
      alive = false;
    };
  }, [api, backtestId, choice]);
  return (
    <Card size="small" title="Monte Carlo" data-testid="montecarlo">
      <Space direction="vertical" style={{ width: '100%' }}>
        <Segmented options={CHOICES.map((c) => ({ value: c.value, label: c.label }))} value={choice} onChange={(v) => setChoice(v as Choice)} />
        <Typography.Text type="secondary">{EXPLAIN[choice]}</Typography.Text>
        {error ? <Alert type="info" showIcon message={error} data-testid="montecarlo-error" />
          : result ? <MonteCarloView result={result} /> : <Spin />}
      </Space>
    </Card>
  );
}
