namespace Backtesting.Engine.Protocol;

/// <summary>
/// The words of a backtest's lifecycle states: stored in the backtests table, sent to clients and used in the
/// worker's completion status. Here, in the lowest project, because every user needs them: storage (which sees only
/// the engine), the worker, the grains and the API. The states themselves and their legal moves are
/// <c>Lifecycle</c> in the grain contracts, which maps each state to its word here.
/// </summary>
public static class LifecycleWords
{
    public const string Created = "created";
    public const string Queued = "queued";
    public const string Starting = "starting";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";

    /// <summary>Every state's word, in the lifecycle's order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Created, Queued, Starting, Running, Paused, Completed, Cancelled, Failed, TimedOut];

    /// <summary>The words of the terminal states: a backtest in one of them never moves again.</summary>
    public static IReadOnlyList<string> Terminal { get; } = [Completed, Cancelled, Failed, TimedOut];

    public static bool IsTerminal(string word) => word is Completed or Cancelled or Failed or TimedOut;
}
