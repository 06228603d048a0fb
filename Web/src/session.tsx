// The signed-in session: the API key (kept in sessionStorage, so it lasts as long as the browser tab), the
// API client and the shared live connection built from it.
import { createContext, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { ApiClient } from './api/client';
import { LiveHub } from './live/hub';

const STORAGE_KEY = 'backtesting.apiKey';

export const readStoredKey = () => sessionStorage.getItem(STORAGE_KEY);
export const storeKey = (key: string) => sessionStorage.setItem(STORAGE_KEY, key);
export const clearStoredKey = () => sessionStorage.removeItem(STORAGE_KEY);

export interface Session {
  api: ApiClient;
  hub: LiveHub;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ apiKey, onSignOut, children }: { apiKey: string; onSignOut(): void; children: ReactNode }) {
  const api = useMemo(() => new ApiClient(apiKey), [apiKey]);
  const hub = useMemo(() => new LiveHub(apiKey), [apiKey]);
  useEffect(() => {
    hub.start();
    return () => void hub.stop();
  }, [hub]);
  const value = useMemo(() => ({ api, hub, signOut: onSignOut }), [api, hub, onSignOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** For tests and stories: a session made of given parts. */
export function SessionValueProvider({ value, children }: { value: Session; children: ReactNode }) {
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
