// An optimization's robustness (issue 16): is the best trial skill or selection? The deflated Sharpe ratio over the
// trials run, the probability of backtest overfitting by CSCV, the minimum backtest length and the stability of the
// optimum, each explained as the metric cards are (definitions and conventions: docs/robustness.md). Read once the
// job has ended, from GET /api/v1/optimizations/{id}/robustness.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Alert, Card, Col, Popover, Row, Statistic, Typography } from 'antd';
import { InfoCircleOutlined } from '@ant-design/icons';
import type { ApiError } from '../api/client';
import type { OptimizationRobustness } from '../api/types';
import { useSession } from '../session';
import { EChart } from './EChart';
import { logitHistogramOption } from './robustnessCharts';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const ROBUSTNESS_EXPLAIN = {
  dsr: 'The probability that the best trial\'s Sharpe ratio beats what the best of this many skill-less trials would show by luck, given its skewness and kurtosis (Bailey and López de Prado). Near 100%: hard to explain by selection alone.',
  pbo: 'The probability of backtest overfitting (CSCV): over every split of the history into halves, how often the trial that was best in-sample ranked in the lower half out of sample. Above 50%: the selection does worse than chance.',
  loss: 'Over the same splits, how often the in-sample best lost money out of sample.',
  minbtl: 'The minimum backtest length: how many years of data this many trials need before a Sharpe ratio this high stops being expected from luck alone. Compare it with the years tested.',
  plateau: 'The objective around the best trial: the mean and the worst over it and its neighbours one step away on each parameter. A plateau close to the best is a region, not a spike.',
  logits: 'For every CSCV split, λ = ln(ω / (1 − ω)) with ω the out-of-sample rank of the trial that was best in-sample, scaled to (0, 1). Red bars (λ ≤ 0): the in-sample best fell to the lower half out of sample. Mass to the right means the selection carries over.',
  stable: 'The trial whose one-step neighbourhood has the best worst case (then the best mean): a choice that does not depend on one lucky point.',
};

function Figure({ title, value, explain, testId, suffix }: { title: string; value: string; explain: string; testId: string; suffix?: ReactNode }) {
  return (
    <Col xs={24} sm={12} md={8} lg={6}>
      <Statistic
        title={<span>{title} <Popover content={<div style={{ maxWidth: 360 }}>{explain}</div>}><InfoCircleOutlined aria-label={`about ${title}`} /></Popover></span>}
        value={value}
        suffix={suffix}
        valueRender={() => <span data-testid={testId}>{value}</span>}
      />
    </Col>
  );
}

export function RobustnessPanel({ id, ended }: { id: string; ended: boolean }) {
  const { api } = useSession();
  const [data, setData] = useState<OptimizationRobustness | null>(null);
  const [error, setError] = useState<string | null>(null);
  const logits = useMemo(() => (data?.overfitting ? logitHistogramOption(data.overfitting.logitHistogram) : null), [data]);

  useEffect(() => {
    if (!ended) return;
    let live = true;
    api.optimizationRobustness(id).then((r) => live && setData(r), (e: ApiError) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [api, id, ended]);

  if (!ended) return null;
  if (error) return <Card size="small" title="Is the best trial real?"><Alert type="error" message={error} /></Card>;
  if (!data) return <Card size="small" title="Is the best trial real?" loading />;

  const d = data.deflatedSharpe;
  const o = data.overfitting;
  const m = data.minimumBacktestLength;
  const s = data.stability;
  return (
    <Card size="small" title="Is the best trial real?" data-testid="robustness">
      <Row gutter={[16, 16]}>
        {d && <Figure title="Deflated Sharpe ratio" value={pct(d.value)} testId="robustness-dsr" explain={ROBUSTNESS_EXPLAIN.dsr}
          suffix={<Typography.Text type="secondary"> of {d.trials} trials</Typography.Text>} />}
        {o && <Figure title="Probability of overfitting" value={pct(o.probability)} testId="robustness-pbo" explain={ROBUSTNESS_EXPLAIN.pbo}
          suffix={<Typography.Text type="secondary"> {o.splits} splits</Typography.Text>} />}
        {o && <Figure title="Out-of-sample loss" value={pct(o.probabilityOfLoss)} testId="robustness-loss" explain={ROBUSTNESS_EXPLAIN.loss} />}
        {m && <Figure title="Minimum backtest length" value={`${m.years.toFixed(1)} y`} testId="robustness-minbtl" explain={ROBUSTNESS_EXPLAIN.minbtl}
          suffix={m.backtestYears === null ? undefined : <Typography.Text type="secondary"> tested {m.backtestYears.toFixed(1)} y</Typography.Text>} />}
        {s && <Figure title="Plateau of the best" value={`${s.bestPlateau.mean.toFixed(3)} / ${s.bestPlateau.worst.toFixed(3)}`}
          testId="robustness-plateau" explain={ROBUSTNESS_EXPLAIN.plateau} suffix={<Typography.Text type="secondary"> mean / worst</Typography.Text>} />}
        {s?.mostStable && <Figure title="Most stable trial" value={`trial ${s.mostStable.trialNumber}`} testId="robustness-stable"
          explain={ROBUSTNESS_EXPLAIN.stable} suffix={<Typography.Text type="secondary"> worst {s.mostStable.worst.toFixed(3)}</Typography.Text>} />}
      </Row>
      {logits && (
        <>
          <Typography.Text strong>
            Logits of the in-sample best&apos;s out-of-sample rank{' '}
            <Popover content={<div style={{ maxWidth: 360 }}>{ROBUSTNESS_EXPLAIN.logits}</div>}><InfoCircleOutlined aria-label="about the logits" /></Popover>
          </Typography.Text>
          <EChart option={logits} height={220} testId="robustness-logits" label="Histogram of the CSCV logits" />
        </>
      )}
      {data.notes.length > 0 && (
        <ul data-testid="robustness-notes">{data.notes.map((n) => <li key={n}><Typography.Text type="secondary">{n}</Typography.Text></li>)}</ul>
      )}
    </Card>
  );
}
