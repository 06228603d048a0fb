using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.Persistence;

/// <summary>
/// A backtest's status history, kept in its grain state: one entry per distinct (state, detail) pair. A change made again
/// (a run restarted after every kill of its silo moves to Starting with the same detail, then to Running, each time) is
/// not appended: the earlier entry counts it (<see cref="StateChange.Times"/>), keeps the first time and records the last
/// (<see cref="StateChange.LastAt"/>), and moves to the end, so the history stays in the order the changes were last made
/// and its last entry is the current state. The state, written on every move, then grows with the distinct changes, not
/// with the retries. Entries repeated in a history stored before repeats were counted are merged by their next repeat. A
/// terminal change is never taken for a repeat (the lifecycle allows one; a second would be a fault to see, not to count).
/// </summary>
public static class StatusHistory
{
    /// <summary>Records the change to <paramref name="state"/> at <paramref name="at"/>, as a new entry or a repeat of one.</summary>
    public static void Add(List<StateChange> history, BacktestState state, DateTime at, string? detail)
    {
        ArgumentNullException.ThrowIfNull(history);
        var same = history.FindAll(h => h.State == state && string.Equals(h.Detail, detail, StringComparison.Ordinal));
        if (same.Count == 0 || Lifecycle.IsTerminal(state))
        {
            history.Add(new StateChange(state, at, detail));
            return;
        }

        history.RemoveAll(h => h.State == state && string.Equals(h.Detail, detail, StringComparison.Ordinal));
        history.Add(same[0] with { Repeats = same.Sum(h => h.Times), RepeatedAt = at });
    }
}
