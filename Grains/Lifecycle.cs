using Backtesting.Storage;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains;

/// <summary>The legal moves between backtest states: the one place that decides them.</summary>
public static class Lifecycle
{
    private static readonly Dictionary<BacktestState, BacktestState[]> Moves = new()
    {
        [BacktestState.Created] = [BacktestState.Queued, BacktestState.Completed, BacktestState.Cancelled],
        [BacktestState.Queued] = [BacktestState.Starting, BacktestState.Cancelled],
        // Starting -> Starting: a new attempt after a crash before the first progress line.
        [BacktestState.Starting] = [BacktestState.Running, BacktestState.Starting, BacktestState.Queued, BacktestState.Completed,
            BacktestState.Failed, BacktestState.Cancelled, BacktestState.TimedOut],
        [BacktestState.Running] = [BacktestState.Paused, BacktestState.Starting, BacktestState.Queued, BacktestState.Completed,
            BacktestState.Failed, BacktestState.Cancelled, BacktestState.TimedOut],
        [BacktestState.Paused] = [BacktestState.Running, BacktestState.Starting, BacktestState.Queued, BacktestState.Cancelled,
            BacktestState.Failed, BacktestState.TimedOut, BacktestState.Completed],
        [BacktestState.Completed] = [],
        [BacktestState.Cancelled] = [],
        [BacktestState.Failed] = [],
        [BacktestState.TimedOut] = [],
    };

    public static bool CanMove(BacktestState from, BacktestState to) => Moves[from].Contains(to);

    public static bool IsTerminal(BacktestState state) => Moves[state].Length == 0;

    public static bool IsActive(BacktestState state) =>
        state is BacktestState.Starting or BacktestState.Running or BacktestState.Paused;

    /// <summary>The status word stored in the backtests table (the seed's lower-case words).</summary>
    public static string StoredName(BacktestState state) => state switch
    {
        BacktestState.Created => StoredStatus.Created,
        BacktestState.Queued => StoredStatus.Queued,
        BacktestState.Starting => StoredStatus.Starting,
        BacktestState.Running => StoredStatus.Running,
        BacktestState.Paused => StoredStatus.Paused,
        BacktestState.Completed => StoredStatus.Completed,
        BacktestState.Cancelled => StoredStatus.Cancelled,
        BacktestState.Failed => StoredStatus.Failed,
        _ => StoredStatus.TimedOut,
    };
}
