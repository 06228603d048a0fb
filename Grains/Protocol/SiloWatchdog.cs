namespace Backtesting.Grains.Protocol;

/// <summary>
/// The silo's own watch over one attempt, independent of the worker's: the run ends when its running time passes
/// its timeout, or when no protocol line arrived for the stall limit while it was starting or running (the worker
/// prints progress at least once a second while its engine moves, so silence means a strategy stuck in a loop, or a
/// worker that never started). Paused time counts for neither. Times are read from the caller's monotonic clock,
/// so the rule is tested without waiting.
/// </summary>
/// <param name="stallLimit">Backtesting:StallTimeout.</param>
/// <param name="startAllowance">Extra time before the first line (the worker compiles a custom strategy first).</param>
public sealed class SiloWatchdog(TimeSpan stallLimit, TimeSpan startAllowance)
{
    private TimeSpan _lastSign;
    private bool _sawLine;
    private bool _paused;

    /// <summary>The attempt started at <paramref name="now"/>.</summary>
    public void Started(TimeSpan now)
    {
        _lastSign = now;
        _sawLine = false;
        _paused = false;
    }

    /// <summary>A protocol line arrived (any accepted or dropped line: the worker is alive).</summary>
    public void Line(TimeSpan now)
    {
        _lastSign = now;
        _sawLine = true;
    }

    public void Paused() => _paused = true;

    /// <summary>Resumed at <paramref name="now"/>: the stall clock starts again.</summary>
    public void Resumed(TimeSpan now)
    {
        _paused = false;
        _lastSign = now;
    }

    /// <summary>Why the run must be stopped now, or null while it may go on.</summary>
    /// <param name="runningTime">The run's running time so far (all attempts, paused time excluded).</param>
    /// <param name="timeout">Its limit (<see cref="BacktestClusterOptions.TimeoutFor"/>).</param>
    public string? Check(TimeSpan now, TimeSpan runningTime, TimeSpan timeout)
    {
        if (_paused)
        {
            return null;
        }

        if (runningTime > timeout)
        {
            return $"timed out after {timeout.TotalMinutes:G} minutes of running time";
        }

        var allowed = _sawLine ? stallLimit : stallLimit + startAllowance;
        var silent = now - _lastSign;
        return silent > allowed
            ? $"stalled: no progress from the worker for {silent.TotalSeconds:0} s (limit {allowed.TotalSeconds:G} s, Backtesting:StallTimeout); is the strategy stuck in a loop?"
            : null;
    }
}
