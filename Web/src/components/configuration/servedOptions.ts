// The configuration options the API serves (GET /api/v1/configuration/options): the words each enumerated setting
// accepts and every setting's default, from the engine. The page loads them once with the strategies and
// instruments; the form reads them here. Nothing in the dashboard copies them.
import { useSyncExternalStore } from 'react';
import type { ConfigurationOptions } from '../../api/types';

let served: ConfigurationOptions | null = null;
const listeners = new Set<() => void>();

/** Keeps the server's answer (null forgets it); every form reading the options follows. */
export function setServedOptions(options: ConfigurationOptions | null) {
  served = options;
  listeners.forEach((listener) => listener());
}

/** The options as served, or null before the server has answered. */
export const servedOptions = () => served;

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => void listeners.delete(listener);
};

export function useServedOptions(): ConfigurationOptions | null {
  return useSyncExternalStore(subscribe, servedOptions);
}
