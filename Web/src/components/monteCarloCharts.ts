// The ECharts options of the Monte Carlo panel, as plain functions of the API's answer (tested without a canvas).
import type { HistogramBin, MonteCarloResult } from '../api/types';

export const pct = (v: number, digits = 1) => `${(v * 100).toFixed(digits)}%`;
const money = (v: number) => Math.round(v).toLocaleString('en-US');

/** The x label of a fan point: its date for the block bootstrap, else the step ("trade 12"). */
export function fanLabel(result: MonteCarloResult, index: number): string {
  const point = result.fan[index];
  if (point.step === 0) return 'start';
  if (point.date) return point.date;
  return result.method === 'trades' ? `trade ${point.step}` : `day ${point.step}`;
}

/**
 * The fan: two bands (5–95 and 25–75 percentiles) drawn as stacked areas on an invisible lower edge, and the median
 * as a line. ECharts stacks by adding, so each band's series holds its width (upper − lower).
 */
export function fanOption(result: MonteCarloResult) {
  const labels = result.fan.map((_, i) => fanLabel(result, i));
  const lower5 = result.fan.map((p) => p.p5);
  const width5to95 = result.fan.map((p) => p.p95 - p.p5);
  const lower25 = result.fan.map((p) => p.p25);
  const width25to75 = result.fan.map((p) => p.p75 - p.p25);
  const median = result.fan.map((p) => p.p50);
  const band = (name: string, stack: string, data: number[], opacity: number, base = false) => ({
    name, type: 'line' as const, stack, data, symbol: 'none', lineStyle: { opacity: 0 }, color: '#4096ff',
    areaStyle: base ? { opacity: 0 } : { color: '#1677ff', opacity }, silent: base, tooltip: { show: !base },
  });
  return {
    animation: false,
    tooltip: {
      trigger: 'axis',
      formatter: (items: { dataIndex: number }[]) => {
        const p = result.fan[items[0]?.dataIndex ?? 0];
        return `${labels[items[0]?.dataIndex ?? 0]}<br/>95%: ${money(p.p95)}<br/>75%: ${money(p.p75)}<br/>median: ${money(p.p50)}` +
          `<br/>25%: ${money(p.p25)}<br/>5%: ${money(p.p5)}`;
      },
    },
    legend: { data: ['5–95%', '25–75%', 'median'], top: 0 },
    grid: { left: 10, right: 20, top: 30, bottom: 10, containLabel: true },
    xAxis: { type: 'category', data: labels, boundaryGap: false },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v: number) => money(v) } },
    series: [
      band('5% edge', 'outer', lower5, 0, true),
      band('5–95%', 'outer', width5to95, 0.15),
      band('25% edge', 'inner', lower25, 0, true),
      band('25–75%', 'inner', width25to75, 0.3),
      { name: 'median', type: 'line' as const, data: median, symbol: 'none', color: '#0958d9', lineStyle: { color: '#0958d9', width: 2 } },
    ],
  };
}

/** A histogram as bars labelled by their ranges (percentages). */
export function histogramOption(bins: HistogramBin[], name: string, color = '#cf1322') {
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    grid: { left: 10, right: 20, top: 10, bottom: 10, containLabel: true },
    xAxis: { type: 'category', data: bins.map((b) => `${pct(b.low)} to ${pct(b.high)}`), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', name: 'paths' },
    series: [{ name, type: 'bar' as const, data: bins.map((b) => b.count), itemStyle: { color }, barCategoryGap: '5%' }],
  };
}
