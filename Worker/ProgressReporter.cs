using System.Diagnostics;
using Backtesting.Engine.Core;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;

namespace Backtesting.Worker;

/// <summary>
/// Turns engine callbacks into the JSON lines of the protocol: progress at least every 1% or every second
/// and at most about ten a second, every closed trade, every end-of-day equity point. Also writes the
/// checkpoint at its interval.
/// </summary>
/// <remarks>
/// Trades and equity points go out in batches (a <c>backtest_trade</c> line carries <c>trades</c>, a
/// <c>backtest_equity</c> line columns of <c>dates</c>, <c>equity</c> and <c>drawdown</c>): a fast run produces thousands of them in milliseconds, and one
/// message each costs every layer after the worker (grain, stream, API, each subscriber) per message. A batch is
/// written once its first item has waited <see cref="LiveBatchAge"/> (checked at each engine heartbeat), when it
/// holds <see cref="LiveBatchSize"/> items, before any other line, and before a checkpoint, so a resumed run never
/// leaves out what came before its checkpoint.
/// </remarks>
public sealed class ProgressReporter : IBacktestObserver
{
    private static readonly TimeSpan MinGap = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxGap = TimeSpan.FromSeconds(1);
    /// <summary>Longest a trade or equity point waits in the worker before its line is written.</summary>
    public static readonly TimeSpan LiveBatchAge = TimeSpan.FromMilliseconds(25);
    /// <summary>Most trades or equity points in one line.</summary>
    public const int LiveBatchSize = 500;

    private readonly TextWriter _out;
    private readonly string _backtestId;
    private readonly int _startDay;
    private readonly int _endDay;
    private readonly ResourceSampler _resources;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Action<EngineProgress>? _checkpoint;
    private readonly TimeSpan _checkpointInterval;
    private TimeSpan _lastEmit = TimeSpan.FromHours(-1);
    private DateTime _lastEmitStamp = DateTime.MinValue;
    private TimeSpan _lastCheckpoint;
    private double _lastPercent = -1;
    private readonly long _processedAtStart;
    private bool _verifyPending;
    private bool _started;
    private readonly List<Trade> _trades = [];
    private readonly List<EquityUpdateData> _equity = [];
    private TimeSpan _oldestLive;

    /// <param name="resumedAt">Points replayed silently before this process reports (0 unless resuming).</param>
    /// <param name="resources">What the progress lines' performance figures measure; the whole process by default.</param>
    public ProgressReporter(TextWriter output, string backtestId, DateOnly start, DateOnly end,
        Action<EngineProgress>? checkpoint, TimeSpan checkpointInterval, long resumedAt = 0, ResourceSampler? resources = null)
    {
        _resources = resources ?? ResourceSampler.ForProcess();
        _processedAtStart = resumedAt;
        _out = output;
        _backtestId = backtestId;
        _startDay = start.DayNumber;
        _endDay = end.DayNumber;
        _checkpoint = checkpoint;
        _checkpointInterval = checkpointInterval;
    }

    /// <summary>Called once with the first live heartbeat after a resume, to verify the checkpoint.</summary>
    public Action<EngineProgress>? OnFirstLiveHeartbeat { get; set; }

    public TextWriter Output => _out;

    /// <summary>The latest heartbeat, to say where a failed run stopped.</summary>
    public EngineProgress? LastProgress { get; private set; }

    public void OnHeartbeat(in EngineProgress progress)
    {
        LastProgress = progress;
        if (!_started)
        {
            _started = true;
            _verifyPending = OnFirstLiveHeartbeat is not null;
        }

        if (_verifyPending)
        {
            _verifyPending = false;
            OnFirstLiveHeartbeat!(progress);
        }

        var now = _clock.Elapsed;
        if (_trades.Count + _equity.Count > 0 && now - _oldestLive >= LiveBatchAge)
        {
            FlushLive();
        }

        var percent = Percent(progress);
        var sinceEmit = now - _lastEmit;
        if ((Math.Floor(percent) > Math.Floor(_lastPercent) && sinceEmit >= MinGap) || sinceEmit >= MaxGap)
        {
            // Pending trades and points go first, as before any line. The line's timestamp is taken after that, and
            // the minimum gap holds on the timestamps too: clients see at most ten progress lines a second by the
            // times the lines carry, however long a flush took. Held back here, the line comes at the next heartbeat.
            FlushLive();
            var stamp = DateTime.UtcNow;
            if (stamp - _lastEmitStamp >= MinGap || sinceEmit >= MaxGap)
            {
                EmitProgress(progress, percent, now, stamp);
            }
        }

        if (_checkpoint is not null && now - _lastCheckpoint >= _checkpointInterval)
        {
            _lastCheckpoint = now;
            FlushLive();
            _checkpoint(progress);
        }
    }

    /// <summary>Sends the 100% line unless the engine's last heartbeat already did.</summary>
    public void EmitFinalProgress(in EngineProgress progress)
    {
        if (_lastPercent < 100)
        {
            FlushLive();
            EmitProgress(progress, 100, _clock.Elapsed, DateTime.UtcNow);
        }
    }

    private double Percent(in EngineProgress progress)
    {
        if (progress.TotalPoints > 0)
        {
            return Math.Min(100, 100.0 * progress.ProcessedPoints / progress.TotalPoints);
        }

        if (progress.CurrentDay < 0)
        {
            return 0;
        }

        var span = Math.Max(1, _endDay - _startDay + 1);
        return Math.Clamp(100.0 * (progress.CurrentDay - _startDay + 1) / span, 0, 100);
    }

    private void EmitProgress(in EngineProgress progress, double percent, TimeSpan now, DateTime stamp)
    {
        _lastEmit = now;
        _lastEmitStamp = stamp;
        _lastPercent = percent;
        var seconds = Math.Max(1e-9, now.TotalSeconds);
        var processedHere = progress.ProcessedPoints - _processedAtStart;
        var rate = processedHere / seconds;
        var remaining = percent > 0 && percent < 100 ? seconds * (100 - percent) / percent : 0;
        var total = progress.TotalPoints > 0 ? progress.TotalPoints
            : percent > 0 ? (long)Math.Round(progress.ProcessedPoints * 100 / percent) : 0;
        var date = progress.CurrentTime > 0 ? new DateTime(progress.CurrentTime, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ssZ") : "";
        var data = new BacktestProgressData(
            new ProgressInfo(Math.Round(percent, 2), date, progress.ProcessedPoints, total, Math.Round(remaining, 2), Math.Round(rate)),
            new StatisticsInfo(progress.TradesClosed, progress.Equity, progress.UnrealizedPnl, progress.Drawdown),
            _resources.Sample());
        _out.WriteLine(ProtocolLines.Progress(_backtestId, stamp, data)); // callers flushed pending trades and points first
        _out.Flush();
    }

    public void OnTradeClosed(Trade trade)
    {
        StartLiveBatch();
        _trades.Add(trade);
        if (_trades.Count >= LiveBatchSize)
        {
            FlushLive();
        }
    }

    public void OnDailyEquity(DailyEquity point, double drawdown)
    {
        StartLiveBatch();
        // Live points are for display: cents and a millionth of drawdown. Every live byte goes to every subscriber,
        // and full doubles made these points 35% longer; results.json keeps the exact values.
        _equity.Add(new EquityUpdateData(point.Date.ToString("yyyy-MM-dd"), Math.Round(point.Equity, 2), Math.Round(drawdown, 6)));
        if (_equity.Count >= LiveBatchSize)
        {
            FlushLive();
        }
    }

    private void StartLiveBatch()
    {
        if (_trades.Count + _equity.Count == 0)
        {
            _oldestLive = _clock.Elapsed;
        }
    }

    /// <summary>Writes the trades and equity points waiting for their batch, trades first (a trade closes before its day ends).</summary>
    public void FlushLive()
    {
        if (_trades.Count > 0)
        {
            _out.WriteLine(ProtocolLines.Trade(_backtestId, DateTime.UtcNow, _trades));
            _trades.Clear();
        }

        if (_equity.Count > 0)
        {
            _out.WriteLine(ProtocolLines.Equity(_backtestId, DateTime.UtcNow, EquityBatchData.Of(_equity)));
            _equity.Clear();
        }

        _out.Flush();
    }

    /// <summary>Writes the <c>--timings</c> line; trades and equity points still waiting go out first, as before any line.</summary>
    public void WriteTimings(BacktestTimingsData timings)
    {
        FlushPending();
        _out.WriteLine(ProtocolLines.Timings(_backtestId, DateTime.UtcNow, timings));
    }

    /// <summary>Writes the completion line; trades and equity points still waiting go out first, as before any line.</summary>
    public void WriteComplete(BacktestCompleteData completion)
    {
        FlushPending();
        _out.WriteLine(ProtocolLines.Complete(_backtestId, DateTime.UtcNow, completion));
    }

    /// <summary>Trades and equity points still waiting go out before another line, so lines stay in the order of events.</summary>
    private void FlushPending()
    {
        if (_trades.Count + _equity.Count > 0)
        {
            FlushLive();
        }
    }

    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;
}
