namespace Backtesting.Engine.Data;

/// <summary>Market data already in memory (tests, benchmarks, synthetic data): streams an array in order.</summary>
public sealed class InMemorySource : IMarketDataSource
{
    private readonly MarketData[] _points;
    private readonly int _instrument;
    private int _next;

    /// <param name="instrument">Index stamped on every point (overrides what the points carry).</param>
    public InMemorySource(MarketData[] points, int instrument)
    {
        _points = points;
        _instrument = instrument;
    }

    public long Count => _points.Length;

    public bool TryRead(out MarketData point)
    {
        if (_next >= _points.Length)
        {
            point = default;
            return false;
        }

        point = _points[_next++];
        point.Instrument = _instrument;
        return true;
    }

    public int Read(Span<MarketData> buffer)
    {
        var count = Math.Min(buffer.Length, _points.Length - _next);
        _points.AsSpan(_next, count).CopyTo(buffer);
        for (var i = 0; i < count; i++)
        {
            buffer[i].Instrument = _instrument;
        }

        _next += count;
        return count;
    }

    public void Dispose()
    {
    }
}
