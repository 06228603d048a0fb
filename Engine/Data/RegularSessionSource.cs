using Backtesting.Engine.Data.Lean;

namespace Backtesting.Engine.Data;

/// <summary>
/// Keeps the points of an intraday equity stream that fall inside the regular session of their exchange-local
/// day, per the market calendar (early closes and late opens included); pre- and post-market points, and points
/// on days the calendar has no regular session, are skipped. A bar is inside when it starts at or after the open
/// and ends at or before the close; a tick when open &lt;= time &lt; close. Skipped points are not part of the
/// requested data: they are not counted anywhere downstream (quality counts, processed bars, progress).
/// Used unless <see cref="DataRequest.ExtendedHours"/> asks for the whole file.
/// </summary>
public sealed class RegularSessionSource : IMarketDataSource
{
    private readonly IMarketDataSource _inner;
    private readonly MarketHours _hours;
    private readonly ExchangeClock _clock;
    private int _day = int.MinValue;
    private long _openUtc;
    private long _closeUtc;

    public RegularSessionSource(IMarketDataSource inner, MarketHours hours)
    {
        _inner = inner;
        _hours = hours;
        _clock = new ExchangeClock(hours.ExchangeTimeZone);
    }

    /// <summary>Unknown without reading: how many points lie outside the session depends on the file.</summary>
    public long Count => -1;

    public bool TryRead(out MarketData point)
    {
        while (_inner.TryRead(out point))
        {
            if (point.LocalDay != _day)
            {
                LoadDay(point.LocalDay);
            }

            if (Inside(point))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A batch of the inner source's, the points outside the session dropped in place.</summary>
    public int Read(Span<MarketData> buffer)
    {
        while (true)
        {
            var read = _inner.Read(buffer);
            if (read == 0)
            {
                return 0;
            }

            var kept = 0;
            for (var i = 0; i < read; i++)
            {
                var day = buffer[i].LocalDay;
                if (day != _day)
                {
                    LoadDay(day);
                }

                if (Inside(buffer[i]))
                {
                    if (kept != i)
                    {
                        buffer[kept] = buffer[i];
                    }

                    kept++;
                }
            }

            if (kept > 0)
            {
                return kept;
            }
        }
    }

    private bool Inside(in MarketData point) => point.Kind == MarketDataKind.Bar
        ? point.Time >= _openUtc && point.EndTime <= _closeUtc
        : point.Time >= _openUtc && point.Time < _closeUtc;

    private void LoadDay(int dayNumber)
    {
        _day = dayNumber;
        var date = DateOnly.FromDayNumber(dayNumber);
        if (_hours.MarketOpen(date) is { } open && _hours.MarketClose(date) is { } close)
        {
            _openUtc = _clock.ToUtcTicks(dayNumber, open.Ticks);
            _closeUtc = _clock.ToUtcTicks(dayNumber, close.Ticks);
        }
        else
        {
            // No regular session that day: an empty window.
            _openUtc = long.MaxValue;
            _closeUtc = long.MinValue;
        }
    }

    public void Dispose() => _inner.Dispose();
}
