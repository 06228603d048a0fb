// The robustness panel's chart: the histogram of CSCV's logits λ, the bins left of 0 (the overfit splits) in red.
import type { HistogramBin } from '../api/types';

export const OVERFIT_COLOR = '#cf1322';
export const HELD_COLOR = '#1677ff';

/** A bin is left of 0 when its upper edge is at most 0 (0 is always an edge: docs/robustness.md). */
export const overfitBin = (b: HistogramBin) => b.high <= 0;

export function logitHistogramOption(bins: HistogramBin[]) {
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    grid: { left: 10, right: 20, top: 24, bottom: 10, containLabel: true },
    xAxis: { type: 'category', name: 'λ', data: bins.map((b) => `${b.low.toFixed(2)} to ${b.high.toFixed(2)}`), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', name: 'splits' },
    series: [{
      name: 'splits',
      type: 'bar' as const,
      barCategoryGap: '5%',
      data: bins.map((b) => ({ value: b.count, itemStyle: { color: overfitBin(b) ? OVERFIT_COLOR : HELD_COLOR } })),
    }],
  };
}
