using Backtesting.Engine.Protocol;

namespace Backtesting.Grains.Interfaces;

/// <summary>
/// The lifecycle of <see cref="BacktestState"/>: the legal moves between states, which states are terminal and active,
/// and each state's word (<see cref="LifecycleWords"/>). The one place that decides them, beside the states, so the
/// grains, the API and every client of the contracts read the same rules.
/// </summary>
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

    /// <summary>Completed, Cancelled, Failed or TimedOut: the backtest never moves again (<see cref="LifecycleWords.Terminal"/>).</summary>
    public static bool IsTerminal(BacktestState state) => LifecycleWords.IsTerminal(Word(state));

    /// <summary>A run of the worker exists for the backtest, or should.</summary>
    public static bool IsActive(BacktestState state) =>
        state is BacktestState.Starting or BacktestState.Running or BacktestState.Paused;

    /// <summary>The state's word: stored in the backtests table and shown to clients (the seed's lower-case words).</summary>
    public static string Word(BacktestState state) => state switch
    {
        BacktestState.Created => LifecycleWords.Created,
        BacktestState.Queued => LifecycleWords.Queued,
        BacktestState.Starting => LifecycleWords.Starting,
        BacktestState.Running => LifecycleWords.Running,
        BacktestState.Paused => LifecycleWords.Paused,
        BacktestState.Completed => LifecycleWords.Completed,
        BacktestState.Cancelled => LifecycleWords.Cancelled,
        BacktestState.Failed => LifecycleWords.Failed,
        BacktestState.TimedOut => LifecycleWords.TimedOut,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a backtest state"),
    };

    /// <summary>
    /// The status word of the <c>backtest_complete</c> message that ends a backtest in this terminal state: a run
    /// that timed out was stopped with partial results, as a cancelled one is, so both end as cancelled.
    /// </summary>
    public static string CompletionWord(BacktestState terminal) => terminal switch
    {
        BacktestState.Completed => CompletionStatus.Completed,
        BacktestState.Failed => CompletionStatus.Failed,
        BacktestState.Cancelled or BacktestState.TimedOut => CompletionStatus.Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(terminal), terminal, "not a terminal state"),
    };
}
