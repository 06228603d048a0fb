using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;

namespace Backtesting.Grains.Protocol;

/// <summary>What one accepted protocol line says, and the line to publish for it (rewritten by the silo).</summary>
/// <param name="Type">One of <see cref="MessageTypes"/>.</param>
/// <param name="Data">The typed data (<see cref="BacktestProgressData"/>, <see cref="BacktestErrorData"/>,
/// <see cref="TradeBatchData"/>, <see cref="EquityBatchData"/>, <see cref="BacktestTimingsData"/>); null for a completion, whose data is never used.</param>
/// <param name="Json">The message as the silo writes it: the run's id, the contract's fields and nothing else.</param>
public sealed record WorkerLine(string Type, object? Data, string Json);

/// <summary>
/// Reads the worker's stdout against the message contract (<see cref="BacktestMessage{TData}"/>), treating every
/// line as hostile: a custom strategy shares the worker's stdout. A line is accepted only when it is printable
/// ASCII (the worker's serializer escapes everything else; JSON whitespace allowed), is one JSON object of the envelope's four fields with no
/// duplicate key and no deeper nesting than the contract needs, names this run's backtest id, has a known type and
/// data of that type's shape with finite numbers. Anything else is dropped and counted. Error texts are truncated to
/// <see cref="MaxErrorMessageChars"/> and <see cref="MaxStackTraceChars"/>. A completion line is recognised but its
/// data is never read: the summary comes from the validated results.json alone (<see cref="ResultsFile"/>).
/// </summary>
public sealed class WorkerLineReader(Guid backtestId)
{
    /// <summary>The default of Backtesting:MaxProtocolLineBytes: the longest protocol line a silo reads.</summary>
    public const int DefaultMaxLineBytes = 1 << 20;
    /// <summary>The longest error message kept from a worker (stored, listed and published).</summary>
    public const int MaxErrorMessageChars = 2000;
    /// <summary>The longest stack trace kept from a worker.</summary>
    public const int MaxStackTraceChars = 8000;
    /// <summary>The longest of the error's other texts (date, instrument, a validation error's field and message).</summary>
    public const int MaxErrorFieldChars = 200;
    /// <summary>The most validation errors kept from one error line.</summary>
    public const int MaxValidationErrors = 100;
    /// <summary>The deepest nesting the contract has is 4 (envelope, data, progress, value); some room, no more.</summary>
    private const int MaxDepth = 8;

    private static readonly JsonSerializerOptions Options = new(JsonDefaults.Options)
    {
        AllowDuplicateProperties = false,
        MaxDepth = MaxDepth,
    };

    private readonly string _id = backtestId.ToString();

    /// <summary>Lines that named another backtest's id (dropped).</summary>
    public int ForeignIdLines { get; private set; }

    /// <summary>Lines that were not a protocol message of the contract: malformed, unknown type, bad data (dropped).</summary>
    public int MalformedLines { get; private set; }

    /// <summary>Why the last line was dropped (for the log), or null when it was accepted.</summary>
    public string? LastRejection { get; private set; }

    /// <summary>The line as a message of the contract, or null when it is dropped (and counted).</summary>
    public WorkerLine? Read(string line)
    {
        LastRejection = null;
        if (!IsPrintableAscii(line))
        {
            return Malformed("not printable ASCII");
        }

        Envelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<Envelope>(line, Options);
        }
        catch (JsonException e)
        {
            return Malformed("not a protocol message: " + e.Message);
        }

        if (envelope is not { Type: { } type, BacktestId: { } id, Data.ValueKind: JsonValueKind.Object })
        {
            return Malformed("the envelope needs type, backtestId and a data object");
        }

        if (!string.Equals(id, _id, StringComparison.OrdinalIgnoreCase))
        {
            ForeignIdLines++;
            LastRejection = "names another backtest id";
            return null;
        }

        try
        {
            return type switch
            {
                MessageTypes.Progress => Valid(Progress(envelope.Data)) is { } progress ? Accept(type, progress, envelope) : Malformed("progress out of range"),
                MessageTypes.Error => Accept(type, Truncate(envelope.Data.Deserialize<BacktestErrorData>(Options)), envelope),
                MessageTypes.Trade => envelope.Data.Deserialize<TradeBatchData>(Options) is { Trades: not null } trades
                    ? Accept(type, trades, envelope) : Malformed("a trade batch needs trades"),
                MessageTypes.Equity => Valid(envelope.Data.Deserialize<EquityBatchData>(Options)) is { } equity
                    ? Accept(type, equity, envelope) : Malformed("equity columns must be of equal length and finite"),
                MessageTypes.Complete => new WorkerLine(type, null, ""),
                MessageTypes.Timings => Valid(envelope.Data.Deserialize<BacktestTimingsData>(Options)) is { } timings
                    ? Accept(type, timings, envelope) : Malformed("timings must be finite and not negative"),
                _ => Malformed($"unknown type '{Cut(type, MaxErrorFieldChars)}'"),
            };
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NullReferenceException)
        {
            return Malformed($"{type} data does not match the contract: {e.Message}");
        }
    }

    private WorkerLine? Malformed(string reason)
    {
        MalformedLines++;
        LastRejection = Cut(reason, MaxErrorFieldChars);
        return null;
    }

    private WorkerLine Accept<T>(string type, T? data, Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(data);
        var json = JsonSerializer.Serialize(new BacktestMessage<T>(type, _id, envelope.Timestamp, data), JsonDefaults.Options);
        return new WorkerLine(type, data, json);
    }

    private static BacktestProgressData? Progress(JsonElement data) => data.Deserialize<BacktestProgressData>(Options);

    private static BacktestProgressData? Valid(BacktestProgressData? data) =>
        data is { Progress: { } p, Statistics: { } s, Performance: { } f }
        && p.Percentage is >= 0 and <= 100 && p.ProcessedBars >= 0 && p.TotalBars >= 0 && p.CurrentDate is { Length: <= 32 }
        && AllFinite(p.EstimatedTimeRemaining, p.ProcessingRate, s.CurrentBalance, s.UnrealizedPnl, s.Drawdown,
            f.MemoryUsage, f.CpuUsage, f.DiskIO) && s.TradesExecuted >= 0
            ? data
            : null;

    private static EquityBatchData? Valid(EquityBatchData? data) =>
        data is { Dates: { } dates, Equity: { } equity, Drawdown: { } drawdown }
        && dates.Count == equity.Count && dates.Count == drawdown.Count
        && dates.All(d => d is { Length: <= 32 }) && equity.All(double.IsFinite) && drawdown.All(double.IsFinite)
            ? data
            : null;

    private static BacktestTimingsData? Valid(BacktestTimingsData? data) =>
        data is { } t && AllFinite(t.StartupMs, t.DataMs, t.EngineMs, t.ResultsMs, t.TotalMs, t.StartupJitMs, t.JitMs)
        && t.StartupMs >= 0 && t.DataMs >= 0 && t.EngineMs >= 0 && t.ResultsMs >= 0 && t.TotalMs >= 0
        && t.StartupJitMethods >= 0 && t.StartupJitMs >= 0 && t.JitMethods >= 0 && t.JitMs >= 0
            ? data
            : null;

    private static bool AllFinite(params ReadOnlySpan<double> values)
    {
        foreach (var value in values)
        {
            if (!double.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A worker's error, its texts cut to the limits and its type one the contract knows.</summary>
    public static BacktestErrorData Truncate(BacktestErrorData? error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var type = error.ErrorType is ErrorTypes.Validation or ErrorTypes.Execution or ErrorTypes.Data or ErrorTypes.Timeout or ErrorTypes.Memory
            ? error.ErrorType
            : ErrorTypes.Execution;
        var details = error.ErrorDetails is { } d
            ? new BacktestErrorDetails(Cut(d.StackTrace, MaxStackTraceChars), Cut(d.FailedAtDate, MaxErrorFieldChars),
                Cut(d.FailedInstrument, MaxErrorFieldChars), d.Recoverable,
                d.ValidationErrors?.Take(MaxValidationErrors)
                    .Select(v => new Engine.Strategies.ValidationError(Cut(v.Field, MaxErrorFieldChars) ?? "",
                        Cut(v.Rule, MaxErrorFieldChars) ?? "", Cut(v.Message, MaxErrorFieldChars) ?? ""))
                    .ToList())
            : null;
        return new BacktestErrorData(type, Cut(error.ErrorMessage ?? "", MaxErrorMessageChars)!, details);
    }

    /// <summary>The text cut to <paramref name="max"/> characters, marked as cut.</summary>
    public static string? Cut(string? text, int max) =>
        text is null || text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

    private static bool IsPrintableAscii(string line)
    {
        foreach (var c in line)
        {
            // JSON's own whitespace may stand between tokens (the parser refuses it raw inside strings).
            if (c is (< ' ' and not ('\t' or '\n' or '\r')) or > '~')
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Envelope(string? Type, string? BacktestId, DateTime Timestamp, JsonElement Data);
}
