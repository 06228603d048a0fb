import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, renderHook, screen } from '@testing-library/react';
import { PolledListCard } from './PolledListCard';
import { LIST_POLL_MS, usePolledList, type PolledPage } from './usePolledList';

type Row = { id: string; name: string };

/** A load whose answers the test gives, one pending promise per call, in call order. */
function controlledLoad() {
  const calls: { page: number; pageSize: number; resolve(p: PolledPage<Row>): void; reject(e: unknown): void }[] = [];
  const load = vi.fn((page: number, pageSize: number) => new Promise<PolledPage<Row>>((resolve, reject) => {
    calls.push({ page, pageSize, resolve, reject });
  }));
  return { load, calls };
}

const rows = (...names: string[]): PolledPage<Row> => ({ items: names.map((name) => ({ id: name, name })), total: names.length });

/** Lets the promises answered so far settle inside act. */
const settle = () => act(async () => {
  await Promise.resolve();
});

describe('usePolledList', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the first page at once, then every period', async () => {
    const { load, calls } = controlledLoad();
    const { result } = renderHook(() => usePolledList(load));
    expect(load).toHaveBeenCalledTimes(1);
    expect(load).toHaveBeenLastCalledWith(1, 10);
    expect(result.current.loading).toBe(true);
    calls[0].resolve(rows('a', 'b'));
    await settle();
    expect(result.current).toMatchObject({ items: rows('a', 'b').items, total: 2, loading: false, error: null, page: 1 });

    await act(async () => {
      vi.advanceTimersByTime(LIST_POLL_MS - 1);
    });
    expect(load).toHaveBeenCalledTimes(1);
    await act(async () => {
      vi.advanceTimersByTime(1);
    });
    expect(load).toHaveBeenCalledTimes(2);
    calls[1].resolve(rows('a', 'b', 'c'));
    await settle();
    expect(result.current.total).toBe(3);
    await act(async () => {
      vi.advanceTimersByTime(2 * LIST_POLL_MS);
    });
    expect(load).toHaveBeenCalledTimes(4);
  });

  it('stops reading when unmounted, and an answer arriving after that changes nothing', async () => {
    const { load, calls } = controlledLoad();
    const { result, unmount } = renderHook(() => usePolledList(load));
    unmount();
    await act(async () => {
      vi.advanceTimersByTime(10 * LIST_POLL_MS);
    });
    expect(load).toHaveBeenCalledTimes(1);
    calls[0].resolve(rows('late'));
    await settle();
    expect(result.current.items).toEqual([]);
  });

  it('says why a read failed, keeps the rows it had, and clears the error once a read works', async () => {
    const { load, calls } = controlledLoad();
    const { result } = renderHook(() => usePolledList(load));
    calls[0].resolve(rows('a'));
    await settle();
    await act(async () => {
      vi.advanceTimersByTime(LIST_POLL_MS);
    });
    calls[1].reject(new Error('the server is away (503)'));
    await settle();
    expect(result.current.error).toBe('the server is away (503)');
    expect(result.current.items).toEqual(rows('a').items);
    await act(async () => {
      vi.advanceTimersByTime(LIST_POLL_MS);
    });
    calls[2].resolve(rows('a', 'b'));
    await settle();
    expect(result.current.error).toBeNull();
    expect(result.current.total).toBe(2);
  });

  it('reads again at once on refresh and on a new page, and applies only the newest read', async () => {
    const { load, calls } = controlledLoad();
    const { result } = renderHook(() => usePolledList(load, { pageSize: 5 }));
    expect(load).toHaveBeenLastCalledWith(1, 5);
    act(() => result.current.refresh());
    expect(load).toHaveBeenCalledTimes(2);
    act(() => result.current.setPage(3));
    expect(load).toHaveBeenCalledTimes(3);
    expect(load).toHaveBeenLastCalledWith(3, 5);
    // The older reads answer last: they are not applied over the newer one.
    calls[2].resolve(rows('page3'));
    calls[0].resolve(rows('old'));
    calls[1].resolve(rows('older'));
    await settle();
    expect(result.current.items).toEqual(rows('page3').items);
    expect(result.current.page).toBe(3);
    // The period restarts from the refresh: the next read is a full period after it.
    await act(async () => {
      vi.advanceTimersByTime(LIST_POLL_MS - 1);
    });
    expect(load).toHaveBeenCalledTimes(3);
    await act(async () => {
      vi.advanceTimersByTime(1);
    });
    expect(load).toHaveBeenCalledTimes(4);
    expect(load).toHaveBeenLastCalledWith(3, 5);
  });
});

describe('PolledListCard', () => {
  function Harness({ load }: { load(page: number, pageSize: number): Promise<PolledPage<Row>> }) {
    const list = usePolledList(load);
    return <PolledListCard<Row> title="Jobs" testId="jobs" list={list} columns={[{ title: 'Name', dataIndex: 'name' }]} />;
  }

  it('shows the rows, the error of a failed read above them, and reads again on its refresh button', async () => {
    let fail = false;
    const load = vi.fn(async () => {
      if (fail) throw new Error('network down');
      return rows('first job');
    });
    render(<Harness load={load} />);
    expect(await screen.findByText('first job')).toBeInTheDocument();
    expect(screen.queryByTestId('jobs-error')).toBeNull();

    fail = true;
    await act(async () => {
      fireEvent.click(screen.getByTestId('jobs-refresh'));
    });
    expect(load).toHaveBeenCalledTimes(2);
    expect(await screen.findByTestId('jobs-error')).toHaveTextContent('Could not read the list: network down');
    expect(screen.getByTestId('jobs-error')).toHaveTextContent('the rows below are from the last read that worked');
    expect(screen.getByText('first job')).toBeInTheDocument();

    fail = false;
    await act(async () => {
      fireEvent.click(screen.getByTestId('jobs-refresh'));
    });
    await vi.waitFor(() => expect(screen.queryByTestId('jobs-error')).toBeNull());
  });
});
