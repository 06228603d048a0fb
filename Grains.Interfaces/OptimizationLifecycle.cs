using Backtesting.Engine.Protocol;

namespace Backtesting.Grains.Interfaces;

/// <summary>
/// The lifecycle of <see cref="OptimizationState"/>: the legal moves, which states are terminal, and each state's word.
/// A job's words are a backtest's (<see cref="LifecycleWords"/>): the same states mean the same things.
/// </summary>
/// <remarks>
/// Queued: submitted, no trial has started yet. Running: batches run or wait for a slot. Paused: running batches
/// finished their current trial and stopped; nothing new is queued until resumed (to Running once a trial has run,
/// else to Queued).
/// </remarks>
public static class OptimizationLifecycle
{
    private static readonly Dictionary<OptimizationState, OptimizationState[]> Moves = new()
    {
        [OptimizationState.Created] = [OptimizationState.Queued, OptimizationState.Cancelled, OptimizationState.Failed],
        [OptimizationState.Queued] = [OptimizationState.Running, OptimizationState.Paused, OptimizationState.Completed,
            OptimizationState.Cancelled, OptimizationState.Failed],
        [OptimizationState.Running] = [OptimizationState.Paused, OptimizationState.Completed, OptimizationState.Cancelled,
            OptimizationState.Failed],
        [OptimizationState.Paused] = [OptimizationState.Queued, OptimizationState.Running, OptimizationState.Cancelled,
            OptimizationState.Failed],
        [OptimizationState.Completed] = [],
        [OptimizationState.Cancelled] = [],
        [OptimizationState.Failed] = [],
    };

    public static bool CanMove(OptimizationState from, OptimizationState to) => Moves[from].Contains(to);

    /// <summary>Completed, Cancelled or Failed: the job never moves again.</summary>
    public static bool IsTerminal(OptimizationState state) => LifecycleWords.IsTerminal(Word(state));

    /// <summary>The state's word: stored in the optimizations table and shown to clients.</summary>
    public static string Word(OptimizationState state) => state switch
    {
        OptimizationState.Created => LifecycleWords.Created,
        OptimizationState.Queued => LifecycleWords.Queued,
        OptimizationState.Running => LifecycleWords.Running,
        OptimizationState.Paused => LifecycleWords.Paused,
        OptimizationState.Completed => LifecycleWords.Completed,
        OptimizationState.Cancelled => LifecycleWords.Cancelled,
        OptimizationState.Failed => LifecycleWords.Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not an optimization state"),
    };

    /// <summary>The state a word names (a status filter's word); null when no state of a job has it.</summary>
    public static OptimizationState? FromWord(string word) =>
        Enum.GetValues<OptimizationState>().Cast<OptimizationState?>().FirstOrDefault(s => Word(s!.Value) == word);
}
