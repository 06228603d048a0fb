using Backtesting.Engine.Data;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// The real bundled data, handed out with a short sleep every <c>pointsPerPause</c> points: a run lasts long
/// enough for a test to act on it mid-run (pause, restart silos) however fast or loaded the machine is. The points
/// themselves are unchanged, so results equal an unthrottled run's.
/// </summary>
public sealed class ThrottledMarketData(IMarketDataProvider inner, int pointsPerPause) : IMarketDataProvider
{
    public IInstrumentCatalog Catalog => inner.Catalog;
    public IMarketCalendar Calendar => inner.Calendar;
    public IFxRateProvider FxRates => inner.FxRates;

    public IMarketDataSource Open(Instrument instrument, int index, DataRequest request) =>
        new Source(inner.Open(instrument, index, request), pointsPerPause);

    public string DataVersion(Instrument instrument, DataRequest request) => inner.DataVersion(instrument, request);

    private sealed class Source(IMarketDataSource inner, int pointsPerPause) : IMarketDataSource
    {
        private long _read;

        public long Count => inner.Count;

        public bool TryRead(out MarketData point)
        {
            if (++_read % pointsPerPause == 0)
            {
                Thread.Sleep(1);
            }

            return inner.TryRead(out point);
        }

        public void Dispose() => inner.Dispose();
    }
}
