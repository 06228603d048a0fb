using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Storage;

namespace Backtesting.Grains.Protocol;

/// <summary>One accepted line of a batch's worker.</summary>
public abstract record BatchLine
{
    private BatchLine()
    {
    }

    /// <summary>A finished trial, as it is stored: feasibility and objective judged by the silo from the metrics.</summary>
    public sealed record Trial(TrialRow Row) : BatchLine;

    public sealed record Progress(OptimizationBatchProgressData Data) : BatchLine;

    /// <summary>The worker says the batch ended; its exit code decides what that means.</summary>
    public sealed record Complete(OptimizationBatchCompleteData Data) : BatchLine;

    /// <summary>The worker refused the batch or failed (its texts cut to the limits).</summary>
    public sealed record Error(BacktestErrorData Data) : BatchLine;
}

/// <summary>
/// Reads the lines of <c>worker optimize-batch</c> (docs/optimization.md) as hostile input, like
/// <see cref="WorkerLineReader"/> reads a backtest's: a line is accepted only when it is printable ASCII, one JSON object
/// of the envelope's five fields with no duplicate key, no unknown field and no deep nesting, names this job and this
/// batch, and has data of its type's shape. A trial line must name a trial of the batch with exactly the parameters the
/// batch gave it, finite metrics and a trade count that is not negative; the silo judges its feasibility and objective
/// from its metrics with the job's own rules (the line's say is not taken), and keeps the worker's reason only for a
/// trial that did not run. Anything else is dropped and counted.
/// </summary>
public sealed class BatchLineReader
{
    /// <summary>The deepest nesting the contract has (envelope, data, metrics or parameters, value), with some room.</summary>
    private const int MaxDepth = 8;
    /// <summary>The longest content hash kept (a SHA-256 in hex is 64).</summary>
    private const int MaxHashChars = 128;

    private static readonly JsonSerializerOptions Options = new(JsonDefaults.Options)
    {
        AllowDuplicateProperties = false,
        MaxDepth = MaxDepth,
    };

    private readonly string _id;
    private readonly int _batch;
    private readonly IReadOnlyDictionary<int, Dictionary<string, JsonElement>> _trials;
    private readonly TrialRules _rules;

    /// <param name="trials">The batch's trials and the parameters each was given.</param>
    /// <param name="rules">The job's objective and constraints.</param>
    public BatchLineReader(Guid optimizationId, int batch, IReadOnlyDictionary<int, Dictionary<string, JsonElement>> trials, TrialRules rules)
    {
        _id = optimizationId.ToString();
        _batch = batch;
        _trials = trials;
        _rules = rules;
    }

    /// <summary>Lines that named another job or batch (dropped).</summary>
    public int ForeignLines { get; private set; }

    /// <summary>Lines that were not a message of the contract (dropped).</summary>
    public int MalformedLines { get; private set; }

    public int Dropped => ForeignLines + MalformedLines;

    /// <summary>Why the last line was dropped, or null when it was accepted.</summary>
    public string? LastRejection { get; private set; }

    public BatchLine? Read(string line)
    {
        LastRejection = null;
        foreach (var c in line)
        {
            if (c is (< ' ' and not ('\t' or '\n' or '\r')) or > '~')
            {
                return Malformed("not printable ASCII");
            }
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

        if (envelope is not { Type: { } type, OptimizationId: { } id, Batch: { } batch, Data.ValueKind: JsonValueKind.Object })
        {
            return Malformed("the envelope needs type, optimizationId, batch and a data object");
        }

        if (!string.Equals(id, _id, StringComparison.OrdinalIgnoreCase) || batch != _batch)
        {
            ForeignLines++;
            LastRejection = "names another job or batch";
            return null;
        }

        try
        {
            return type switch
            {
                OptimizationMessageTypes.Trial => Trial(envelope.Data.Deserialize<OptimizationTrialData>(Options)),
                OptimizationMessageTypes.BatchProgress => envelope.Data.Deserialize<OptimizationBatchProgressData>(Options) is { } p
                    && p.TrialsDone >= 0 && p.TrialsTotal >= 0 && p.TrialsSkipped >= 0 && double.IsFinite(p.TrialsPerSecond) && double.IsFinite(p.ElapsedSeconds)
                    ? new BatchLine.Progress(p) : Malformed("progress out of range"),
                OptimizationMessageTypes.BatchComplete => envelope.Data.Deserialize<OptimizationBatchCompleteData>(Options) is { } c
                    ? new BatchLine.Complete(c) : Malformed("a completion needs data"),
                OptimizationMessageTypes.BatchError => new BatchLine.Error(WorkerLineReader.Truncate(envelope.Data.Deserialize<BacktestErrorData>(Options))),
                _ => Malformed($"unknown type '{WorkerLineReader.Cut(type, WorkerLineReader.MaxErrorFieldChars)}'"),
            };
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NullReferenceException or InvalidOperationException)
        {
            return Malformed($"{WorkerLineReader.Cut(type, WorkerLineReader.MaxErrorFieldChars)} data does not match the contract: {e.Message}");
        }
    }

    private BatchLine? Trial(OptimizationTrialData? data)
    {
        if (data is null || data.Parameters is null)
        {
            return Malformed("a trial needs its number and parameters");
        }

        if (!_trials.TryGetValue(data.Trial, out var given))
        {
            return Malformed($"trial {data.Trial} is not one of the batch's");
        }

        if (data.Parameters.Count != given.Count
            || given.Any(p => !data.Parameters.TryGetValue(p.Key, out var value) || !JsonElement.DeepEquals(value, p.Value)))
        {
            return Malformed($"trial {data.Trial} names other parameters than the batch gave it");
        }

        if (data.TradeCount < 0)
        {
            return Malformed("a trade count is not negative");
        }

        string? metricsJson = null;
        bool feasible;
        string? reason;
        double? objective;
        if (data.Metrics is { } metrics)
        {
            if (!Finite(metrics))
            {
                return Malformed("metrics must be finite");
            }

            metricsJson = JsonSerializer.Serialize(metrics, JsonDefaults.Options);
            (feasible, reason, objective) = _rules.Evaluate(metrics);
        }
        else
        {
            // It did not run: the strategy's own rule refused its parameters.
            if (data.Feasible)
            {
                return Malformed("a trial without metrics cannot be feasible");
            }

            (feasible, reason, objective) = (false, WorkerLineReader.Cut(data.InfeasibleReason ?? "did not run", WorkerLineReader.MaxErrorMessageChars), null);
        }

        return new BatchLine.Trial(new TrialRow(data.Trial, JsonSerializer.Serialize(data.Parameters, JsonDefaults.Options), metricsJson,
            feasible ? objective : null, feasible, reason, data.Metrics is null ? null : data.TradeCount,
            WorkerLineReader.Cut(data.ContentHash, MaxHashChars)));
    }

    private static bool Finite(PerformanceMetrics metrics) =>
        MetricValues.Names.All(name => MetricValues.Get(metrics, name) is not { } value || double.IsFinite(value));

    private BatchLine? Malformed(string reason)
    {
        MalformedLines++;
        LastRejection = WorkerLineReader.Cut(reason, WorkerLineReader.MaxErrorFieldChars);
        return null;
    }

    private sealed record Envelope(string? Type, string? OptimizationId, int? Batch, DateTime Timestamp, JsonElement Data);
}
