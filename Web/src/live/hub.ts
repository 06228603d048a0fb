// One SignalR connection per signed-in session, shared by every component that watches a backtest.
// Subscriptions are reference-counted per backtest id. After a reconnect every id is subscribed again and
// the listeners are told, so they re-read the snapshot instead of trusting what they had (never stale).
import {
  HubConnection, HubConnectionBuilder, HubConnectionState, LogLevel, type IRetryPolicy,
} from '@microsoft/signalr';
import type { LiveMessage } from '../api/types';

export const HUB_PATH = '/hubs/backtests';
/** The client method the API's hub sends every message to (Api/Realtime/BacktestHub.cs). */
const MESSAGE_METHOD = 'message';

export type ConnectionPhase = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface LiveListener {
  onMessage(message: LiveMessage): void;
  /** The connection came back: state held so far may have missed events, re-read it. */
  onResync?(): void;
}

// Retry forever with a capped back-off: a trader's screen should heal by itself after a server restart.
const retryForever: IRetryPolicy = {
  nextRetryDelayInMilliseconds: (context) => Math.min(10_000, 500 * 2 ** Math.min(context.previousRetryCount, 5)),
};

export class LiveHub {
  private readonly connection: HubConnection;
  private readonly listeners = new Map<string, Set<LiveListener>>();
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
      const message = (typeof payload === 'string' ? JSON.parse(payload) : payload) as LiveMessage;
      if (!message || typeof message !== 'object' || !message.backtestId) return;
      this.listeners.get(message.backtestId)?.forEach((l) => l.onMessage(message));
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
    for (const id of this.listeners.keys()) {
      await this.connection.invoke('Subscribe', id).catch(() => undefined);
    }
    this.listeners.forEach((set) => set.forEach((l) => l.onResync?.()));
  }

  /** Watches one backtest; returns the function that stops watching. */
  subscribe(backtestId: string, listener: LiveListener): () => void {
    let set = this.listeners.get(backtestId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(backtestId, set);
    }
    set.add(listener);
    if (first) {
      void this.ensureStarted().then(() => {
        if (this.listeners.has(backtestId) && this.connection.state === HubConnectionState.Connected) {
          return this.connection.invoke('Subscribe', backtestId).catch(() => undefined);
        }
      });
    }
    return () => {
      const current = this.listeners.get(backtestId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(backtestId);
        if (this.connection.state === HubConnectionState.Connected) {
          void this.connection.invoke('Unsubscribe', backtestId).catch(() => undefined);
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
