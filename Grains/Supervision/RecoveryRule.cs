using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.Supervision;

/// <summary>What one recovery of a backtest does (<see cref="RecoveryRule.Next"/>).</summary>
public enum RecoveryStep
{
    /// <summary>Nothing to recover: a run is attached here, or the backtest was never queued.</summary>
    None,

    /// <summary>
    /// It ended (or was deleted): store its state and row again as the grain holds them (a terminal move whose write broke
    /// off), give its slot back (a release lost with the queue's silo) and drop the recovery reminder. Every step is
    /// harmless when it was done already.
    /// </summary>
    SettleEnd,

    /// <summary>Paused and its frozen run lost: it stays paused and keeps its slot; a resume starts it from its checkpoint.</summary>
    KeepPausedSlot,

    /// <summary>Starting or running with no run attached here: start it again from its checkpoint (in its slot, or queued again).</summary>
    RestartRun,

    /// <summary>Waiting: ask the queue for a slot again (harmless when it waits already; a lost entry or grant comes back).</summary>
    AskForSlot,
}

/// <summary>
/// The recovery of a backtest: what its recovery reminder, the recovery of a dead silo's runs and the quick retries after an
/// interruption (the database or a silo away, the runner's daemon restarting) do, from its state alone. An ended backtest
/// settles its end: a terminal state always gives its slot back, also when the release at its end was lost. The quick
/// retries go on until one step has held and the backtest no longer needs a run it has not got (<see cref="Settled"/>).
/// </summary>
public static class RecoveryRule
{
    public static RecoveryStep Next(BacktestState state, bool deleted, bool hasRun) =>
        deleted || Lifecycle.IsTerminal(state) ? RecoveryStep.SettleEnd
        : hasRun ? RecoveryStep.None
        : state switch
        {
            BacktestState.Paused => RecoveryStep.KeepPausedSlot,
            BacktestState.Starting or BacktestState.Running => RecoveryStep.RestartRun,
            BacktestState.Queued => RecoveryStep.AskForSlot,
            _ => RecoveryStep.None,
        };

    /// <summary>
    /// Whether the quick retries may stop after a step that held: anything but a backtest that should be starting or running
    /// and has no run (its start was interrupted again, and is tried again shortly).
    /// </summary>
    public static bool Settled(BacktestState state, bool deleted, bool hasRun) =>
        deleted || hasRun || state is not (BacktestState.Starting or BacktestState.Running);
}
