// The equity curve with a drawdown pane, the benchmark overlaid and trade entry/exit markers; zoom with the
// wheel or a pinch, pan by dragging, a crosshair that follows the pointer. While a run is live, new points are
// appended as they arrive instead of redrawing the whole curve.
import { useEffect, useRef, useState } from 'react';
import { Button, Space, Typography } from 'antd';
import {
  AreaSeries, ColorType, CrosshairMode, LineSeries, createChart, createSeriesMarkers,
  type IChartApi, type ISeriesApi, type ISeriesMarkersPluginApi, type SeriesMarker, type Time, type UTCTimestamp,
} from 'lightweight-charts';
import type { ChartPoint, Trade } from '../api/types';

export interface EquityCurveChartProps {
  equity: ChartPoint[];
  /** Drawdown as a negative fraction per point (−0.12 = 12% below the peak). */
  drawdown: ChartPoint[];
  benchmark?: ChartPoint[] | null;
  benchmarkLabel?: string;
  trades?: Trade[];
  live?: boolean;
  height?: number;
}

export const toTime = (t: string): UTCTimestamp =>
  Math.floor((t.length === 10 ? Date.parse(`${t}T00:00:00Z`) : Date.parse(t.endsWith('Z') || /[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`)) / 1000) as UTCTimestamp;

/** Points on strictly increasing times (the chart's rule): later duplicates replace earlier ones. */
export function series(points: ChartPoint[], scale = 1) {
  const out: { time: UTCTimestamp; value: number }[] = [];
  for (const p of points) {
    const time = toTime(p.time);
    if (!Number.isFinite(time) || !Number.isFinite(p.value)) continue;
    const value = p.value * scale;
    if (out.length && out[out.length - 1].time >= time) {
      if (out[out.length - 1].time === time) out[out.length - 1] = { time, value };
      continue;
    }
    out.push({ time, value });
  }
  return out;
}

function snap(times: UTCTimestamp[], t: number): UTCTimestamp | null {
  if (!times.length || t < times[0]) return times[0] ?? null;
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= t) lo = mid; else hi = mid - 1;
  }
  return times[lo];
}

/** More trades than this in view and the markers would hide the curve: the chart asks to zoom in instead. */
export const MAX_TRADES_MARKED = 150;

/** Entry and exit markers of the trades, snapped onto the curve's times. */
export function tradeMarkers(trades: Trade[], times: UTCTimestamp[]): SeriesMarker<Time>[] {
  const markers: SeriesMarker<Time>[] = [];
  for (const trade of trades) {
    const entry = snap(times, toTime(trade.entryTime));
    const exit = snap(times, toTime(trade.exitTime));
    const long = trade.side === 'long';
    if (entry !== null) {
      markers.push({ time: entry, position: long ? 'belowBar' : 'aboveBar', shape: long ? 'arrowUp' : 'arrowDown',
        color: '#1677ff', text: long ? 'L' : 'S' });
    }
    if (exit !== null) {
      markers.push({ time: exit, position: 'aboveBar', shape: 'circle', color: trade.pnl >= 0 ? '#389e0d' : '#cf1322' });
    }
  }
  return markers.sort((a, b) => (a.time as number) - (b.time as number));
}

export function EquityCurveChart({ equity, drawdown, benchmark, benchmarkLabel, trades = [], live, height = 420 }: EquityCurveChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const equitySeries = useRef<ISeriesApi<'Line'> | null>(null);
  const benchmarkSeries = useRef<ISeriesApi<'Line'> | null>(null);
  const drawdownSeries = useRef<ISeriesApi<'Area'> | null>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const drawn = useRef<{ count: number; lastTime: number }>({ count: 0, lastTime: 0 });

  useEffect(() => {
    if (!container.current) return;
    const c = createChart(container.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: '#333', attributionLogo: false },
      crosshair: { mode: CrosshairMode.Normal },
      rightPriceScale: { borderVisible: false },
      timeScale: { borderVisible: false, timeVisible: false },
      grid: { vertLines: { color: '#f0f0f0' }, horzLines: { color: '#f0f0f0' } },
    });
    equitySeries.current = c.addSeries(LineSeries, { color: '#1677ff', lineWidth: 2, title: 'Equity' });
    benchmarkSeries.current = c.addSeries(LineSeries, { color: '#fa8c16', lineWidth: 1, lineStyle: 2, title: benchmarkLabel ?? 'Benchmark' });
    drawdownSeries.current = c.addSeries(AreaSeries, {
      lineColor: '#cf1322', topColor: 'rgba(207,19,34,0.05)', bottomColor: 'rgba(207,19,34,0.35)', lineWidth: 1,
      title: 'Drawdown %', priceFormat: { type: 'custom', formatter: (v: number) => `${v.toFixed(1)}%` },
    }, 1);
    c.panes()[1]?.setHeight(Math.round(height * 0.28));
    markers.current = createSeriesMarkers(equitySeries.current, []);
    chart.current = c;
    drawn.current = { count: 0, lastTime: 0 };
    return () => {
      c.remove();
      chart.current = null;
    };
  }, [height, benchmarkLabel]);

  useEffect(() => {
    const s = equitySeries.current;
    if (!s) return;
    const points = series(equity);
    const dd = series(drawdown, 100);
    const d = drawn.current;
    // Live: append what is new; otherwise (or when the history changed) draw it all.
    if (live && d.count > 0 && points.length >= d.count && points[d.count - 1]?.time === d.lastTime) {
      for (const p of points.slice(d.count)) s.update(p);
      for (const p of dd.filter((x) => x.time > d.lastTime)) drawdownSeries.current?.update(p);
    } else {
      s.setData(points);
      drawdownSeries.current?.setData(dd);
      if (points.length) chart.current?.timeScale().fitContent();
    }
    drawn.current = { count: points.length, lastTime: points[points.length - 1]?.time ?? 0 };
  }, [equity, drawdown, live]);

  useEffect(() => {
    const first = equity.find((p) => Number.isFinite(p.value))?.value;
    const base = benchmark?.find((p) => Number.isFinite(p.value) && p.value !== 0)?.value;
    benchmarkSeries.current?.setData(benchmark && first && base ? series(benchmark, first / base) : []);
  }, [benchmark, equity]);

  // Markers for the trades in view, redrawn as the view is zoomed or panned.
  const [hiddenTrades, setHiddenTrades] = useState(0);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const times = series(equity).map((p) => p.time);
    const entries = trades.map((t) => ({ trade: t, entry: toTime(t.entryTime), exit: toTime(t.exitTime) }));
    let frame = 0;
    const redraw = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const range = c.timeScale().getVisibleRange();
        const from = range ? (range.from as number) : -Infinity;
        const to = range ? (range.to as number) : Infinity;
        const inView = entries.filter((e) => e.exit >= from && e.entry <= to).map((e) => e.trade);
        const shown = inView.length <= MAX_TRADES_MARKED ? inView : [];
        markers.current?.setMarkers(tradeMarkers(shown, times));
        setHiddenTrades(inView.length - shown.length);
      });
    };
    redraw();
    c.timeScale().subscribeVisibleTimeRangeChange(redraw);
    return () => {
      cancelAnimationFrame(frame);
      c.timeScale().unsubscribeVisibleTimeRangeChange(redraw);
    };
  }, [trades, equity, height, benchmarkLabel]);

  // Intraday curves show the time of day on the axis.
  useEffect(() => {
    const intraday = equity.some((p) => p.time.length > 10 && !/T00:00(:00(\.0+)?)?(Z|[+-]00:00)?$/.test(p.time));
    chart.current?.applyOptions({ timeScale: { timeVisible: intraday } });
  }, [equity, height, benchmarkLabel]);

  return (
    <div>
      <Space style={{ marginBottom: 4 }} wrap>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          Scroll to zoom, drag to pan. Blue: equity{benchmark?.length ? `; orange: ${benchmarkLabel ?? 'benchmark'} buy-and-hold (scaled to the same capital)` : ''}; arrows: entries; dots: exits (green profit, red loss). Lower pane: drawdown.
        </Typography.Text>
        <Button size="small" onClick={() => chart.current?.timeScale().fitContent()}>Reset zoom</Button>
        {hiddenTrades > 0 && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="markers-hidden">
            {hiddenTrades.toLocaleString('en-US')} trades in view: zoom in to see their markers.
          </Typography.Text>
        )}
      </Space>
      <div ref={container} style={{ height, width: '100%' }} data-testid="equity-chart" data-points={equity.length}
        role="img" aria-label={`Equity curve, ${equity.length} points`} />
    </div>
  );
}
