using System.Buffers;
using System.Diagnostics;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Indicators;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Results;
using Backtesting.Engine.Risk;
using Backtesting.Engine.Sizing;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Core;

/// <summary>
/// The event loop. Points from all instruments arrive merged in time order and are handled a time slice
/// at a time: (1) working orders are matched against each point, position-reducing orders first so a
/// rebalance frees cash before it spends it; (2) positions are marked at the close; (3) the strategy sees
/// each point and the slice's end; (4) with the same-bar-close fill model, new market orders fill at the
/// close; (5) equity is recorded once for the slice. Nothing here allocates per point on the fast path.
/// </summary>
/// <remarks>
/// One class in several files, one per seam, so each part reads the loop's state directly (no call or copy on
/// the hot path): this file is the loop; <c>.Orders</c> the working-order book and the strategy's order calls;
/// <c>.Execution</c> matching and fills; <c>.Brackets</c> the stop-loss / take-profit pair; <c>.DrawdownHalt</c>
/// the halt; <c>.Accounting</c> equity, the benchmark and exchange rates. Position sizing
/// (<see cref="PositionSizer"/>) and the pre-trade checks (<see cref="PreTradeRisk"/>) are types of their own,
/// called once per order.
/// </remarks>
public sealed partial class BacktestEngine
{
    private readonly BacktestSpec _spec;
    private readonly Strategy _strategy;
    private readonly IMarketDataSource _data;
    private readonly EngineOptions _options;
    private readonly IBacktestObserver? _observer;
    private readonly RiskSettings _risk;
    private readonly PositionSizer _sizer;
    private readonly PreTradeRisk _preTradeRisk;
    // False when the strategy keeps the base class's empty OnSliceEnd: one virtual call per slice saved.
    private readonly bool _notifySliceEnd;
    // Per instrument: the average true range, kept only when the sizing mode needs it.
    private readonly Atr?[] _atr;
    private readonly double[] _lastClose;
    private readonly int _tradable;
    private readonly int _startDay;
    // The current slice is _slice[_sliceStart .. _sliceStart + _sliceCount): points are read straight into the
    // buffer and handled where they lie, so the 104-byte struct is not copied on its way through the loop.
    // Sized for a batch of reads that stays in the first-level cache; rented from the pool for the length of Run (an
    // optimization batch runs thousands of engines back to back) and given back when the loop ends, however it ends.
    private const int SliceBuffer = 256;
    private MarketData[] _slice = [];
    private int _sliceStart;
    private int _sliceCount;
    private long _processed;
    private long _slices;
    private int _currentDay = -1;
    private bool _cancelled;

    public BacktestEngine(BacktestSpec spec, Strategy strategy, IMarketDataSource data, IFxRateProvider fx,
        EngineOptions? options = null, IBacktestObserver? observer = null)
    {
        _spec = spec;
        _strategy = strategy;
        _data = data;
        _fx = fx;
        _options = options ?? new EngineOptions();
        _observer = observer;
        _equity = new List<EquityPoint>(EquityCapacity(_options, data.Count));
        _daily = new List<DailyEquity>(DailyCapacity(spec, data.Count));
        _benchmarkDaily = new List<DailyEquity>(_daily.Capacity);
        _risk = spec.Config.RiskSettings;
        _participation = spec.Config.ExecutionSettings.MaxVolumeParticipation;
        _tradable = spec.Instruments.Count;
        var all = spec.Instruments.ToList();
        _benchmarkIndex = all.FindIndex(i => i.Id == spec.Benchmark.Id);
        if (_benchmarkIndex < 0)
        {
            all.Add(spec.Benchmark);
            _benchmarkIndex = all.Count - 1;
        }

        AllInstruments = all;
        Portfolio = new PortfolioState(all, spec.InitialBalance, spec.AccountType, spec.Config.RiskSettings.MaxLeverage);
        _openOrders = all.Select(_ => new List<Order>()).ToArray();
        _fxRate = Enumerable.Repeat(1.0, all.Count).ToArray();
        _fxDay = Enumerable.Repeat(-1, all.Count).ToArray();
        _needsFx = all.Select(i => i.QuoteCurrency != spec.BaseCurrency).ToArray();
        _fillAtClose = spec.FillModel == FillModel.SameBarClose;
        _drawdownHalt = _risk.DrawdownHalt;
        _notifySliceEnd = strategy.GetType().GetMethod(nameof(Strategy.OnSliceEnd), [typeof(DateTime)])?.DeclaringType != typeof(Strategy);
        _lastClose = new double[all.Count];
        _sizer = new PositionSizer(spec.Sizing, _risk.PositionSizing);
        _atr = all.Select(_ => _sizer.UsesAtr ? new Atr(_sizer.AtrPeriod) : null).ToArray();
        _preTradeRisk = new PreTradeRisk(_risk.Limits, Portfolio, _openOrders, _lastClose, _fxRate, _tradable);
        _startDay = spec.Start.DayNumber;
        _drawdown = new DrawdownTracker(spec.InitialBalance, spec.Start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
        _lastEquity = spec.InitialBalance;
        strategy.Attach(this);
    }

    /// <summary>The instruments the strategy trades (the benchmark, when extra, is not among them).</summary>
    public IReadOnlyList<Instrument> Instruments => _spec.Instruments;
    /// <summary>The strategy's instruments, then the benchmark when it is not one of them.</summary>
    public IReadOnlyList<Instrument> AllInstruments { get; }
    public PortfolioState Portfolio { get; }
    public long CurrentTime { get; private set; }
    public bool IsWarmingUp { get; private set; }
    public long ProcessedPoints => _processed;

    private bool Silent => _processed < _options.SilentUntil;

    public EngineOutcome Run(CancellationToken cancellation = default)
    {
        var stopwatch = Stopwatch.StartNew();
        _strategy.OnStart();
        // Small runs beat at least 200 times, so progress can move in steps of 1% or less; with an unknown
        // count, beat often enough for a daily run of a few thousand bars (a beat costs a few nanoseconds).
        var heartbeat = _data.Count > 0
            ? (int)Math.Clamp(_data.Count / 200, 1, _options.HeartbeatInterval)
            : Math.Min(64, _options.HeartbeatInterval);
        var rented = ArrayPool<MarketData>.Shared.Rent(SliceBuffer);
        _slice = rented;
        try
        {
            ReadAll(heartbeat, cancellation);
        }
        finally
        {
            // No point of the buffer is read after the loop: none reaches the outcome, and a strategy sees each point
            // by reference during its own call only.
            _slice = [];
            ArrayPool<MarketData>.Shared.Return(rented);
        }

        if (_currentDay >= 0)
        {
            CloseDay();
        }

        _strategy.OnEnd();
        if (_equity.Count == 0 || _equity[^1].Time.Ticks != CurrentTime)
        {
            if (CurrentTime > 0)
            {
                _equity.Add(new EquityPoint(new DateTime(CurrentTime, DateTimeKind.Utc), _lastEquity, Portfolio.Cash, _drawdown.CurrentDrawdown));
            }
        }

        if (!Silent)
        {
            _observer?.OnHeartbeat(Progress());
        }

        stopwatch.Stop();
        return new EngineOutcome
        {
            Portfolio = Portfolio,
            Orders = _allOrders,
            Fills = _fills,
            EquityCurve = _equity,
            DailyEquity = _daily,
            BenchmarkDaily = _benchmarkDaily,
            Drawdown = _drawdown,
            ProcessedPoints = _processed,
            Exposure = _slices == 0 ? 0 : (double)_slicesInMarket / _slices,
            Cancelled = _cancelled,
            HaltedAt = _halted ? new DateTime(_haltedAt, DateTimeKind.Utc) : null,
            Elapsed = stopwatch.Elapsed,
            AllInstruments = AllInstruments,
            LastCloses = _lastClose,
        };
    }

    /// <summary>Reads every point into the slice buffer, handling each time slice once it is complete.</summary>
    private void ReadAll(int heartbeat, CancellationToken cancellation)
    {
        var untilBeat = heartbeat;
        while (!_cancelled)
        {
            var next = _sliceStart + _sliceCount;
            if (next == _slice.Length)
            {
                MakeRoomInSlice();
                next = _sliceCount;
            }

            // A batch of points goes straight into the buffer after the slice being gathered.
            var end = next + _data.Read(_slice.AsSpan(next));
            if (end == next)
            {
                break;
            }

            for (var i = next; i < end; i++)
            {
                if (_sliceCount > 0 && _slice[i].EndTime != _slice[_sliceStart].EndTime)
                {
                    ProcessSlice(_sliceStart, _sliceCount);
                    _sliceStart = i;
                    _sliceCount = 0;
                }

                _sliceCount++;
                _processed++;
                if (--untilBeat == 0)
                {
                    untilBeat = heartbeat;
                    if (cancellation.IsCancellationRequested)
                    {
                        _cancelled = true;
                        break;
                    }

                    if (!Silent)
                    {
                        _observer?.OnHeartbeat(Progress());
                    }
                }
            }
        }

        if (_sliceCount > 0 && !_cancelled)
        {
            ProcessSlice(_sliceStart, _sliceCount);
        }
    }

    public EngineProgress Progress() => new(
        _processed,
        _data.Count,
        CurrentTime,
        _currentDay,
        _lastEquity,
        Portfolio.Cash,
        Portfolio.UnrealizedPnl,
        _drawdown.CurrentDrawdown,
        Portfolio.Trades.Count);

    /// <summary>The buffer is full up to its end: moves the partial slice to the front, growing the buffer when the slice fills a quarter of it.</summary>
    private void MakeRoomInSlice()
    {
        var target = _sliceCount * 4 > _slice.Length ? new MarketData[_slice.Length * 2] : _slice;
        Array.Copy(_slice, _sliceStart, target, 0, _sliceCount);
        _slice = target;
        _sliceStart = 0;
    }

    private void ProcessSlice(int start, int count)
    {
        var end = start + count;
        CurrentTime = _slice[start].EndTime;
        var day = _slice[start].LocalDay;
        IsWarmingUp = day < _startDay;
        if (IsWarmingUp)
        {
            for (var i = start; i < end; i++)
            {
                ref readonly var point = ref _slice[i];
                _lastClose[point.Instrument] = point.Close;
                _atr[point.Instrument]?.Update(point.High, point.Low, point.Close);
                if (point.Instrument < _tradable)
                {
                    Deliver(point);
                }
            }

            return;
        }

        if (day != _currentDay)
        {
            if (_currentDay >= 0)
            {
                CloseDay();
            }

            _currentDay = day;
        }

        // (1) Orders against the new prices: reductions first, then the rest.
        if (AnyOpenOrders())
        {
            for (var i = start; i < end; i++)
            {
                MatchOrders(_slice[i], reducingOnly: true);
            }

            for (var i = start; i < end; i++)
            {
                MatchOrders(_slice[i], reducingOnly: false);
            }
        }

        // (2) Marks.
        for (var i = start; i < end; i++)
        {
            ref readonly var point = ref _slice[i];
            var instrument = point.Instrument;
            _lastClose[instrument] = point.Close;
            Portfolio.Mark(instrument, point, _needsFx[instrument] ? FxRate(instrument, point) : 1);
            _atr[instrument]?.Update(point.High, point.Low, point.Close);
        }

        // (3) The strategy.
        for (var i = start; i < end; i++)
        {
            if (_slice[i].Instrument < _tradable)
            {
                Deliver(_slice[i]);
            }
        }

        if (_notifySliceEnd)
        {
            _strategy.OnSliceEnd(new DateTime(CurrentTime, DateTimeKind.Utc));
        }

        // (4) Same-bar-close fills.
        if (_fillAtClose && AnyOpenOrders())
        {
            for (var i = start; i < end; i++)
            {
                FillNewMarketOrdersAtClose(_slice[i]);
            }
        }

        // (5) Equity once per slice.
        var equity = Portfolio.Equity;
        _lastEquity = equity;
        _drawdown.Update(CurrentTime, equity);
        _slices++;
        if (Portfolio.OpenPositionCount > 0)
        {
            _slicesInMarket++;
        }

        if ((_slices & (_equityStride - 1)) == 0)
        {
            RecordEquity(equity);
        }

        if (_drawdownHalt > 0 && !_halted)
        {
            CheckDrawdownHalt();
        }
    }

    private void Deliver(in MarketData point)
    {
        if (point.Kind == MarketDataKind.Bar)
        {
            _strategy.OnBar(point);
        }
        else
        {
            _strategy.OnTick(point);
        }
    }
}
