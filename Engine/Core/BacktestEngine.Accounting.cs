using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Core;

// Equity, the benchmark and exchange rates: the per-slice equity curve (thinned to a bound), the end-of-day
// equity of the account and of a buy-and-hold benchmark, and the quote-to-base rate of each instrument.
public sealed partial class BacktestEngine
{
    private readonly IFxRateProvider _fx;
    // Sized once from what the run can hold (see DailyCapacity): a run's lists never regrow and copy themselves.
    private readonly List<EquityPoint> _equity;
    private readonly List<DailyEquity> _daily;
    private readonly List<DailyEquity> _benchmarkDaily;
    private readonly double[] _fxRate;
    private readonly int[] _fxDay;
    // Per instrument: quoted in another currency than the base, so marks and fills need an exchange rate.
    private readonly bool[] _needsFx;
    private readonly int _benchmarkIndex;
    private DrawdownTracker _drawdown;
    private long _slicesInMarket;
    private int _equityStride = 1;
    private double _lastEquity;
    private double _benchmarkShares = double.NaN;

    /// <summary>
    /// The most end-of-day points a run can record: one per calendar day of its dates (fewer when its data holds fewer
    /// points); a capacity, never a bound.
    /// </summary>
    private static int DailyCapacity(BacktestSpec spec, long points)
    {
        var days = Math.Max(1, spec.End.DayNumber - spec.Start.DayNumber + 1);
        return (int)(points > 0 ? Math.Min(days, points) : days);
    }

    /// <summary>The most equity-curve points a run can hold at once: its bound, or its data's points when fewer.</summary>
    private static int EquityCapacity(EngineOptions options, long points) =>
        (int)Math.Max(1, points > 0 ? Math.Min(options.MaxEquityPoints, points) : Math.Min(options.MaxEquityPoints, 1024));

    private void RecordEquity(double equity)
    {
        // The stride is a power of two (1, doubled at each thinning): a mask instead of a division per slice.
        if ((_slices & (_equityStride - 1)) != 0)
        {
            return;
        }

        if (_equity.Count >= _options.MaxEquityPoints)
        {
            // Thin evenly: keep every other point and sample half as often from now on.
            var kept = 0;
            for (var i = 0; i < _equity.Count; i += 2)
            {
                _equity[kept++] = _equity[i];
            }

            _equity.RemoveRange(kept, _equity.Count - kept);
            _equityStride *= 2;
            if ((_slices & (_equityStride - 1)) != 0)
            {
                return;
            }
        }

        _equity.Add(new EquityPoint(new DateTime(CurrentTime, DateTimeKind.Utc), equity, Portfolio.Cash, _drawdown.CurrentDrawdown));
    }

    private void CloseDay()
    {
        var date = DateOnly.FromDayNumber(_currentDay);
        var point = new DailyEquity(date, _lastEquity);
        _daily.Add(point);
        var benchmarkClose = _lastClose[_benchmarkIndex];
        if (double.IsNaN(_benchmarkShares) && benchmarkClose > 0)
        {
            // Buy and hold: the whole initial balance in the benchmark at its first close in range.
            _benchmarkShares = _spec.InitialBalance / (benchmarkClose * _fxRate[_benchmarkIndex]);
        }

        var benchmarkEquity = double.IsNaN(_benchmarkShares)
            ? _spec.InitialBalance
            : _benchmarkShares * benchmarkClose * _fxRate[_benchmarkIndex];
        _benchmarkDaily.Add(new DailyEquity(date, benchmarkEquity));
        if (!Silent)
        {
            _observer?.OnDailyEquity(point, _drawdown.CurrentDrawdown);
        }
    }

    private double FxRate(int instrument, in MarketData point)
    {
        if (!_needsFx[instrument])
        {
            return 1;
        }

        var quote = AllInstruments[instrument].QuoteCurrency;
        if (_fxDay[instrument] != point.LocalDay)
        {
            _fxDay[instrument] = point.LocalDay;
            if (_fx.TryGetRate(quote, _spec.BaseCurrency, point.EndTime, out var rate) && rate > 0)
            {
                _fxRate[instrument] = rate;
            }
            else if (_fxRate[instrument] == 1 && !_fx.Supports(quote, _spec.BaseCurrency))
            {
                throw new InvalidOperationException($"No exchange rate from {quote} to {_spec.BaseCurrency}.");
            }
        }

        return _fxRate[instrument];
    }
}
