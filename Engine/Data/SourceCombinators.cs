namespace Backtesting.Engine.Data;

/// <summary>
/// Restricts a time-ordered source to points whose local date is in [start, end], first yielding
/// the last <c>warmupBars</c> points before start (kept in a small ring buffer while skipping).
/// Stops reading the inner source at the first point after end.
/// </summary>
internal sealed class DateWindowSource : IMarketDataSource
{
    private readonly IMarketDataSource _inner;
    private readonly int _startDay;
    private readonly int _endDay;
    private readonly MarketData[] _ring;
    private int _ringStart;
    private int _ringCount;
    private MarketData _firstInRange;
    private bool _hasFirstInRange;
    private bool _skipped;
    private bool _done;

    public DateWindowSource(IMarketDataSource inner, DateOnly start, DateOnly end, int warmupBars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupBars);
        _inner = inner;
        _startDay = start.DayNumber;
        _endDay = end.DayNumber;
        _ring = new MarketData[warmupBars];
    }

    public long Count => -1;

    public bool TryRead(out MarketData point)
    {
        if (!_skipped)
            SkipToStart();
        if (_ringCount > 0)
        {
            point = _ring[_ringStart];
            _ringStart = (_ringStart + 1) % _ring.Length;
            _ringCount--;
            return true;
        }
        if (_hasFirstInRange)
        {
            point = _firstInRange;
            _hasFirstInRange = false;
            return true;
        }
        if (!_done && _inner.TryRead(out point) && point.LocalDay <= _endDay)
            return true;
        _done = true;
        point = default;
        return false;
    }

    /// <summary>A batch: the warm-up points and the first point in range one by one, then the inner source's batches,
    /// cut at the first point after the end day (as <see cref="TryRead"/> stops there).</summary>
    public int Read(Span<MarketData> buffer)
    {
        if (!_skipped)
            SkipToStart();
        if (_ringCount > 0 || _hasFirstInRange)
            return IMarketDataSource.ReadOneByOne(this, buffer[..Math.Min(buffer.Length, _ringCount + (_hasFirstInRange ? 1 : 0))]);
        if (_done || buffer.IsEmpty)
            return 0;
        var read = _inner.Read(buffer);
        for (var i = 0; i < read; i++)
        {
            if (buffer[i].LocalDay > _endDay)
            {
                _done = true;
                return i;
            }
        }

        if (read == 0)
            _done = true;
        return read;
    }

    private void SkipToStart()
    {
        _skipped = true;
        while (_inner.TryRead(out var point))
        {
            if (point.LocalDay >= _startDay)
            {
                if (point.LocalDay <= _endDay)
                {
                    _firstInRange = point;
                    _hasFirstInRange = true;
                }
                else
                {
                    _done = true;
                }
                return;
            }
            if (_ring.Length == 0)
                continue;
            if (_ringCount == _ring.Length)
            {
                // Full: the newest point overwrites the oldest.
                _ring[_ringStart] = point;
                _ringStart = (_ringStart + 1) % _ring.Length;
            }
            else
            {
                _ring[(_ringStart + _ringCount) % _ring.Length] = point;
                _ringCount++;
            }
        }
        _done = true;
    }

    public void Dispose() => _inner.Dispose();
}

/// <summary>
/// Merges two time-ordered sources by EndTime; on equal times the first source's point comes
/// first (used to interleave quote and trade ticks, quotes first).
/// </summary>
internal sealed class MergedSource(IMarketDataSource first, IMarketDataSource second) : IMarketDataSource
{
    private MarketData _nextFirst;
    private MarketData _nextSecond;
    private bool _hasFirst;
    private bool _hasSecond;
    private bool _started;

    public long Count => first.Count >= 0 && second.Count >= 0 ? first.Count + second.Count : -1;

    public bool TryRead(out MarketData point)
    {
        if (!_started)
        {
            _started = true;
            _hasFirst = first.TryRead(out _nextFirst);
            _hasSecond = second.TryRead(out _nextSecond);
        }
        if (_hasFirst && (!_hasSecond || _nextFirst.EndTime <= _nextSecond.EndTime))
        {
            point = _nextFirst;
            _hasFirst = first.TryRead(out _nextFirst);
            return true;
        }
        if (_hasSecond)
        {
            point = _nextSecond;
            _hasSecond = second.TryRead(out _nextSecond);
            return true;
        }
        point = default;
        return false;
    }

    public void Dispose()
    {
        first.Dispose();
        second.Dispose();
    }
}
