using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// What an ended backtest announces on its live stream, from its state alone: the error of a failed or timed-out one
/// (as its end published it), then the completion with the terminal state's word, its running time, its summary (or
/// zeros) and whether the results kept are partial. <see cref="RecoveryRule"/>'s settling of an end announces it again:
/// a silo that died between storing the end and announcing it would otherwise leave every subscriber waiting for a
/// completion that never comes. A repeated terminal event is harmless to a listener; a missing one is not.
/// </summary>
/// <param name="Error">The error event to publish first; null when the end published none.</param>
/// <param name="Complete">The completion (<c>backtest_complete</c>).</param>
public sealed record EndAnnouncement(BacktestErrorData? Error, BacktestCompleteData Complete)
{
    /// <summary>The summary a completion carries when the backtest kept no results.</summary>
    public static readonly CompletionSummary EmptySummary = new(0, 0, 0, 0);

    /// <summary>
    /// The announcement of a backtest in <paramref name="state"/>; null when there is nothing to announce (it has not ended,
    /// or it was deleted). A stopped, cancelled or timed-out backtest that kept results (it has a summary) kept partial ones.
    /// </summary>
    public static EndAnnouncement? Of(BacktestState state, bool deleted, TimeSpan runningTime, CompletionSummary? summary,
        BacktestErrorData? error, string resultsUrl) =>
        deleted || !Lifecycle.IsTerminal(state) ? null
        : new EndAnnouncement(
            state is BacktestState.Failed or BacktestState.TimedOut ? error : null,
            new BacktestCompleteData(Lifecycle.CompletionWord(state), runningTime.TotalSeconds, summary ?? EmptySummary, resultsUrl,
                Partial: state != BacktestState.Completed && summary is not null));
}
