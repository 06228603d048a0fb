using System.Diagnostics;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Indicators;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Core;

/// <summary>Where the run is, for progress reports and checkpoints.</summary>
public readonly record struct EngineProgress(
    long ProcessedPoints,
    long TotalPoints,
    long CurrentTime,
    int CurrentDay,
    double Equity,
    double Cash,
    double UnrealizedPnl,
    double Drawdown,
    int TradesClosed);

/// <summary>Receives what the engine produces while it runs. Calls come on the engine's thread.</summary>
public interface IBacktestObserver
{
    /// <summary>Called every few thousand points and at the end; the observer decides what to report.</summary>
    void OnHeartbeat(in EngineProgress progress);

    void OnTradeClosed(Trade trade);

    /// <summary>Called when a trading day's end-of-day equity is known.</summary>
    void OnDailyEquity(DailyEquity point, double drawdown);
}

public sealed record EngineOptions
{
    /// <summary>Most per-bar equity points kept; beyond it the curve is thinned evenly (daily points are always kept).</summary>
    public int MaxEquityPoints { get; init; } = 10_000;
    /// <summary>Points between heartbeats (and cancellation checks).</summary>
    public int HeartbeatInterval { get; init; } = 4096;
    /// <summary>Run silently (no observer calls) until this many points were processed: resuming from a checkpoint.</summary>
    public long SilentUntil { get; init; }
}

/// <summary>
/// The event loop. Points from all instruments arrive merged in time order and are handled a time slice
/// at a time: (1) working orders are matched against each point, position-reducing orders first so a
/// rebalance frees cash before it spends it; (2) positions are marked at the close; (3) the strategy sees
/// each point and the slice's end; (4) with the same-bar-close fill model, new market orders fill at the
/// close; (5) equity is recorded once for the slice. Nothing here allocates per point on the fast path.
/// </summary>
public sealed class BacktestEngine
{
    private readonly BacktestSpec _spec;
    private readonly Strategy _strategy;
    private readonly IMarketDataSource _data;
    private readonly IFxRateProvider _fx;
    private readonly EngineOptions _options;
    private readonly IBacktestObserver? _observer;
    private readonly RiskSettings _risk;
    private readonly List<Order>[] _openOrders;
    private static readonly Predicate<Order> IsClosed = order => !order.IsOpen;
    private readonly ChunkedList<Order> _allOrders = new();
    private readonly List<Order> _scratch = new();
    private readonly ChunkedList<Fill> _fills = new();
    private readonly List<EquityPoint> _equity = new();
    private readonly List<DailyEquity> _daily = new();
    private readonly List<DailyEquity> _benchmarkDaily = new();
    private readonly double[] _fxRate;
    private readonly int[] _fxDay;
    // Per instrument: quoted in another currency than the base, so marks and fills need an exchange rate.
    private readonly bool[] _needsFx;
    private readonly bool _fillAtClose;
    private readonly double _drawdownHalt;
    // False when the strategy keeps the base class's empty OnSliceEnd: one virtual call per slice saved.
    private readonly bool _notifySliceEnd;
    private readonly Atr?[] _atr;
    private readonly double[] _lastClose;
    private readonly int _tradable;
    private readonly int _benchmarkIndex;
    private readonly int _startDay;
    private readonly double _participation;
    // The current slice is _slice[_sliceStart .. _sliceStart + _sliceCount): points are read straight into the
    // buffer and handled where they lie, so the 104-byte struct is not copied on its way through the loop.
    // Sized for a batch of reads that stays in the first-level cache.
    private MarketData[] _slice = new MarketData[256];
    private int _sliceStart;
    private int _sliceCount;
    private DrawdownTracker _drawdown;
    private long _processed;
    private long _slices;
    private long _slicesInMarket;
    private int _equityStride = 1;
    private int _currentDay = -1;
    private double _lastEquity;
    private double _benchmarkShares = double.NaN;
    private int _nextOrderId = 1;
    private bool _halted;
    private long _haltedAt;
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
        _atr = all.Select(_ => spec.Sizing == SizingMode.VolatilityTarget ? new Atr(_risk.PositionSizing.AtrPeriod) : null).ToArray();
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

    private bool AnyOpenOrders()
    {
        foreach (var list in _openOrders)
        {
            if (list.Count > 0)
            {
                return true;
            }
        }

        return false;
    }

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

    // ---- Orders -------------------------------------------------------------------------------------

    internal IReadOnlyList<Order> OpenOrders(int instrument) => _openOrders[instrument];

    /// <summary>A strategy's order: its tag is only a label, its role always <see cref="OrderRole.Strategy"/>.</summary>
    internal Order? Submit(int instrument, double quantity, OrderType type, double limitPrice, double stopPrice,
        TimeInForce timeInForce, string tag) =>
        Submit(instrument, quantity, type, limitPrice, stopPrice, timeInForce, tag, OrderRole.Strategy);

    private Order? Submit(int instrument, double quantity, OrderType type, double limitPrice, double stopPrice,
        TimeInForce timeInForce, string tag, OrderRole role)
    {
        if (IsWarmingUp || instrument < 0 || instrument >= _tradable || quantity == 0 || !double.IsFinite(quantity))
        {
            return null;
        }

        var order = new Order(_nextOrderId++, instrument, quantity, type, limitPrice, stopPrice, timeInForce, CurrentTime, tag, role);
        _allOrders.Add(order);
        var reason = _halted && role != OrderRole.DrawdownHalt ? "trading halted: drawdown limit reached" : PreTradeCheck(order);
        if (reason is not null)
        {
            Close(order, OrderStatus.Rejected, reason);
            return order;
        }

        _openOrders[instrument].Add(order);
        return order;
    }

    /// <summary>The risk limits that apply before an order is accepted.</summary>
    private string? PreTradeCheck(Order order)
    {
        if ((order.Type is OrderType.Limit or OrderType.StopLimit && !(order.LimitPrice > 0))
            || (order.Type is OrderType.Stop or OrderType.StopLimit && !(order.StopPrice > 0)))
        {
            return "limit and stop prices must be positive";
        }

        var position = Portfolio.Positions[order.Instrument];
        var pending = 0.0;
        foreach (var open in _openOrders[order.Instrument])
        {
            if (!open.IsProtective)
            {
                pending += open.RemainingQuantity;
            }
        }

        var after = position.Quantity + pending + order.Quantity;
        var increases = Math.Abs(after) > Math.Abs(position.Quantity + pending);
        if (!increases)
        {
            return null;
        }

        var limits = _risk.Limits;
        if (limits.MaxPositionQuantity > 0 && Math.Abs(after) > limits.MaxPositionQuantity + 1e-9)
        {
            return $"position limit: |{after:G}| exceeds maxPositionQuantity {limits.MaxPositionQuantity:G}";
        }

        var price = _lastClose[order.Instrument];
        if (limits.MaxPositionPercent > 0 && price > 0)
        {
            var value = Math.Abs(after * price * _fxRate[order.Instrument]);
            var cap = limits.MaxPositionPercent * Portfolio.Equity;
            if (value > cap + 1e-6)
            {
                return $"position limit: value {value:F2} exceeds maxPositionPercent {limits.MaxPositionPercent:G} of equity ({cap:F2})";
            }
        }

        if (limits.MaxOpenPositions > 0 && position.Quantity == 0 && pending == 0)
        {
            var holding = 0;
            for (var i = 0; i < _tradable; i++)
            {
                if (Portfolio.Positions[i].Quantity != 0 || HasPendingEntry(i))
                {
                    holding++;
                }
            }

            if (holding >= limits.MaxOpenPositions)
            {
                return $"position limit: already {holding} open positions (maxOpenPositions {limits.MaxOpenPositions})";
            }
        }

        return null;
    }

    private bool HasPendingEntry(int instrument)
    {
        foreach (var order in _openOrders[instrument])
        {
            if (!order.IsProtective)
            {
                return true;
            }
        }

        return false;
    }

    internal bool Cancel(Order order, string reason)
    {
        if (!order.IsOpen)
        {
            return false;
        }

        _openOrders[order.Instrument].Remove(order);
        Close(order, OrderStatus.Cancelled, reason);
        return true;
    }

    private void Close(Order order, OrderStatus status, string? reason)
    {
        order.Status = status;
        order.Reason = reason;
        order.ClosedAt = CurrentTime;
    }

    internal Order? Enter(int instrument, int direction, double weight, string tag)
    {
        var quantity = SizeFor(instrument, weight);
        if (quantity <= 0)
        {
            return RejectedSizing(instrument, direction, tag);
        }

        return Submit(instrument, direction * quantity, OrderType.Market, 0, 0, TimeInForce.Gtc, tag);
    }

    internal Order? Exit(int instrument, string tag)
    {
        CancelWorking(instrument, includeProtective: true, "replaced by exit");
        var quantity = Portfolio.Positions[instrument].Quantity;
        return quantity == 0 ? null : Submit(instrument, -quantity, OrderType.Market, 0, 0, TimeInForce.Gtc, tag);
    }

    internal Order? Target(int instrument, double weight, string tag)
    {
        CancelWorking(instrument, includeProtective: false, "replaced by rebalance");
        var target = weight == 0 ? 0 : Math.Sign(weight) * SizeFor(instrument, Math.Abs(weight));
        var delta = target - Portfolio.Positions[instrument].Quantity;
        var lot = LotSize(instrument);
        if (Math.Abs(delta) < lot - 1e-12)
        {
            return null;
        }

        return Submit(instrument, delta, OrderType.Market, 0, 0, TimeInForce.Gtc, tag);
    }

    private Order? RejectedSizing(int instrument, int direction, string tag)
    {
        if (IsWarmingUp)
        {
            return null;
        }

        var order = new Order(_nextOrderId++, instrument, direction, OrderType.Market, 0, 0, TimeInForce.Gtc, CurrentTime, tag, OrderRole.Strategy);
        _allOrders.Add(order);
        Close(order, OrderStatus.Rejected, "position sizing gives less than one lot");
        return order;
    }

    private void CancelWorking(int instrument, bool includeProtective, string reason)
    {
        var list = _openOrders[instrument];
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var order = list[i];
            if (includeProtective || !order.IsProtective)
            {
                list.RemoveAt(i);
                Close(order, OrderStatus.Cancelled, reason);
            }
        }
    }

    private double LotSize(int instrument)
    {
        var lot = AllInstruments[instrument].LotSize;
        return lot > 0 ? lot : 1;
    }

    /// <summary>The unsigned quantity the sizing rule gives, rounded down to whole lots.</summary>
    internal double SizeFor(int instrument, double weight)
    {
        var price = _lastClose[instrument];
        var fx = _fxRate[instrument];
        var sizing = _risk.PositionSizing;
        double raw;
        switch (_spec.Sizing)
        {
            case SizingMode.FixedQuantity:
                raw = sizing.Quantity * weight;
                break;
            case SizingMode.FixedNotional:
                raw = price > 0 ? sizing.Notional * weight / (price * fx) : 0;
                break;
            case SizingMode.PercentEquity:
                raw = price > 0 ? Portfolio.Equity * sizing.Percent * weight / (price * fx) : 0;
                break;
            default:
                var atr = _atr[instrument];
                raw = atr is { IsReady: true } && atr.Value > 0 ? Portfolio.Equity * sizing.RiskPercent * weight / (atr.Value * fx) : 0;
                break;
        }

        var lot = LotSize(instrument);
        return Math.Floor(raw / lot + 1e-9) * lot;
    }

    private void MatchOrders(in MarketData point, bool reducingOnly)
    {
        var list = _openOrders[point.Instrument];
        if (list.Count == 0)
        {
            return;
        }

        // Fills can cancel other orders (brackets, rejections), so walk a copy and prune afterwards.
        _scratch.Clear();
        _scratch.AddRange(list);
        OrderBracketPairs(point);
        foreach (var order in _scratch)
        {
            if (!order.IsOpen)
            {
                continue;
            }

            var position = Portfolio.Positions[point.Instrument].Quantity;
            var reduces = position != 0 && Math.Sign(order.Quantity) != Math.Sign(position);
            if (reduces != reducingOnly)
            {
                continue;
            }

            if (order.SessionDay < 0)
            {
                order.SessionDay = point.LocalDay;
            }
            else if (order.TimeInForce == TimeInForce.Day && point.LocalDay > order.SessionDay)
            {
                Close(order, OrderStatus.Expired, "DAY order expired at the end of its session");
                continue;
            }

            var decision = FillRules.Evaluate(order, point);
            if (decision.Fills)
            {
                Execute(order, point, decision);
            }
        }

        list.RemoveAll(IsClosed);
    }

    /// <summary>
    /// When one point reaches both sides of a bracket, the side that must act first comes first in the walk
    /// (<see cref="FillRules.PartnerFirst"/>: the side the point opened through, else the stop); its fill then cancels
    /// the other. Without a bracket the order of submission stands.
    /// </summary>
    private void OrderBracketPairs(in MarketData point)
    {
        for (var i = 0; i < _scratch.Count; i++)
        {
            if (_scratch[i].OcoPartner is not { IsOpen: true } partner)
            {
                continue;
            }

            var j = _scratch.IndexOf(partner, i + 1);
            if (j > i && FillRules.PartnerFirst(_scratch[i], partner, point))
            {
                (_scratch[i], _scratch[j]) = (partner, _scratch[i]);
            }
        }
    }

    private void FillNewMarketOrdersAtClose(in MarketData point)
    {
        var list = _openOrders[point.Instrument];
        if (list.Count == 0)
        {
            return;
        }

        var atClose = point;
        atClose.Open = atClose.High = atClose.Low = point.Close;
        atClose.Time = point.EndTime;
        if (point.Kind == MarketDataKind.QuoteTick)
        {
            atClose.Kind = MarketDataKind.TradeTick;
        }

        _scratch.Clear();
        _scratch.AddRange(list);
        foreach (var order in _scratch)
        {
            if (!order.IsOpen || order.Type != OrderType.Market || order.SubmittedAt != CurrentTime || order.FilledQuantity != 0)
            {
                continue;
            }

            order.SessionDay = point.LocalDay;
            Execute(order, atClose, new FillDecision(true, point.Close, true));
        }

        list.RemoveAll(IsClosed);
    }

    /// <summary>Fills (part of) an order, or closes it when the account refuses; the caller prunes closed orders.</summary>
    private void Execute(Order order, in MarketData point, FillDecision decision)
    {
        var instrument = order.Instrument;
        var remaining = order.RemainingQuantity;
        var quantity = remaining;
        var lot = LotSize(instrument);
        if (_participation > 0 && point.Volume > 0)
        {
            var cap = Math.Floor(_participation * point.Volume / lot + 1e-9) * lot;
            if (cap < lot)
            {
                return;
            }

            quantity = Math.Sign(remaining) * Math.Min(Math.Abs(remaining), cap);
        }

        var price = decision.IsMarketable
            ? _spec.Slippage.Apply(decision.Price, quantity, point.Volume, AllInstruments[instrument].TickSize)
            : decision.Price;
        var fx = FxRate(instrument, point);
        var filledAfter = order.FilledQuantity + quantity;
        var valueAfter = order.AveragePrice * order.FilledQuantity + price * quantity;
        var commissionQuote = _spec.Commission.ForOrder(filledAfter, valueAfter) - order.Commission;
        var commissionBase = commissionQuote * fx;

        var refusal = Portfolio.CheckBuyingPower(instrument, quantity, price, fx, commissionBase);
        if (refusal is not null)
        {
            Close(order, order.FilledQuantity == 0 ? OrderStatus.Rejected : OrderStatus.Cancelled, refusal);
            return;
        }

        var before = Portfolio.Positions[instrument].Quantity;
        // A fill against a bar happens during it (at its open or at a level touched inside it): stamped at the
        // bar's start. Same-bar-close fills come with Time set to the close.
        var trade = Portfolio.ApplyFill(instrument, point.Time, quantity, price, fx, commissionBase);
        order.AveragePrice = valueAfter / filledAfter;
        order.FilledQuantity = filledAfter;
        order.Commission += commissionQuote;
        order.Status = Math.Abs(order.RemainingQuantity) < 1e-12 ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
        if (order.Status == OrderStatus.Filled)
        {
            order.ClosedAt = CurrentTime;
        }

        var fill = new Fill(order.Id, instrument, point.Time, quantity, price, commissionBase, price - decision.Price, fx);
        _fills.Add(fill);
        if (trade is not null && !Silent)
        {
            _observer?.OnTradeClosed(trade);
        }

        if (order.OcoPartner is { } partner && order.Status == OrderStatus.Filled)
        {
            Cancel(partner, "the other side of the bracket filled");
        }

        SyncProtectiveOrders(instrument, before);
        _strategy.OnFill(fill);
    }

    /// <summary>Keeps the stop-loss / take-profit bracket in line with the position after a fill.</summary>
    private void SyncProtectiveOrders(int instrument, double before)
    {
        var stops = _risk.Stops;
        if (stops.StopLossPercent <= 0 && stops.TakeProfitPercent <= 0)
        {
            return;
        }

        var position = Portfolio.Positions[instrument];
        if (position.Quantity == before)
        {
            return;
        }

        var list = _openOrders[instrument];
        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (list[i].IsProtective)
            {
                var order = list[i];
                list.RemoveAt(i);
                if (order.IsOpen)
                {
                    Close(order, OrderStatus.Cancelled, "bracket replaced after the position changed");
                }
            }
        }

        if (position.Quantity == 0)
        {
            return;
        }

        var direction = Math.Sign(position.Quantity);
        var average = position.AveragePrice;
        Order? stopLoss = null;
        Order? takeProfit = null;
        if (stops.StopLossPercent > 0)
        {
            stopLoss = new Order(_nextOrderId++, instrument, -position.Quantity, OrderType.Stop, 0,
                RoundToTick(average * (1 - direction * stops.StopLossPercent), instrument), TimeInForce.Gtc, CurrentTime, OrderRole.StopLoss.Tag(), OrderRole.StopLoss);
        }

        if (stops.TakeProfitPercent > 0)
        {
            takeProfit = new Order(_nextOrderId++, instrument, -position.Quantity, OrderType.Limit,
                RoundToTick(average * (1 + direction * stops.TakeProfitPercent), instrument), 0, TimeInForce.Gtc, CurrentTime, OrderRole.TakeProfit.Tag(), OrderRole.TakeProfit);
        }

        if (stopLoss is not null && takeProfit is not null)
        {
            stopLoss.OcoPartner = takeProfit;
            takeProfit.OcoPartner = stopLoss;
        }

        foreach (var order in new[] { stopLoss, takeProfit })
        {
            if (order is not null)
            {
                // The bracket acts from the next point of the instrument, never on the bar that opened it.
                order.SessionDay = -1;
                _allOrders.Add(order);
                list.Add(order);
            }
        }
    }

    /// <summary>Protective prices sit on the instrument's tick grid (decimal arithmetic avoids 110.00000000000001).</summary>
    private double RoundToTick(double price, int instrument)
    {
        var tick = (decimal)AllInstruments[instrument].TickSize;
        return tick > 0 ? (double)(Math.Round((decimal)price / tick, MidpointRounding.AwayFromZero) * tick) : price;
    }

    private void CheckDrawdownHalt()
    {
        var limit = _drawdownHalt;
        if (_halted || limit <= 0 || _drawdown.CurrentDrawdown > -limit)
        {
            return;
        }

        _halted = true;
        _haltedAt = CurrentTime;
        for (var i = 0; i < _tradable; i++)
        {
            CancelWorking(i, includeProtective: true, "trading halted: drawdown limit reached");
            var quantity = Portfolio.Positions[i].Quantity;
            if (quantity != 0)
            {
                Submit(i, -quantity, OrderType.Market, 0, 0, TimeInForce.Gtc, OrderRole.DrawdownHalt.Tag(), OrderRole.DrawdownHalt);
            }
        }
    }
}

/// <summary>What a run produced, before metrics and packaging.</summary>
public sealed record EngineOutcome
{
    public required PortfolioState Portfolio { get; init; }
    public required IReadOnlyList<Order> Orders { get; init; }
    public required IReadOnlyList<Fill> Fills { get; init; }
    public required IReadOnlyList<EquityPoint> EquityCurve { get; init; }
    public required IReadOnlyList<DailyEquity> DailyEquity { get; init; }
    public required IReadOnlyList<DailyEquity> BenchmarkDaily { get; init; }
    public required DrawdownTracker Drawdown { get; init; }
    public required long ProcessedPoints { get; init; }
    public required double Exposure { get; init; }
    public required bool Cancelled { get; init; }
    public required DateTime? HaltedAt { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public required IReadOnlyList<Instrument> AllInstruments { get; init; }
    public required double[] LastCloses { get; init; }
}
