using System.Text.Json.Serialization;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;

namespace Backtesting.Grains.Interfaces;

/// <summary>The states of a backtest; their moves, terminal ones and words are <see cref="Lifecycle"/>.</summary>
[GenerateSerializer, Alias("backtest.state")]
public enum BacktestState
{
    Created = 0,
    Queued = 1,
    Starting = 2,
    Running = 3,
    Paused = 4,
    Completed = 5,
    Cancelled = 6,
    Failed = 7,
    TimedOut = 8,
}

[GenerateSerializer, Alias("backtest.priority")]
public enum BacktestPriority
{
    Low = 0,
    Normal = 1,
    High = 2,
    Urgent = 3,
}

/// <summary>What a client asks for: a config (validated by the grain with the shared rules), its owner and priority.</summary>
/// <param name="StrategyVersion">
/// Pins a version of the owner's custom strategy that <c>strategyClass</c> names; null runs its latest version.
/// Only for custom strategies.
/// </param>
[GenerateSerializer, Immutable, Alias("backtest.submission")]
public sealed record BacktestSubmission(
    [property: Id(0)] BacktestConfig Config,
    [property: Id(1)] string Owner,
    [property: Id(2)] BacktestPriority Priority = BacktestPriority.Normal,
    [property: Id(3)] bool UseCache = true,
    [property: Id(4)] int? StrategyVersion = null);

/// <summary>
/// One change of state, kept in the status history: the first time the backtest made it, and how many times and when last
/// it made the same change again (a run retried after every kill of its silo moves to the same states with the same details;
/// the history keeps one entry for each, see <c>Grains/Persistence/StatusHistory.cs</c>). A state stored before repeats were
/// counted reads as one change each (the new fields are absent: no repeat).
/// </summary>
/// <param name="Repeats">How many times the change was made after the first (stored; clients read <see cref="Times"/>).</param>
/// <param name="RepeatedAt">When it was last made again (stored; clients read <see cref="LastAt"/>); null: made once.</param>
[GenerateSerializer, Immutable, Alias("backtest.transition")]
public sealed record StateChange(
    [property: Id(0)] BacktestState State,
    [property: Id(1)] DateTime At,
    [property: Id(2)] string? Detail,
    [property: Id(3), JsonIgnore] int Repeats = 0,
    [property: Id(4), JsonIgnore] DateTime? RepeatedAt = null)
{
    /// <summary>How many times the backtest made this change (1: once).</summary>
    public int Times => Repeats + 1;

    /// <summary>When it made this change last (<see cref="At"/> when once).</summary>
    public DateTime LastAt => RepeatedAt ?? At;
}

/// <summary>One run of the worker: backtests may take several (retries, restarts from a checkpoint).</summary>
/// <param name="ForeignIdLines">Lines of the worker that named another backtest's id: dropped, counted here.</param>
/// <param name="MalformedLines">Lines of the worker that were not a message of the contract: dropped, counted here.</param>
/// <param name="GrantedAt">
/// When the queue granted the slot this attempt ran in, by the queue's clock (a retry in the same slot keeps its grant's
/// time); null for attempts recorded before grant times were. The queue's order shows in grant times, not in start times:
/// runs granted in one step start on their silos in either order.
/// </param>
[GenerateSerializer, Immutable, Alias("backtest.attempt")]
public sealed record RunAttempt(
    [property: Id(0)] int Number,
    [property: Id(1)] string Runner,
    [property: Id(2)] DateTime StartedAt,
    [property: Id(3)] DateTime? EndedAt,
    [property: Id(4)] int? ExitCode,
    [property: Id(5)] string? Outcome,
    [property: Id(6)] long ResumedFromPoint,
    [property: Id(7)] string Silo,
    [property: Id(8)] int? ProcessId,
    [property: Id(9)] long? MemoryLimitBytes = null,
    [property: Id(10)] string? Container = null,
    [property: Id(11)] bool Reattached = false,
    [property: Id(12)] int ForeignIdLines = 0,
    [property: Id(13)] int MalformedLines = 0,
    [property: Id(14)] DateTime? GrantedAt = null);

/// <summary>
/// A run's resource usage measured from outside the worker (the Docker runner's stats stream): CPU in percent
/// of one core, memory in MB (without the page cache), block I/O totals in MB and its rate in MB/s.
/// </summary>
[GenerateSerializer, Immutable, Alias("backtest.resources")]
public sealed record ResourceUsage(
    [property: Id(0)] DateTime At,
    [property: Id(1)] double CpuPercent,
    [property: Id(2)] double MemoryMb,
    [property: Id(3)] double MemoryLimitMb,
    [property: Id(4)] double BlockReadMb,
    [property: Id(5)] double BlockWriteMb,
    [property: Id(6)] double BlockIoMbPerSecond,
    [property: Id(7)] int Processes);

/// <summary>Everything a client needs to show a backtest: state, progress, statistics, resources, attempts, history.</summary>
[GenerateSerializer, Immutable, Alias("backtest.status")]
public sealed record BacktestStatus(
    [property: Id(0)] Guid Id,
    [property: Id(1)] BacktestState State,
    [property: Id(2)] string Owner,
    [property: Id(3)] BacktestPriority Priority,
    [property: Id(4)] string Strategy,
    [property: Id(5)] DateTime CreatedAt,
    [property: Id(6)] DateTime UpdatedAt,
    [property: Id(7)] DateTime? CompletedAt,
    [property: Id(8)] BacktestProgressData? Progress,
    [property: Id(9)] BacktestErrorData? Error,
    [property: Id(10)] CompletionSummary? Summary,
    [property: Id(11)] IReadOnlyList<RunAttempt> Attempts,
    [property: Id(12)] IReadOnlyList<StateChange> History,
    [property: Id(13)] bool FromCache,
    [property: Id(14)] string? ContentHash,
    [property: Id(15)] ResourceUsage? Resources = null,
    [property: Id(16)] CustomStrategyRef? CustomStrategy = null)
{
    public bool IsTerminal => Lifecycle.IsTerminal(State);
}

/// <summary>Raised to callers when a request does not fit the current state; nothing was changed.</summary>
[GenerateSerializer, Alias("backtest.illegal-transition")]
public sealed class IllegalTransitionException : Exception
{
    public IllegalTransitionException(BacktestState current, string action)
        : base($"cannot {action} a backtest that is {current}")
    {
        Current = current;
        Action = action;
    }

    /// <summary>The state allows the request, but what runs the backtest refused it (say, a container that is just ending).</summary>
    public IllegalTransitionException(BacktestState current, string action, string reason)
        : base($"cannot {action} a backtest that is {current}: {reason}")
    {
        Current = current;
        Action = action;
    }

    public IllegalTransitionException()
    {
        Action = "";
    }

    public IllegalTransitionException(string message) : base(message)
    {
        Action = "";
    }

    public IllegalTransitionException(string message, Exception inner) : base(message, inner)
    {
        Action = "";
    }

    [Id(0)] public BacktestState Current { get; init; }
    [Id(1)] public string Action { get; init; }
}

/// <summary>Raised when a submission breaks the validation rules; carries every error.</summary>
[GenerateSerializer, Alias("backtest.invalid")]
public sealed class BacktestValidationException : Exception
{
    public BacktestValidationException(IReadOnlyList<Engine.Strategies.ValidationError> errors)
        : base($"the config has {errors.Count} error(s): " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")))
    {
        Errors = errors;
    }

    public BacktestValidationException()
    {
        Errors = [];
    }

    public BacktestValidationException(string message) : base(message)
    {
        Errors = [];
    }

    public BacktestValidationException(string message, Exception inner) : base(message, inner)
    {
        Errors = [];
    }

    [Id(0)] public IReadOnlyList<Engine.Strategies.ValidationError> Errors { get; init; }
}

/// <summary>One event of a backtest on its stream: the protocol line as the worker wrote it, plus its type.</summary>
/// <remarks>The JSON is the seed's message shape exactly, so the API relays it to clients unchanged.</remarks>
[GenerateSerializer, Immutable, Alias("backtest.event")]
public sealed record BacktestEvent(
    [property: Id(0)] Guid BacktestId,
    [property: Id(1)] string Type,
    [property: Id(2)] string Json);

public static class StreamNames
{
    /// <summary>The stream provider that carries backtest events.</summary>
    public const string Provider = "BacktestEvents";

    /// <summary>The stream namespace; the stream key is the backtest id.</summary>
    public const string Namespace = "backtest";
}
