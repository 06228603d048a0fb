using Backtesting.Engine.Configuration;

namespace Backtesting.Engine.Data;

/// <summary>What the quality filters saw and dropped for one instrument.</summary>
/// <param name="TotalRead">Points read from the underlying source.</param>
/// <param name="MissingSessions">Trading sessions in the range with no data, against the calendar.</param>
public sealed record DataQualityCounts(
    string Instrument,
    long TotalRead,
    long DroppedInvalid,
    long DroppedZeroVolume,
    long DroppedSpikes,
    int MissingSessions)
{
    public long Kept => TotalRead - DroppedInvalid - DroppedZeroVolume - DroppedSpikes;
}

/// <summary>
/// Applies <see cref="QualityFilters"/> to another source and counts what it drops:
/// <list type="bullet">
/// <item>invalid: a non-positive or NaN price, or high below low;</item>
/// <item>zero volume (optional): trade bars and trades with no volume; quote-derived points, which
/// carry no traded volume, are exempt;</item>
/// <item>spikes (optional): a close more than SpikeThreshold away from the last kept close. A move
/// confirmed by the next point is a level shift, not a spike: that next point is kept and becomes
/// the new reference, so a genuine jump does not lock the filter out for good.</item>
/// </list>
/// </summary>
public sealed class QualityFilteredSource : IMarketDataSource
{
    private readonly IMarketDataSource _inner;
    private readonly QualityFilters _filters;
    private readonly List<int> _observedDays = [];
    private double _referenceClose = double.NaN;
    private double _droppedSpikeClose = double.NaN;
    private long _totalRead;
    private long _droppedInvalid;
    private long _droppedZeroVolume;
    private long _droppedSpikes;

    public QualityFilteredSource(IMarketDataSource inner, QualityFilters filters, string instrumentId)
    {
        _inner = inner;
        _filters = filters;
        InstrumentId = instrumentId;
    }

    public string InstrumentId { get; }

    /// <remarks>An upper bound when filters drop points: good enough for progress, which is all it is used for.</remarks>
    public long Count => _inner.Count;

    /// <summary>Counts so far; MissingSessions is 0 here (see <see cref="Report"/>).</summary>
    public DataQualityCounts Counts => new(InstrumentId, _totalRead, _droppedInvalid, _droppedZeroVolume, _droppedSpikes, 0);

    /// <summary>The distinct local days (DayNumber) of the points kept so far, ascending.</summary>
    public IReadOnlyList<int> ObservedLocalDays => _observedDays;

    /// <summary>
    /// The counts with the sessions in [<paramref name="start"/>, <paramref name="end"/>] that had no
    /// kept data; read the source to the end first. Gaps are only counted when ReportGaps is on.
    /// </summary>
    public DataQualityCounts Report(IMarketCalendar calendar, Instrument instrument, DateOnly start, DateOnly end) =>
        Counts with
        {
            MissingSessions = _filters.ReportGaps
                ? GapReport.CountMissingSessions(calendar, instrument, _observedDays, start, end)
                : 0,
        };

    public bool TryRead(out MarketData point)
    {
        try
        {
            return ReadKept(out point);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException && e is not MarketDataException)
        {
            // This is the last layer that still knows which instrument a broken file belongs to.
            throw new MarketDataException(InstrumentId, e);
        }
    }

    /// <summary>A batch of the inner source's, the dropped points removed in place: the same points, counted the same
    /// way, as reading them one by one.</summary>
    public int Read(Span<MarketData> buffer)
    {
        try
        {
            while (true)
            {
                var read = _inner.Read(buffer);
                if (read == 0)
                    return 0;
                var kept = 0;
                for (var i = 0; i < read; i++)
                {
                    if (Keep(buffer[i]))
                    {
                        if (kept != i)
                            buffer[kept] = buffer[i];
                        kept++;
                    }
                }
                if (kept > 0)
                    return kept;
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException && e is not MarketDataException)
        {
            throw new MarketDataException(InstrumentId, e);
        }
    }

    private bool ReadKept(out MarketData point)
    {
        while (_inner.TryRead(out point))
        {
            if (Keep(point))
                return true;
        }
        return false;
    }

    /// <summary>Counts a point read and whether the filters keep it.</summary>
    private bool Keep(in MarketData point)
    {
        _totalRead++;
        if (_filters.DropInvalid && IsInvalid(point))
        {
            _droppedInvalid++;
            return false;
        }
        if (_filters.DropZeroVolume && point.Volume <= 0 && CarriesVolume(point))
        {
            _droppedZeroVolume++;
            return false;
        }
        if (_filters.SpikeThreshold > 0 && IsSpike(point.Close))
        {
            _droppedSpikes++;
            return false;
        }
        if (_observedDays.Count == 0 || _observedDays[^1] != point.LocalDay)
            _observedDays.Add(point.LocalDay);
        return true;
    }

    private bool IsSpike(double close)
    {
        if (!double.IsNaN(_referenceClose) && Math.Abs((close / _referenceClose) - 1) > _filters.SpikeThreshold)
        {
            var confirmsLevelShift = !double.IsNaN(_droppedSpikeClose)
                && Math.Abs((close / _droppedSpikeClose) - 1) <= _filters.SpikeThreshold;
            if (!confirmsLevelShift)
            {
                _droppedSpikeClose = close;
                return true;
            }
        }
        _referenceClose = close;
        _droppedSpikeClose = double.NaN;
        return false;
    }

    internal static bool IsInvalid(in MarketData p)
    {
        // Written as !(x > 0) so NaN counts as invalid too.
        if (p.Kind == MarketDataKind.QuoteTick)
            return !(p.Close > 0) || p.Bid < 0 || p.Ask < 0;
        return !(p.Open > 0) || !(p.High > 0) || !(p.Low > 0) || !(p.Close > 0) || p.High < p.Low || p.Volume < 0;
    }

    private static bool CarriesVolume(in MarketData p) => p.Kind != MarketDataKind.QuoteTick && p.Bid <= 0 && p.Ask <= 0;

    public void Dispose() => _inner.Dispose();
}

/// <summary>Finds trading sessions without data.</summary>
public static class GapReport
{
    /// <summary>
    /// Number of the instrument's trading days in [<paramref name="start"/>, <paramref name="end"/>]
    /// (per the calendar) that do not appear in <paramref name="observedLocalDays"/> (DayNumbers).
    /// </summary>
    public static int CountMissingSessions(IMarketCalendar calendar, Instrument instrument,
        IEnumerable<int> observedLocalDays, DateOnly start, DateOnly end)
    {
        var count = 0;
        Walk(calendar, instrument, observedLocalDays, start, end, _ => count++);
        return count;
    }

    /// <summary>The trading days in the range that have no data, in order.</summary>
    public static IReadOnlyList<DateOnly> MissingSessions(IMarketCalendar calendar, Instrument instrument,
        IEnumerable<int> observedLocalDays, DateOnly start, DateOnly end)
    {
        var missing = new List<DateOnly>();
        Walk(calendar, instrument, observedLocalDays, start, end, missing.Add);
        return missing;
    }

    /// <summary>
    /// Calls <paramref name="missing"/> for each trading day in the range without data, in order. Days kept by a
    /// <see cref="QualityFilteredSource"/> come as an ascending list: a walk along both, with no set built per run.
    /// </summary>
    private static void Walk(IMarketCalendar calendar, Instrument instrument, IEnumerable<int> observedLocalDays,
        DateOnly start, DateOnly end, Action<DateOnly> missing)
    {
        var days = calendar.TradingDays(instrument.Market, instrument.AssetClass, start, end);
        if (observedLocalDays is IReadOnlyList<int> list && Ascending(list))
        {
            var j = 0;
            foreach (var day in days)
            {
                while (j < list.Count && list[j] < day.DayNumber)
                    j++;
                if (j == list.Count || list[j] != day.DayNumber)
                    missing(day);
            }
            return;
        }

        var observed = observedLocalDays as IReadOnlySet<int> ?? observedLocalDays.ToHashSet();
        foreach (var day in days)
        {
            if (!observed.Contains(day.DayNumber))
                missing(day);
        }
    }

    private static bool Ascending(IReadOnlyList<int> days)
    {
        for (var i = 1; i < days.Count; i++)
        {
            if (days[i] < days[i - 1])
                return false;
        }
        return true;
    }
}

/// <summary>Market data of one instrument could not be read: names the instrument, keeps the reader's error.</summary>
public sealed class MarketDataException(string instrumentId, Exception inner)
    : IOException($"{instrumentId}: {inner.Message}", inner)
{
    public string InstrumentId { get; } = instrumentId;
}
