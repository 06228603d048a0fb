// One ECharts chart in a div: drawn from an option, resized with the window, disposed when it goes.
import { useEffect, useRef } from 'react';
import { echarts } from './echarts';

export function EChart({ option, height, testId, label }: { option: Record<string, unknown>; height: number; testId: string; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current);
    chart.setOption(option);
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [option]);
  return <div ref={ref} style={{ height, width: '100%' }} role="img" aria-label={label} data-testid={testId} />;
}
