using Backtesting.Engine.Data;

namespace Backtesting.Engine.Core;

/// <summary>
/// Merges several instruments' streams into one stream in EndTime order (ties by instrument index, so the
/// order is deterministic). One source passes straight through; several use a small binary heap.
/// </summary>
/// <remarks>
/// The heap keeps each entry's EndTime next to its source index, so comparisons read two small arrays
/// instead of the 96-byte heads. After a pop the top's replacement is usually the latest point of all (every
/// instrument's next bar comes after the current slice), so the hole left at the root is walked down along the
/// smaller child to a leaf and the replacement sifted up from there: one comparison per level instead of two.
/// (time, source) is a strict total order, so the output order does not depend on how the heap is arranged.
/// </remarks>
public sealed class MarketDataMerger : IMarketDataSource
{
    private readonly IMarketDataSource[] _sources;
    // With exactly one source there is nothing to merge: reads go straight to it, without the copy through _heads.
    private readonly IMarketDataSource? _single;
    private readonly MarketData[] _heads;
    // Heap positions: which source, and that source's head EndTime.
    private readonly int[] _heap;
    private readonly long[] _heapTime;
    private int _heapSize;

    public MarketDataMerger(IReadOnlyList<IMarketDataSource> sources)
    {
        _sources = sources.ToArray();
        _heads = new MarketData[_sources.Length];
        _heap = new int[_sources.Length];
        _heapTime = new long[_sources.Length];
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
                    Push(i, _heads[i].EndTime);
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
            ReplaceTop(top, _heads[top].EndTime);
        }
        else if (--_heapSize > 0)
        {
            ReplaceTop(_heap[_heapSize], _heapTime[_heapSize]);
        }

        return true;
    }

    public int Read(Span<MarketData> buffer)
    {
        return _single is not null ? _single.Read(buffer) : IMarketDataSource.ReadOneByOne(this, buffer);
    }

    private static bool Before(long time, int source, long otherTime, int otherSource) =>
        time < otherTime || (time == otherTime && source < otherSource);

    private void Push(int source, long time)
    {
        var i = _heapSize++;
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Before(time, source, _heapTime[parent], _heap[parent]))
            {
                break;
            }

            _heap[i] = _heap[parent];
            _heapTime[i] = _heapTime[parent];
            i = parent;
        }

        _heap[i] = source;
        _heapTime[i] = time;
    }

    /// <summary>Puts (source, time) in place of the root: the hole goes down to a leaf, then the entry sifts up.</summary>
    private void ReplaceTop(int source, long time)
    {
        var hole = 0;
        while (true)
        {
            var child = (2 * hole) + 1;
            if (child >= _heapSize)
            {
                break;
            }

            var right = child + 1;
            if (right < _heapSize && Before(_heapTime[right], _heap[right], _heapTime[child], _heap[child]))
            {
                child = right;
            }

            _heap[hole] = _heap[child];
            _heapTime[hole] = _heapTime[child];
            hole = child;
        }

        while (hole > 0)
        {
            var parent = (hole - 1) / 2;
            if (!Before(time, source, _heapTime[parent], _heap[parent]))
            {
                break;
            }

            _heap[hole] = _heap[parent];
            _heapTime[hole] = _heapTime[parent];
            hole = parent;
        }

        _heap[hole] = source;
        _heapTime[hole] = time;
    }

    public void Dispose()
    {
        foreach (var source in _sources)
        {
            source.Dispose();
        }
    }
}
