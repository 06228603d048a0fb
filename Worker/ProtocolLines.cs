using System.Buffers;
using System.Text;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;

namespace Backtesting.Worker;

/// <summary>
/// The one home of the worker's protocol lines: every message it prints on stdout, a backtest's
/// (<see cref="BacktestMessage{TData}"/>) and an optimization batch's (<see cref="OptimizationMessage{TData}"/>), written
/// field by field with a <see cref="Utf8JsonWriter"/>. The bytes are those of
/// <c>JsonSerializer.Serialize(message, JsonDefaults.Options)</c>, the shape the silo's readers parse
/// (<c>Tests/Worker/ProtocolLinesTests.cs</c> compares them for every message type, with NaN, the infinities, non-ASCII
/// text, nulls and empty lists, so a field added to a message record and not written here fails there).
/// </summary>
/// <remarks>
/// Why by hand: the reflection serializer's first use of each message type in a short worker process builds its
/// metadata and compiles its generic converters, accessors and collections (about 80 methods for a run's progress,
/// equity, timings and completion lines), none of them precompiled by ReadyToRun. Names come from the records'
/// members through the project's naming policy, so the shape keeps one home, the message records.
/// </remarks>
public static class ProtocolLines
{
    /// <summary>A <c>backtest_progress</c> line.</summary>
    public static string Progress(string backtestId, DateTime timestamp, BacktestProgressData data) =>
        Backtest(MessageTypes.Progress, backtestId, timestamp, data, static (w, d) =>
        {
            w.WritePropertyName(N.Progress);
            if (d.Progress is not { } p)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStartObject();
                Double(w, N.Percentage, p.Percentage);
                String(w, N.CurrentDate, p.CurrentDate);
                w.WriteNumber(N.ProcessedBars, p.ProcessedBars);
                w.WriteNumber(N.TotalBars, p.TotalBars);
                Double(w, N.EstimatedTimeRemaining, p.EstimatedTimeRemaining);
                Double(w, N.ProcessingRate, p.ProcessingRate);
                w.WriteEndObject();
            }

            w.WritePropertyName(N.Statistics);
            if (d.Statistics is not { } s)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStartObject();
                w.WriteNumber(N.TradesExecuted, s.TradesExecuted);
                Double(w, N.CurrentBalance, s.CurrentBalance);
                Double(w, N.UnrealizedPnl, s.UnrealizedPnl);
                Double(w, N.Drawdown, s.Drawdown);
                w.WriteEndObject();
            }

            w.WritePropertyName(N.Performance);
            if (d.Performance is not { } f)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStartObject();
                Double(w, N.MemoryUsage, f.MemoryUsage);
                Double(w, N.CpuUsage, f.CpuUsage);
                Double(w, N.DiskIO, f.DiskIO);
                w.WriteEndObject();
            }
        });

    /// <summary>A <c>backtest_trade</c> line: the trades are written as in results.json, by the same code.</summary>
    public static string Trade(string backtestId, DateTime timestamp, IReadOnlyList<Trade> trades) =>
        Backtest(MessageTypes.Trade, backtestId, timestamp, trades, static (w, t) => ResultsWriter.WriteTrades(w, N.Trades, t), 256 + (trades.Count * 384));

    /// <summary>A <c>backtest_equity</c> line: three columns of equal length.</summary>
    public static string Equity(string backtestId, DateTime timestamp, EquityBatchData data) =>
        Backtest(MessageTypes.Equity, backtestId, timestamp, data, static (w, d) =>
        {
            w.WritePropertyName(N.Dates);
            if (d.Dates is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStartArray();
                foreach (var date in d.Dates)
                {
                    StringValue(w, date);
                }

                w.WriteEndArray();
            }

            Doubles(w, N.EquityColumn, d.Equity);
            Doubles(w, N.DrawdownColumn, d.Drawdown);
        }, 256 + ((data.Dates?.Count ?? 0) * 48));

    /// <summary>A <c>backtest_timings</c> line (<c>--timings</c>).</summary>
    public static string Timings(string backtestId, DateTime timestamp, BacktestTimingsData data) =>
        Backtest(MessageTypes.Timings, backtestId, timestamp, data, static (w, t) =>
        {
            Double(w, N.StartupMs, t.StartupMs);
            Double(w, N.DataMs, t.DataMs);
            Double(w, N.EngineMs, t.EngineMs);
            Double(w, N.ResultsMs, t.ResultsMs);
            Double(w, N.TotalMs, t.TotalMs);
            w.WriteNumber(N.StartupJitMethods, t.StartupJitMethods);
            Double(w, N.StartupJitMs, t.StartupJitMs);
            w.WriteNumber(N.JitMethods, t.JitMethods);
            Double(w, N.JitMs, t.JitMs);
        });

    /// <summary>A <c>backtest_complete</c> line.</summary>
    public static string Complete(string backtestId, DateTime timestamp, BacktestCompleteData data) =>
        Backtest(MessageTypes.Complete, backtestId, timestamp, data, static (w, c) =>
        {
            String(w, N.Status, c.Status);
            Double(w, N.ExecutionTime, c.ExecutionTime);
            w.WritePropertyName(N.Summary);
            if (c.Summary is not { } s)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStartObject();
                w.WriteNumber(N.TotalTrades, s.TotalTrades);
                Double(w, N.FinalBalance, s.FinalBalance);
                Double(w, N.TotalReturn, s.TotalReturn);
                Double(w, N.MaxDrawdown, s.MaxDrawdown);
                w.WriteEndObject();
            }

            String(w, N.ResultsUrl, c.ResultsUrl);
            w.WriteBoolean(N.Partial, c.Partial);
        });

    /// <summary>A <c>backtest_error</c> line.</summary>
    public static string Error(string backtestId, DateTime timestamp, BacktestErrorData data) =>
        Backtest(MessageTypes.Error, backtestId, timestamp, data, WriteError);

    /// <summary>An <c>optimization_trial</c> line.</summary>
    public static string Trial(string optimizationId, int batch, DateTime timestamp, OptimizationTrialData data) =>
        Optimization(OptimizationMessageTypes.Trial, optimizationId, batch, timestamp, data, static (w, t) =>
        {
            w.WriteNumber(N.Trial, t.Trial);
            w.WritePropertyName(N.Parameters);
            if (t.Parameters is null)
            {
                w.WriteNullValue();
            }
            else
            {
                // A dictionary's keys as given: the project's options name properties, never dictionary keys.
                w.WriteStartObject();
                foreach (var (name, value) in t.Parameters)
                {
                    w.WritePropertyName(name);
                    value.WriteTo(w);
                }

                w.WriteEndObject();
            }

            w.WritePropertyName(N.Metrics);
            if (t.Metrics is { } metrics)
            {
                ResultsWriter.WriteMetrics(w, metrics);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteNumber(N.TradeCount, t.TradeCount);
            w.WriteBoolean(N.Feasible, t.Feasible);
            String(w, N.InfeasibleReason, t.InfeasibleReason);
            String(w, N.ContentHash, t.ContentHash);
            if (t.Objective is { } objective)
            {
                Double(w, N.Objective, objective);
            }
            else
            {
                w.WriteNull(N.Objective);
            }
        });

    /// <summary>An <c>optimization_batch_progress</c> line.</summary>
    public static string BatchProgress(string optimizationId, int batch, DateTime timestamp, OptimizationBatchProgressData data) =>
        Optimization(OptimizationMessageTypes.BatchProgress, optimizationId, batch, timestamp, data, static (w, p) =>
        {
            w.WriteNumber(N.TrialsDone, p.TrialsDone);
            w.WriteNumber(N.TrialsTotal, p.TrialsTotal);
            w.WriteNumber(N.TrialsSkipped, p.TrialsSkipped);
            Double(w, N.TrialsPerSecond, p.TrialsPerSecond);
            Double(w, N.ElapsedSeconds, p.ElapsedSeconds);
        });

    /// <summary>An <c>optimization_batch_complete</c> line.</summary>
    public static string BatchComplete(string optimizationId, int batch, DateTime timestamp, OptimizationBatchCompleteData data) =>
        Optimization(OptimizationMessageTypes.BatchComplete, optimizationId, batch, timestamp, data, static (w, c) =>
        {
            w.WriteNumber(N.TrialsRun, c.TrialsRun);
            w.WriteNumber(N.TrialsSkipped, c.TrialsSkipped);
            w.WriteNumber(N.TrialsTotal, c.TrialsTotal);
            Double(w, N.ElapsedSeconds, c.ElapsedSeconds);
            Double(w, N.TrialsPerSecond, c.TrialsPerSecond);
            w.WriteBoolean(N.Stopped, c.Stopped);
        });

    /// <summary>An <c>optimization_batch_error</c> line.</summary>
    public static string BatchError(string optimizationId, int batch, DateTime timestamp, BacktestErrorData data) =>
        Optimization(OptimizationMessageTypes.BatchError, optimizationId, batch, timestamp, data, WriteError);

    private static void WriteError(Utf8JsonWriter w, BacktestErrorData e)
    {
        String(w, N.ErrorType, e.ErrorType);
        String(w, N.ErrorMessage, e.ErrorMessage);
        w.WritePropertyName(N.ErrorDetails);
        if (e.ErrorDetails is not { } d)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartObject();
        String(w, N.StackTrace, d.StackTrace);
        String(w, N.FailedAtDate, d.FailedAtDate);
        String(w, N.FailedInstrument, d.FailedInstrument);
        w.WriteBoolean(N.Recoverable, d.Recoverable);
        // Left out when null, as the record's JsonIgnore says.
        if (d.ValidationErrors is { } errors)
        {
            w.WritePropertyName(N.ValidationErrors);
            w.WriteStartArray();
            foreach (var error in errors)
            {
                if (error is null)
                {
                    w.WriteNullValue();
                    continue;
                }

                w.WriteStartObject();
                String(w, N.Field, error.Field);
                String(w, N.Rule, error.Rule);
                String(w, N.Message, error.Message);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    /// <summary>The envelope of a backtest's line, <c>{type, backtestId, timestamp, data}</c>, around its data's fields.</summary>
    private static string Backtest<T>(string type, string backtestId, DateTime timestamp, T data, Action<Utf8JsonWriter, T> fields,
        int capacity = 512)
    {
        var buffer = new ArrayBufferWriter<byte>(capacity);
        using (var w = new Utf8JsonWriter(buffer, ResultsWriter.WriterOptions))
        {
            w.WriteStartObject();
            String(w, N.Type, type);
            String(w, N.BacktestId, backtestId);
            w.WriteString(N.Timestamp, timestamp);
            Data(w, data, fields);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The envelope of a batch's line, <c>{type, optimizationId, batch, timestamp, data}</c>.</summary>
    private static string Optimization<T>(string type, string optimizationId, int batch, DateTime timestamp, T data,
        Action<Utf8JsonWriter, T> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, ResultsWriter.WriterOptions))
        {
            w.WriteStartObject();
            String(w, N.Type, type);
            String(w, N.OptimizationId, optimizationId);
            w.WriteNumber(N.Batch, batch);
            w.WriteString(N.Timestamp, timestamp);
            Data(w, data, fields);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Data<T>(Utf8JsonWriter w, T data, Action<Utf8JsonWriter, T> fields)
    {
        w.WritePropertyName(N.Data);
        if (data is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartObject();
        fields(w, data);
        w.WriteEndObject();
    }

    private static void String(Utf8JsonWriter w, JsonEncodedText name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void StringValue(Utf8JsonWriter w, string? value)
    {
        if (value is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStringValue(value);
        }
    }

    /// <summary>A number, or, as the project's number handling allows, NaN and the infinities as named strings.</summary>
    private static void Double(Utf8JsonWriter w, JsonEncodedText name, double value)
    {
        w.WritePropertyName(name);
        DoubleValue(w, value);
    }

    private static void DoubleValue(Utf8JsonWriter w, double value) => ResultsWriter.WriteNumberValue(w, value);

    private static void Doubles(Utf8JsonWriter w, JsonEncodedText name, IReadOnlyList<double>? values)
    {
        w.WritePropertyName(name);
        if (values is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartArray();
        for (var i = 0; i < values.Count; i++)
        {
            DoubleValue(w, values[i]);
        }

        w.WriteEndArray();
    }

    /// <summary>The property name of a message record's member as the project's serializer writes it.</summary>
    private static JsonEncodedText Name(string member) =>
        JsonEncodedText.Encode(JsonDefaults.Options.PropertyNamingPolicy?.ConvertName(member) ?? member, JsonDefaults.Options.Encoder);

    /// <summary>The encoded property names, each from the member it names.</summary>
    private static class N
    {
        public static readonly JsonEncodedText Type = Name(nameof(BacktestMessage<object>.Type));
        public static readonly JsonEncodedText BacktestId = Name(nameof(BacktestMessage<object>.BacktestId));
        public static readonly JsonEncodedText Timestamp = Name(nameof(BacktestMessage<object>.Timestamp));
        public static readonly JsonEncodedText Data = Name(nameof(BacktestMessage<object>.Data));
        public static readonly JsonEncodedText OptimizationId = Name(nameof(OptimizationMessage<object>.OptimizationId));
        public static readonly JsonEncodedText Batch = Name(nameof(OptimizationMessage<object>.Batch));

        public static readonly JsonEncodedText Progress = Name(nameof(BacktestProgressData.Progress));
        public static readonly JsonEncodedText Statistics = Name(nameof(BacktestProgressData.Statistics));
        public static readonly JsonEncodedText Performance = Name(nameof(BacktestProgressData.Performance));
        public static readonly JsonEncodedText Percentage = Name(nameof(ProgressInfo.Percentage));
        public static readonly JsonEncodedText CurrentDate = Name(nameof(ProgressInfo.CurrentDate));
        public static readonly JsonEncodedText ProcessedBars = Name(nameof(ProgressInfo.ProcessedBars));
        public static readonly JsonEncodedText TotalBars = Name(nameof(ProgressInfo.TotalBars));
        public static readonly JsonEncodedText EstimatedTimeRemaining = Name(nameof(ProgressInfo.EstimatedTimeRemaining));
        public static readonly JsonEncodedText ProcessingRate = Name(nameof(ProgressInfo.ProcessingRate));
        public static readonly JsonEncodedText TradesExecuted = Name(nameof(StatisticsInfo.TradesExecuted));
        public static readonly JsonEncodedText CurrentBalance = Name(nameof(StatisticsInfo.CurrentBalance));
        public static readonly JsonEncodedText UnrealizedPnl = Name(nameof(StatisticsInfo.UnrealizedPnl));
        public static readonly JsonEncodedText Drawdown = Name(nameof(StatisticsInfo.Drawdown));
        public static readonly JsonEncodedText MemoryUsage = Name(nameof(PerformanceInfo.MemoryUsage));
        public static readonly JsonEncodedText CpuUsage = Name(nameof(PerformanceInfo.CpuUsage));
        public static readonly JsonEncodedText DiskIO = Name(nameof(PerformanceInfo.DiskIO));

        public static readonly JsonEncodedText Trades = Name(nameof(TradeBatchData.Trades));
        public static readonly JsonEncodedText Dates = Name(nameof(EquityBatchData.Dates));
        public static readonly JsonEncodedText EquityColumn = Name(nameof(EquityBatchData.Equity));
        public static readonly JsonEncodedText DrawdownColumn = Name(nameof(EquityBatchData.Drawdown));

        public static readonly JsonEncodedText StartupMs = Name(nameof(BacktestTimingsData.StartupMs));
        public static readonly JsonEncodedText DataMs = Name(nameof(BacktestTimingsData.DataMs));
        public static readonly JsonEncodedText EngineMs = Name(nameof(BacktestTimingsData.EngineMs));
        public static readonly JsonEncodedText ResultsMs = Name(nameof(BacktestTimingsData.ResultsMs));
        public static readonly JsonEncodedText TotalMs = Name(nameof(BacktestTimingsData.TotalMs));
        public static readonly JsonEncodedText StartupJitMethods = Name(nameof(BacktestTimingsData.StartupJitMethods));
        public static readonly JsonEncodedText StartupJitMs = Name(nameof(BacktestTimingsData.StartupJitMs));
        public static readonly JsonEncodedText JitMethods = Name(nameof(BacktestTimingsData.JitMethods));
        public static readonly JsonEncodedText JitMs = Name(nameof(BacktestTimingsData.JitMs));

        public static readonly JsonEncodedText Status = Name(nameof(BacktestCompleteData.Status));
        public static readonly JsonEncodedText ExecutionTime = Name(nameof(BacktestCompleteData.ExecutionTime));
        public static readonly JsonEncodedText Summary = Name(nameof(BacktestCompleteData.Summary));
        public static readonly JsonEncodedText ResultsUrl = Name(nameof(BacktestCompleteData.ResultsUrl));
        public static readonly JsonEncodedText Partial = Name(nameof(BacktestCompleteData.Partial));
        public static readonly JsonEncodedText TotalTrades = Name(nameof(CompletionSummary.TotalTrades));
        public static readonly JsonEncodedText FinalBalance = Name(nameof(CompletionSummary.FinalBalance));
        public static readonly JsonEncodedText TotalReturn = Name(nameof(CompletionSummary.TotalReturn));
        public static readonly JsonEncodedText MaxDrawdown = Name(nameof(CompletionSummary.MaxDrawdown));

        public static readonly JsonEncodedText ErrorType = Name(nameof(BacktestErrorData.ErrorType));
        public static readonly JsonEncodedText ErrorMessage = Name(nameof(BacktestErrorData.ErrorMessage));
        public static readonly JsonEncodedText ErrorDetails = Name(nameof(BacktestErrorData.ErrorDetails));
        public static readonly JsonEncodedText StackTrace = Name(nameof(BacktestErrorDetails.StackTrace));
        public static readonly JsonEncodedText FailedAtDate = Name(nameof(BacktestErrorDetails.FailedAtDate));
        public static readonly JsonEncodedText FailedInstrument = Name(nameof(BacktestErrorDetails.FailedInstrument));
        public static readonly JsonEncodedText Recoverable = Name(nameof(BacktestErrorDetails.Recoverable));
        public static readonly JsonEncodedText ValidationErrors = Name(nameof(BacktestErrorDetails.ValidationErrors));
        public static readonly JsonEncodedText Field = Name(nameof(ValidationError.Field));
        public static readonly JsonEncodedText Rule = Name(nameof(ValidationError.Rule));
        public static readonly JsonEncodedText Message = Name(nameof(ValidationError.Message));

        public static readonly JsonEncodedText Trial = Name(nameof(OptimizationTrialData.Trial));
        public static readonly JsonEncodedText Parameters = Name(nameof(OptimizationTrialData.Parameters));
        public static readonly JsonEncodedText Metrics = Name(nameof(OptimizationTrialData.Metrics));
        public static readonly JsonEncodedText TradeCount = Name(nameof(OptimizationTrialData.TradeCount));
        public static readonly JsonEncodedText Feasible = Name(nameof(OptimizationTrialData.Feasible));
        public static readonly JsonEncodedText InfeasibleReason = Name(nameof(OptimizationTrialData.InfeasibleReason));
        public static readonly JsonEncodedText ContentHash = Name(nameof(OptimizationTrialData.ContentHash));
        public static readonly JsonEncodedText Objective = Name(nameof(OptimizationTrialData.Objective));

        public static readonly JsonEncodedText TrialsDone = Name(nameof(OptimizationBatchProgressData.TrialsDone));
        public static readonly JsonEncodedText TrialsTotal = Name(nameof(OptimizationBatchProgressData.TrialsTotal));
        public static readonly JsonEncodedText TrialsSkipped = Name(nameof(OptimizationBatchProgressData.TrialsSkipped));
        public static readonly JsonEncodedText TrialsPerSecond = Name(nameof(OptimizationBatchProgressData.TrialsPerSecond));
        public static readonly JsonEncodedText ElapsedSeconds = Name(nameof(OptimizationBatchProgressData.ElapsedSeconds));
        public static readonly JsonEncodedText TrialsRun = Name(nameof(OptimizationBatchCompleteData.TrialsRun));
        public static readonly JsonEncodedText Stopped = Name(nameof(OptimizationBatchCompleteData.Stopped));
    }
}
