using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.Protocol;

/// <summary>One protocol line of an attempt, as its supervisor acts on it.</summary>
public abstract record WorkerEvent
{
    private WorkerEvent()
    {
    }

    /// <summary>Not a message of the contract, or another backtest's: dropped and counted; <paramref name="FirstOfItsKind"/> once per kind, for the log.</summary>
    public sealed record Dropped(string? Reason, bool FirstOfItsKind) : WorkerEvent;

    /// <summary>Progress to keep and publish (the measured resources, when known, in place of the worker's own).</summary>
    public sealed record Progress(BacktestProgressData Data, BacktestEvent Event) : WorkerEvent;

    /// <summary>An error the worker reported (its texts cut to the limits), to keep and publish.</summary>
    public sealed record Error(BacktestErrorData Data, BacktestEvent Event) : WorkerEvent;

    /// <summary>Trades or equity points: published as they are.</summary>
    public sealed record Published(BacktestEvent Event) : WorkerEvent;

    /// <summary>Where the run's time went (<c>--timings</c>): for the log only, never published and never an error.</summary>
    public sealed record Diagnostic(BacktestTimingsData Timings) : WorkerEvent;

    /// <summary>
    /// A completion line: anyone on stdout can print one, so it changes nothing. The exit code and the validated
    /// results.json decide, and the supervisor announces the completion from them.
    /// </summary>
    public sealed record Completion : WorkerEvent;
}

/// <summary>
/// Reads one attempt's stdout into <see cref="WorkerEvent"/>s: bounded lines (<paramref name="maxLineBytes"/>), the
/// contract checked by <see cref="WorkerLineReader"/>, which counts what it drops.
/// </summary>
public sealed class AttemptLines(Guid backtestId, int maxLineBytes)
{
    private readonly string _id = backtestId.ToString();

    public WorkerLineReader Reader { get; } = new(backtestId);

    /// <param name="measured">The latest resource sample measured from outside the worker, or null.</param>
    /// <exception cref="WorkerProtocolException">The line is longer than the limit: the run must end.</exception>
    public WorkerEvent Read(string line, ResourceUsage? measured)
    {
        if (line.Length > maxLineBytes)
        {
            // The runners cut lines at the limit as they split them; this holds for any runner on its own.
            throw WorkerProtocolException.LineTooLong(maxLineBytes);
        }

        var foreign = Reader.ForeignIdLines;
        if (Reader.Read(line) is not { } message)
        {
            // Once per kind and attempt: a hostile worker must not flood the log either.
            var first = Reader.ForeignIdLines == 1 && foreign == 0 || Reader.MalformedLines == 1 && Reader.ForeignIdLines == foreign;
            return new WorkerEvent.Dropped(Reader.LastRejection, first);
        }

        switch (message.Data)
        {
            case BacktestProgressData progress:
                if (measured is null)
                {
                    return new WorkerEvent.Progress(progress, new BacktestEvent(backtestId, message.Type, message.Json));
                }

                // The container's own figures (its cgroup, seen by the daemon) replace the worker's self-report.
                progress = progress with
                {
                    Performance = new PerformanceInfo(measured.MemoryMb, measured.CpuPercent, measured.BlockIoMbPerSecond),
                };
                var json = JsonSerializer.Serialize(new BacktestMessage<BacktestProgressData>(message.Type, _id, DateTime.UtcNow, progress),
                    JsonDefaults.Options);
                return new WorkerEvent.Progress(progress, new BacktestEvent(backtestId, message.Type, json));
            case BacktestErrorData error:
                return new WorkerEvent.Error(error, new BacktestEvent(backtestId, message.Type, message.Json));
            case BacktestTimingsData timings:
                return new WorkerEvent.Diagnostic(timings);
            case null:
                return new WorkerEvent.Completion();
            default:
                return new WorkerEvent.Published(new BacktestEvent(backtestId, message.Type, message.Json));
        }
    }
}
