// One paged list that follows the server: read at once, then every few seconds until the component unmounts, again at
// once when the page changes or on demand. A failed read keeps the rows last read and says why until a read succeeds.
// The Optimize and Walk-forward pages list their jobs with it (PolledListCard).
import { useCallback, useEffect, useRef, useState } from 'react';

export interface PolledPage<T> {
  items: T[];
  total: number;
}

export interface PolledList<T> extends PolledPage<T> {
  page: number;
  pageSize: number;
  setPage(page: number): void;
  /** Why the last read failed; null once a read succeeded. */
  error: string | null;
  /** True until the first read of the current page answered (either way). */
  loading: boolean;
  /** Reads again now (and restarts the period). */
  refresh(): void;
}

/** How often a list is read while shown. */
export const LIST_POLL_MS = 5000;

/**
 * Polls `load(page, pageSize)`. `load` must keep its identity between renders (wrap it in useCallback): a new function
 * is a new source and is read at once.
 */
export function usePolledList<T>(
  load: (page: number, pageSize: number) => Promise<PolledPage<T>>,
  { pageSize = 10, intervalMs = LIST_POLL_MS }: { pageSize?: number; intervalMs?: number } = {},
): PolledList<T> {
  const [page, setPage] = useState(1);
  const [data, setData] = useState<PolledPage<T>>({ items: [], total: 0 });
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  // Reads may answer out of order: only the newest one asked is applied.
  const asked = useRef(0);

  useEffect(() => {
    let live = true;
    setLoading(true);
    const read = () => {
      const mine = ++asked.current;
      load(page, pageSize).then(
        (p) => {
          if (!live || mine !== asked.current) return;
          setData({ items: p.items, total: p.total });
          setError(null);
          setLoading(false);
        },
        (e: unknown) => {
          if (!live || mine !== asked.current) return;
          setError(e instanceof Error ? e.message : String(e));
          setLoading(false);
        },
      );
    };
    read();
    const timer = setInterval(read, intervalMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [load, page, pageSize, intervalMs, generation]);

  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...data, page, pageSize, setPage, error, loading, refresh };
}
