// One SignalR connection per signed-in session, shared by every component that watches a backtest.
// Subscriptions are reference-counted per backtest id. After a reconnect every id is subscribed again and
// the listeners are told, so they re-read the snapshot instead of trusting what they had (never stale).
import {
  HubConnection, HubConnectionBuilder, HubConnectionState, LogLevel, type IRetryPolicy,
} from '@microsoft/signalr';
import type { LiveMessage, OptimizationLiveMessage } from '../api/types';

export const HUB_PATH = '/hubs/backtests';
/** The client method the API's hub sends every message to (Api/Realtime/BacktestHub.cs). */
const MESSAGE_METHOD = 'message';

export type ConnectionPhase = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface LiveListener<M = LiveMessage> {
  onMessage(message: M): void;
  /** The connection came back: state held so far may have missed events, re-read it. */
  onResync?(): void;
}

/** What the hub follows, and the hub methods that (un)subscribe it (Api/Realtime/BacktestHub.cs). */
type Kind = 'backtest' | 'optimization';
const METHODS: Record<Kind, { subscribe: string; unsubscribe: string }> = {
  backtest: { subscribe: 'Subscribe', unsubscribe: 'Unsubscribe' },
  optimization: { subscribe: 'SubscribeOptimization', unsubscribe: 'UnsubscribeOptimization' },
};
const keyOf = (kind: Kind, id: string) => `${kind}:${id}`;
const parseKey = (key: string) => {
  const at = key.indexOf(':');
  return { kind: key.slice(0, at) as Kind, id: key.slice(at + 1) };
};

// Retry forever with a capped back-off: a trader's screen should heal by itself after a server restart.
const retryForever: IRetryPolicy = {
  nextRetryDelayInMilliseconds: (context) => Math.min(10_000, 500 * 2 ** Math.min(context.previousRetryCount, 5)),
};

export class LiveHub {
  private readonly connection: HubConnection;
  // Keyed by kind and id (keyOf): a backtest's and an optimization's listeners apart.
  private readonly listeners = new Map<string, Set<LiveListener<unknown>>>();
  private readonly phaseListeners = new Set<(phase: ConnectionPhase) => void>();
  private phaseValue: ConnectionPhase = 'connecting';
  private starting: Promise<void> | null = null;
  private stopped = false;

  constructor(apiKey: string, baseUrl = '') {
    this.connection = new HubConnectionBuilder()
      .withUrl(baseUrl + HUB_PATH, { accessTokenFactory: () => apiKey })
      .withAutomaticReconnect(retryForever)
      .configureLogging(LogLevel.None)
      .build();

    const dispatch = (payload: unknown) => {
      const message = (typeof payload === 'string' ? JSON.parse(payload) : payload) as { backtestId?: string; optimizationId?: string };
      if (!message || typeof message !== 'object') return;
      const key = message.backtestId ? keyOf('backtest', message.backtestId)
        : message.optimizationId ? keyOf('optimization', message.optimizationId) : null;
      if (key) this.listeners.get(key)?.forEach((l) => l.onMessage(message));
    };
    this.connection.on(MESSAGE_METHOD, dispatch);

    this.connection.onreconnecting(() => this.setPhase('reconnecting'));
    this.connection.onreconnected(async () => {
      this.setPhase('connected');
      await this.resubscribeAll();
    });
    this.connection.onclose(() => {
      this.setPhase('disconnected');
      if (!this.stopped) setTimeout(() => void this.ensureStarted().then(() => this.resubscribeAll()), 2000);
    });
  }

  get phase() {
    return this.phaseValue;
  }

  onPhase(listener: (phase: ConnectionPhase) => void): () => void {
    this.phaseListeners.add(listener);
    listener(this.phaseValue);
    return () => this.phaseListeners.delete(listener);
  }

  private setPhase(phase: ConnectionPhase) {
    this.phaseValue = phase;
    this.phaseListeners.forEach((l) => l(phase));
  }

  private ensureStarted(): Promise<void> {
    if (this.connection.state === HubConnectionState.Connected) return Promise.resolve();
    if (this.starting) return this.starting;
    this.setPhase('connecting');
    this.starting = this.connection
      .start()
      .then(() => this.setPhase('connected'))
      .catch(() => {
        this.setPhase('disconnected');
        this.starting = null;
        if (!this.stopped) {
          return new Promise<void>((resolve) => setTimeout(resolve, 2000)).then(() => this.ensureStarted());
        }
      })
      .finally(() => {
        this.starting = null;
      });
    return this.starting;
  }

  private async resubscribeAll() {
    for (const key of this.listeners.keys()) {
      const { kind, id } = parseKey(key);
      await this.connection.invoke(METHODS[kind].subscribe, id).catch(() => undefined);
    }
    this.listeners.forEach((set) => set.forEach((l) => l.onResync?.()));
  }

  /** Watches one backtest; returns the function that stops watching. */
  subscribe(backtestId: string, listener: LiveListener): () => void {
    return this.watch('backtest', backtestId, listener as LiveListener<unknown>);
  }

  /** Watches one optimization job: its status and stored trials first, then its live events. */
  subscribeOptimization(optimizationId: string, listener: LiveListener<OptimizationLiveMessage>): () => void {
    return this.watch('optimization', optimizationId, listener as LiveListener<unknown>);
  }

  private watch(kind: Kind, id: string, listener: LiveListener<unknown>): () => void {
    const key = keyOf(kind, id);
    let set = this.listeners.get(key);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    if (first) {
      void this.ensureStarted().then(() => {
        if (this.listeners.has(key) && this.connection.state === HubConnectionState.Connected) {
          return this.connection.invoke(METHODS[kind].subscribe, id).catch(() => undefined);
        }
      });
    }
    return () => {
      const current = this.listeners.get(key);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(key);
        if (this.connection.state === HubConnectionState.Connected) {
          void this.connection.invoke(METHODS[kind].unsubscribe, id).catch(() => undefined);
        }
      }
    };
  }

  /** Connects now (the header shows the live state from the start); subscriptions connect on demand anyway. */
  start() {
    this.stopped = false;
    void this.ensureStarted();
  }

  async stop() {
    this.stopped = true;
    await this.connection.stop();
  }
}
