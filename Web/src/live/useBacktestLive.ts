// Live state of one backtest: the snapshot read from the API, then the hub's events on top. A reconnect
// re-reads the snapshot, and until it arrives the state is marked stale so nothing old passes as current.
import { useEffect, useRef, useState } from 'react';
import { useSession } from '../session';
import type { ConnectionPhase } from './hub';
import {
  isTerminal, type BacktestStatus, type CompleteData, type EquityColumns, type EquityUpdate, type ErrorData, type LiveMessage,
  type ProgressData, type Trade,
} from '../api/types';

export interface LiveState {
  status: BacktestStatus | null;
  progress: ProgressData | null;
  error: ErrorData | null;
  complete: CompleteData | null;
  equity: EquityUpdate[];
  trades: Trade[];
  phase: ConnectionPhase;
  /** True from a reconnect until the fresh snapshot is in. */
  stale: boolean;
  loadError: string | null;
}

const initial: LiveState = {
  status: null, progress: null, error: null, complete: null, equity: [], trades: [], phase: 'connecting', stale: true,
  loadError: null,
};

/**
 * The curve with a batch's points added. Points already drawn (from a snapshot or a repeated batch) are skipped:
 * dates only move forward. Returns the same array when nothing is new.
 */
export function appendEquity(curve: EquityUpdate[], batch: EquityColumns): EquityUpdate[] {
  const last = curve.length ? curve[curve.length - 1].date : '';
  const fresh = batch.dates.flatMap((date, i) =>
    (date > last ? [{ date, equity: batch.equity[i], drawdown: batch.drawdown[i] }] : []));
  return fresh.length ? [...curve, ...fresh] : curve;
}

export function useBacktestLive(backtestId: string | null): LiveState & { refresh(): void } {
  const { api, hub } = useSession();
  const [state, setState] = useState<LiveState>(initial);
  const refreshRef = useRef<() => void>(() => undefined);

  useEffect(() => {
    if (!backtestId) return;
    let alive = true;
    setState(initial);

    const readSnapshot = () => {
      api.status(backtestId).then(
        (status) => {
          if (!alive) return;
          setState((s) => {
            // Live progress newer than the snapshot wins; a finished snapshot always wins.
            const liveAhead = s.progress && status.progress
              && s.progress.progress.processedBars > status.progress.progress.processedBars && !isTerminal(status.state);
            return {
              ...s,
              status,
              progress: liveAhead ? s.progress : status.progress ?? s.progress,
              error: status.error ?? (isTerminal(status.state) ? s.error : null),
              stale: false,
              loadError: null,
            };
          });
        },
        (e: Error) => alive && setState((s) => ({ ...s, loadError: e.message })),
      );
    };
    refreshRef.current = readSnapshot;

    // Re-reads the snapshot every few hundred milliseconds until it shows the run ended.
    let settling: ReturnType<typeof setTimeout> | undefined;
    const settle = (attempt = 0) => {
      clearTimeout(settling);
      settling = setTimeout(() => {
        api.status(backtestId).then((status) => {
          if (!alive) return;
          if (isTerminal(status.state)) {
            setState((s) => ({ ...s, status, progress: status.progress ?? s.progress, error: status.error ?? s.error }));
          } else if (attempt < 120) {
            settle(attempt + 1);
          }
        }, () => alive && attempt < 120 && settle(attempt + 1));
      }, 250);
    };

    const onMessage = (m: LiveMessage) =>
      setState((s) => {
        switch (m.type) {
          case 'backtest_progress': {
            const status = s.status && !isTerminal(s.status.state) && s.status.state !== 'paused'
              ? { ...s.status, state: 'running' as const }
              : s.status;
            return { ...s, progress: m.data, status };
          }
          case 'backtest_error':
            return { ...s, error: m.data };
          case 'backtest_complete':
            // The worker's completion can arrive before the cluster has stored the results: the state moves on
            // when the snapshot says so (settle() below), so nothing asks for results that are not there yet.
            settle();
            return { ...s, complete: m.data, status: s.status ? { ...s.status, summary: m.data.summary } : s.status };
          case 'backtest_equity': {
            const equity = appendEquity(s.equity, m.data);
            return equity === s.equity ? s : { ...s, equity };
          }
          case 'backtest_trade': {
            const known = new Set(s.trades.map((t) => t.id));
            const fresh = m.data.trades.filter((t) => !known.has(t.id));
            return fresh.length ? { ...s, trades: [...s.trades, ...fresh] } : s;
          }
          default:
            return s;
        }
      });

    const unsubscribe = hub.subscribe(backtestId, {
      onMessage,
      onResync: () => {
        setState((s) => ({ ...s, stale: true }));
        readSnapshot();
      },
    });
    const offPhase = hub.onPhase((phase) =>
      setState((s) => ({ ...s, phase, stale: s.stale || phase === 'reconnecting' || phase === 'disconnected' })));
    readSnapshot();
    return () => {
      alive = false;
      clearTimeout(settling);
      unsubscribe();
      offPhase();
    };
  }, [api, hub, backtestId]);

  // While a run is live, re-read the snapshot now and then too: state changes such as pause travel on it.
  const state_ = state.status?.state;
  useEffect(() => {
    if (!backtestId || isTerminal(state_)) return;
    const timer = setInterval(() => refreshRef.current(), 3000);
    return () => clearInterval(timer);
  }, [backtestId, state_]);

  return { ...state, refresh: () => refreshRef.current() };
}
