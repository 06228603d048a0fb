using Backtesting.Engine.Data;

namespace Backtesting.Engine.Core;

/// <summary>
/// Merges several instruments' streams into one stream in EndTime order (ties by instrument index, so the
/// order is deterministic). One source passes straight through; several use a small binary heap.
/// </summary>
public sealed class MarketDataMerger : IMarketDataSource
{
    private readonly IMarketDataSource[] _sources;
    // With exactly one source there is nothing to merge: reads go straight to it, without the copy through _heads.
    private readonly IMarketDataSource? _single;
    private readonly MarketData[] _heads;
    private readonly int[] _heap;
    private int _heapSize;

    public MarketDataMerger(IReadOnlyList<IMarketDataSource> sources)
    {
        _sources = sources.ToArray();
        _heads = new MarketData[_sources.Length];
        _heap = new int[_sources.Length];
        if (_sources.Length == 1)
        {
            _single = _sources[0];
        }
        else
        {
            for (var i = 0; i < _sources.Length; i++)
            {
                if (_sources[i].TryRead(out _heads[i]))
                {
                    Push(i);
                }
            }
        }

        var total = 0L;
        foreach (var source in _sources)
        {
            if (source.Count < 0)
            {
                total = -1;
                break;
            }

            total += source.Count;
        }

        Count = total;
    }

    public long Count { get; }

    public bool TryRead(out MarketData point)
    {
        if (_single is not null)
        {
            return _single.TryRead(out point);
        }

        if (_heapSize == 0)
        {
            point = default;
            return false;
        }

        var top = _heap[0];
        point = _heads[top];
        if (_sources[top].TryRead(out _heads[top]))
        {
            SiftDown(0);
        }
        else
        {
            _heap[0] = _heap[--_heapSize];
            if (_heapSize > 0)
            {
                SiftDown(0);
            }
        }

        return true;
    }

    private bool Less(int a, int b)
    {
        var ta = _heads[a].EndTime;
        var tb = _heads[b].EndTime;
        return ta < tb || (ta == tb && a < b);
    }

    private void Push(int source)
    {
        var i = _heapSize++;
        _heap[i] = source;
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Less(_heap[i], _heap[parent]))
            {
                break;
            }

            (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var left = 2 * i + 1;
            if (left >= _heapSize)
            {
                return;
            }

            var smallest = left;
            var right = left + 1;
            if (right < _heapSize && Less(_heap[right], _heap[left]))
            {
                smallest = right;
            }

            if (!Less(_heap[smallest], _heap[i]))
            {
                return;
            }

            (_heap[i], _heap[smallest]) = (_heap[smallest], _heap[i]);
            i = smallest;
        }
    }

    public void Dispose()
    {
        foreach (var source in _sources)
        {
            source.Dispose();
        }
    }
}
