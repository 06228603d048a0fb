// A labelled heatmap (ECharts): monthly returns, correlations.
import { useEffect, useRef } from 'react';
import { echarts } from './echarts';

export interface HeatmapProps {
  xLabels: string[];
  yLabels: string[];
  /** [xIndex, yIndex, value]; null values are left blank. */
  cells: [number, number, number | null][];
  min: number;
  max: number;
  format(value: number): string;
  height?: number;
  ariaLabel: string;
  testId?: string;
  /** First row at the top (a matrix) rather than at the bottom. */
  topDown?: boolean;
}

export function Heatmap({ xLabels, yLabels, cells, min, max, format, height = 300, ariaLabel, testId, topDown }: HeatmapProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current);
    chart.setOption({
      animation: false,
      tooltip: { formatter: (p: { value: [number, number, number | null] }) =>
        `${yLabels[p.value[1]]} ${xLabels[p.value[0]]}: ${p.value[2] === null ? '—' : format(p.value[2])}` },
      grid: { left: 10, right: 20, top: 10, bottom: 60, containLabel: true },
      xAxis: { type: 'category', data: xLabels, splitArea: { show: true }, axisLabel: { interval: 0, rotate: xLabels.length > 8 ? 30 : 0 } },
      yAxis: { type: 'category', data: yLabels, splitArea: { show: true }, inverse: !!topDown },
      visualMap: { min, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120,
        inRange: { color: ['#cf1322', '#fff7e6', '#389e0d'] }, formatter: (v: number) => format(v) },
      series: [{
        type: 'heatmap',
        data: cells.filter((c) => c[2] !== null),
        label: { show: true, formatter: (p: { value: [number, number, number] }) => format(p.value[2]), fontSize: 10 },
      }],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [xLabels, yLabels, cells, min, max, format, topDown]);
  return <div ref={ref} style={{ height, width: '100%' }} role="img" aria-label={ariaLabel} data-testid={testId} />;
}
