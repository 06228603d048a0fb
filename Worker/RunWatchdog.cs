using Backtesting.Engine.Core;
using Backtesting.Engine.Results;

namespace Backtesting.Worker;

/// <summary>
/// Guards a run against code that does not come back (a custom strategy's endless loop): after the overall
/// timeout, or when the engine has reported nothing for the stall timeout, it first asks the run to stop (the
/// engine checks its token at every heartbeat, so a slow but live run ends with partial results); if the run
/// is still stuck after a grace period, it reports and ends the process. Only a worker that owns its process
/// uses it: there is no way to stop a stuck thread short of ending the process.
/// </summary>
internal sealed class RunWatchdog : IBacktestObserver, IDisposable
{
    /// <summary>How long a stop request may take before the process is ended.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A wake-up this much later than asked means the process was frozen (a pause: SIGSTOP, a paused container) or
    /// starved: that time is not the run's, so both clocks skip it. Paused time never counts, as on the silo's side.
    /// </summary>
    private const long FrozenGapMilliseconds = 1000;
    private const int PollMilliseconds = 50;

    private volatile IBacktestObserver? _inner;
    private readonly TimeSpan? _timeout;
    private readonly TimeSpan? _stall;
    private readonly CancellationTokenSource _stop;
    private readonly Action<string> _onStuck;
    private volatile bool _disposed;
    private long _startedAt = Environment.TickCount64;
    private long _lastActivity = Environment.TickCount64;
    private volatile string? _reason;

    /// <param name="onStuck">Called with the reason when the run did not stop within <see cref="Grace"/>; it ends the process.</param>
    public RunWatchdog(TimeSpan? timeout, TimeSpan? stall, CancellationTokenSource stop, Action<string> onStuck)
    {
        _timeout = timeout;
        _stall = stall;
        _stop = stop;
        _onStuck = onStuck;
        if (timeout is not null || stall is not null)
        {
            new Thread(Watch) { IsBackground = true, Name = "run watchdog" }.Start();
        }
    }

    /// <summary>
    /// Starts watching for stalls (the timeout runs from construction) and forwards the engine's reports to
    /// <paramref name="inner"/>. Before this, compiling and validating take the time they take.
    /// </summary>
    public void Attach(IBacktestObserver inner)
    {
        Touch();
        _inner = inner;
    }

    /// <summary>Why the watchdog stopped the run, or null when it did not.</summary>
    public string? Reason => _reason;

    private void Watch()
    {
        long? stopRequestedAt = null;
        var lastWake = Environment.TickCount64;
        while (!_disposed)
        {
            Thread.Sleep(PollMilliseconds);
            var now = Environment.TickCount64;
            var frozen = now - lastWake - PollMilliseconds;
            lastWake = now;
            if (frozen > FrozenGapMilliseconds)
            {
                _startedAt += frozen;
                Interlocked.Add(ref _lastActivity, frozen);
                stopRequestedAt += frozen;
            }

            if (stopRequestedAt is null)
            {
                if (_timeout is { } timeout && now - _startedAt > timeout.TotalMilliseconds)
                {
                    _reason = $"the run exceeded its timeout of {timeout.TotalSeconds:0.###} s";
                }
                else if (_stall is { } stall && _inner is not null && now - Volatile.Read(ref _lastActivity) > stall.TotalMilliseconds)
                {
                    _reason = $"the run made no progress for {stall.TotalSeconds:0.###} s (is the strategy stuck in a loop?)";
                }

                if (_reason is not null)
                {
                    stopRequestedAt = now;
                    _stop.Cancel();
                }
            }
            else if (now - stopRequestedAt > Grace.TotalMilliseconds)
            {
                _onStuck($"{_reason}; the strategy did not return within {Grace.TotalSeconds:0} s of the stop request, so the run was ended");
                return;
            }
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    public void OnHeartbeat(in EngineProgress progress)
    {
        Touch();
        _inner?.OnHeartbeat(progress);
    }

    public void OnTradeClosed(Trade trade)
    {
        Touch();
        _inner?.OnTradeClosed(trade);
    }

    public void OnDailyEquity(DailyEquity point, double drawdown)
    {
        Touch();
        _inner?.OnDailyEquity(point, drawdown);
    }

    public void Dispose()
    {
        _disposed = true;
    }
}
