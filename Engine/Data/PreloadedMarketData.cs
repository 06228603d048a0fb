using System.Collections.Concurrent;

namespace Backtesting.Engine.Data;

/// <summary>
/// A provider that reads, filters to the request's window and adjusts each instrument's data once, then serves every
/// later open of the same request from memory: an optimization batch's trials all share one base config, so they all
/// read the same points. The arrays are never written after they are read; each open gets its own cursor
/// (<see cref="InMemorySource"/>), so nothing mutable is shared between the runs that read them. Catalog, calendar
/// and exchange rates are the inner provider's, and so are the data versions (computed once per request), so a run's
/// content hash is the one it has when run alone.
/// </summary>
public sealed class PreloadedMarketData(IMarketDataProvider inner) : IMarketDataProvider
{
    private readonly ConcurrentDictionary<(string Instrument, DataRequest Request), Lazy<MarketData[]>> _points = new();
    private readonly ConcurrentDictionary<(string Instrument, DataRequest Request), Lazy<string>> _versions = new();

    public IInstrumentCatalog Catalog => inner.Catalog;

    public IMarketCalendar Calendar => inner.Calendar;

    public IFxRateProvider FxRates => inner.FxRates;

    /// <summary>How many points are held in memory, over every request read so far.</summary>
    public long PointsHeld => _points.Values.Where(l => l.IsValueCreated).Sum(l => (long)l.Value.Length);

    public IMarketDataSource Open(Instrument instrument, int index, DataRequest request)
    {
        var points = _points.GetOrAdd((instrument.Id, request), key => new Lazy<MarketData[]>(() => Read(instrument, key.Request))).Value;
        return new InMemorySource(points, index);
    }

    public string DataVersion(Instrument instrument, DataRequest request) =>
        _versions.GetOrAdd((instrument.Id, request), key => new Lazy<string>(() => inner.DataVersion(instrument, key.Request))).Value;

    private MarketData[] Read(Instrument instrument, DataRequest request)
    {
        using var source = inner.Open(instrument, 0, request);
        var points = new List<MarketData>();
        var buffer = new MarketData[4096];
        int read;
        while ((read = source.Read(buffer)) > 0)
        {
            points.AddRange(buffer.AsSpan(0, read));
        }

        return [.. points];
    }
}
