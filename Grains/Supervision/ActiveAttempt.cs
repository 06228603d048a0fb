using System.Diagnostics;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Protocol;
using Backtesting.Grains.Runners;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// The attempt an activation supervises, from the moment it is started: its run (while it lasts), its lines and
/// watchdog, where it writes, its running time, and the end the silo asked for. The attempt's record (what is
/// persisted and shown) is <see cref="RunAttempt"/> in the grain state.
/// </summary>
public sealed class ActiveAttempt(AttemptLines lines, SiloWatchdog watchdog)
{
    /// <summary>Reads the attempt's lines against the contract (its own id only), counting what it drops.</summary>
    public AttemptLines Lines { get; } = lines;

    /// <summary>The silo's own stall and timeout watch over the attempt.</summary>
    public SiloWatchdog Watchdog { get; } = watchdog;

    /// <summary>The run, from its start until it has ended and been disposed.</summary>
    public IRunHandle? Run { get; set; }

    /// <summary>The loop reading the run's lines until it ends.</summary>
    public Task? Supervision { get; set; }

    /// <summary>The run's output folder (a reattached run keeps the one its container writes to).</summary>
    public string? Directory { get; set; }

    /// <summary>Measures running time since the run started or resumed; null while paused or ended.</summary>
    public Stopwatch? RunningSince { get; set; }

    /// <summary>The end the silo asked for (a cancel, a timeout, a reclaimed slot), or null.</summary>
    public BacktestState? StopAs { get; private set; }

    /// <summary>Why the silo asked for <see cref="StopAs"/>.</summary>
    public string? StopReason { get; private set; }

    public void RequestStop(BacktestState endAs, string reason)
    {
        StopAs = endAs;
        StopReason = reason;
    }

    /// <summary>The running time since <see cref="RunningSince"/> started, which stops counting.</summary>
    public TimeSpan TakeRunningTime()
    {
        var elapsed = RunningSince?.Elapsed ?? TimeSpan.Zero;
        RunningSince = null;
        return elapsed;
    }
}
