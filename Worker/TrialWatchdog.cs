namespace Backtesting.Worker;

/// <summary>
/// Guards an optimization batch against a custom strategy whose trial does not come back (an endless loop): when one
/// trial has run longer than its limit, <c>onTimeout</c> is called with that trial's number on the watchdog's thread.
/// A thread stuck in a strategy cannot be stopped, so the caller records the trial as failed and ends the process;
/// the batch's next run goes on from its checkpoint, past that trial. Time the process spent frozen (a paused
/// container, SIGSTOP) does not count, as for <see cref="RunWatchdog"/>.
/// </summary>
internal sealed class TrialWatchdog : IDisposable
{
    private const int PollMilliseconds = 50;
    private const long FrozenGapMilliseconds = 1000;

    private readonly TimeSpan _limit;
    private readonly Action<int> _onTimeout;
    private readonly object _gate = new();
    private int? _trial;
    private long _startedAt;
    private volatile bool _disposed;

    public TrialWatchdog(TimeSpan limit, Action<int> onTimeout)
    {
        _limit = limit;
        _onTimeout = onTimeout;
        new Thread(Watch) { IsBackground = true, Name = "trial watchdog" }.Start();
    }

    /// <summary>The trial started now.</summary>
    public void Begin(int trial)
    {
        lock (_gate)
        {
            _trial = trial;
            _startedAt = Environment.TickCount64;
        }
    }

    /// <summary>The trial ended (whatever its outcome); call it before recording the trial.</summary>
    public void End()
    {
        lock (_gate)
        {
            _trial = null;
        }
    }

    private void Watch()
    {
        var lastWake = Environment.TickCount64;
        while (!_disposed)
        {
            Thread.Sleep(PollMilliseconds);
            var now = Environment.TickCount64;
            var frozen = now - lastWake - PollMilliseconds;
            lastWake = now;
            int? late = null;
            lock (_gate)
            {
                if (frozen > FrozenGapMilliseconds)
                {
                    _startedAt += frozen;
                }

                if (_trial is { } trial && now - _startedAt > _limit.TotalMilliseconds)
                {
                    late = trial;
                }
            }

            if (late is { } number)
            {
                _onTimeout(number);
                return;
            }
        }
    }

    public void Dispose() => _disposed = true;
}
