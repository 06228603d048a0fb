using System.Text;
using System.Text.Json;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Protocol;

namespace Backtesting.Tests.Protocol;

/// <summary>The silo's reading of a worker's stdout: every line is hostile until it matches the contract and names the run.</summary>
public sealed class WorkerLineReaderTests
{
    private static readonly Guid Run = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly Guid Other = Guid.Parse("99999999-2222-3333-4444-555555555555");

    private const string ProgressData =
        """{"progress":{"percentage":42.5,"currentDate":"2016-03-01T00:00:00Z","processedBars":10,"totalBars":20,"estimatedTimeRemaining":1.5,"processingRate":100},"statistics":{"tradesExecuted":3,"currentBalance":100500,"unrealizedPnl":12,"drawdown":0.01},"performance":{"memoryUsage":50,"cpuUsage":90,"diskIO":0}}""";

    private static string Line(string type, string data, Guid? id = null) =>
        $$"""{"type":"{{type}}","backtestId":"{{id ?? Run}}","timestamp":"2026-01-01T00:00:00Z","data":{{data}}}""";

    /// <summary>One valid line of every type the contract has.</summary>
    public static TheoryData<string, string> EveryType => new()
    {
        { MessageTypes.Progress, ProgressData },
        { MessageTypes.Error, """{"errorType":"execution","errorMessage":"boom","errorDetails":{"stackTrace":"at X","failedAtDate":null,"failedInstrument":null,"recoverable":false}}""" },
        { MessageTypes.Trade, """{"trades":[]}""" },
        { MessageTypes.Equity, """{"dates":["2016-01-04"],"equity":[100000],"drawdown":[0]}""" },
        { MessageTypes.Complete, """{"status":"completed","executionTime":1,"summary":{"totalTrades":1,"finalBalance":1,"totalReturn":1,"maxDrawdown":0},"resultsUrl":"results.json","partial":false}""" },
    };

    [Theory]
    [MemberData(nameof(EveryType))]
    public void A_valid_line_of_every_type_is_accepted_and_republished_under_the_runs_id(string type, string data)
    {
        var reader = new WorkerLineReader(Run);

        var line = reader.Read(Line(type, data));

        Assert.NotNull(line);
        Assert.Equal(type, line.Type);
        Assert.Equal((0, 0), (reader.ForeignIdLines, reader.MalformedLines));
        if (type != MessageTypes.Complete)
        {
            using var published = JsonDocument.Parse(line.Json);
            Assert.Equal(Run.ToString(), published.RootElement.GetProperty("backtestId").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(EveryType))]
    public void A_line_of_every_type_naming_another_backtest_is_dropped_and_counted(string type, string data)
    {
        var reader = new WorkerLineReader(Run);

        Assert.Null(reader.Read(Line(type, data, Other)));
        Assert.Null(reader.Read(Line(type, data, Other)));

        Assert.Equal((2, 0), (reader.ForeignIdLines, reader.MalformedLines));
    }

    [Fact]
    public void A_completion_line_is_recognised_but_its_forged_summary_is_never_read()
    {
        var forged = Line(MessageTypes.Complete,
            """{"status":"completed","executionTime":1,"summary":{"totalTrades":999999,"finalBalance":1e300,"totalReturn":1e9,"maxDrawdown":0},"resultsUrl":"https://evil.example","partial":false}""");

        var line = new WorkerLineReader(Run).Read(forged);

        Assert.NotNull(line);
        Assert.Null(line.Data);
        Assert.Equal("", line.Json);
    }

    /// <summary>Every hostile shape of line the reader must drop as not the contract.</summary>
    public static TheoryData<string, string> Hostile => new()
    {
        { "not JSON", "hello from the strategy" },
        { "truncated JSON", Line(MessageTypes.Progress, ProgressData)[..50] },
        { "a JSON array", "[1,2,3]" },
        { "a JSON string", "\"backtest_progress\"" },
        { "no id", $$"""{"type":"backtest_progress","timestamp":"2026-01-01T00:00:00Z","data":{{ProgressData}}}""" },
        { "no type", $$"""{"backtestId":"{{Run}}","timestamp":"2026-01-01T00:00:00Z","data":{{ProgressData}}}""" },
        { "data not an object", Line(MessageTypes.Progress, "[]") },
        { "an unknown type", Line("backtest_takeover", ProgressData) },
        { "an unknown envelope field", Line(MessageTypes.Progress, ProgressData)[..^1] + ""","extra":1}""" },
        { "an unknown data field", Line(MessageTypes.Equity, """{"dates":[],"equity":[],"drawdown":[],"admin":true}""") },
        { "a duplicate id key", $$"""{"type":"backtest_progress","backtestId":"{{Other}}","backtestId":"{{Run}}","timestamp":"2026-01-01T00:00:00Z","data":{{ProgressData}}}""" },
        { "a duplicate data key", Line(MessageTypes.Equity, """{"dates":[],"equity":[],"drawdown":[],"dates":["x"]}""") },
        { "a huge number for a count", Line(MessageTypes.Progress, ProgressData.Replace("\"processedBars\":10", "\"processedBars\":1e999", StringComparison.Ordinal)) },
        { "an integer past long", Line(MessageTypes.Progress, ProgressData.Replace("\"processedBars\":10", "\"processedBars\":99999999999999999999999", StringComparison.Ordinal)) },
        { "a double past its range", Line(MessageTypes.Progress, ProgressData.Replace("\"percentage\":42.5", "\"percentage\":1e400", StringComparison.Ordinal)) },
        { "NaN progress", Line(MessageTypes.Progress, ProgressData.Replace("\"percentage\":42.5", "\"percentage\":\"NaN\"", StringComparison.Ordinal)) },
        { "Infinity balance", Line(MessageTypes.Progress, ProgressData.Replace("\"currentBalance\":100500", "\"currentBalance\":\"Infinity\"", StringComparison.Ordinal)) },
        { "a percentage over 100", Line(MessageTypes.Progress, ProgressData.Replace("\"percentage\":42.5", "\"percentage\":4250", StringComparison.Ordinal)) },
        { "negative bars", Line(MessageTypes.Progress, ProgressData.Replace("\"processedBars\":10", "\"processedBars\":-10", StringComparison.Ordinal)) },
        { "NaN equity", Line(MessageTypes.Equity, """{"dates":["2016-01-04"],"equity":["NaN"],"drawdown":[0]}""") },
        { "uneven equity columns", Line(MessageTypes.Equity, """{"dates":["2016-01-04","2016-01-05"],"equity":[1],"drawdown":[0]}""") },
        { "a nesting depth bomb", Line(MessageTypes.Trade, new string('[', 5000) + new string(']', 5000)) },
        { "a nesting bomb in an unknown field", Line(MessageTypes.Equity, """{"dates":[],"equity":[],"drawdown":[],"x":""" + new string('[', 100) + new string(']', 100) + "}") },
        { "a raw control character", Line(MessageTypes.Error, "{\"errorType\":\"execution\",\"errorMessage\":\"a\u0007b\",\"errorDetails\":null}") },
        { "a raw NUL", Line(MessageTypes.Progress, ProgressData) + "\0" },
        { "non-ASCII text", Line(MessageTypes.Error, """{"errorType":"execution","errorMessage":"é","errorDetails":null}""") },
        { "a null trade list", Line(MessageTypes.Trade, """{"trades":null}""") },
        { "an error without details shape", Line(MessageTypes.Error, """{"errorType":"execution","errorMessage":"x","errorDetails":[]}""") },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_line_is_dropped_and_counted_as_malformed(string what, string line)
    {
        var reader = new WorkerLineReader(Run);

        Assert.True(reader.Read(line) is null, what);

        Assert.Equal((0, 1), (reader.ForeignIdLines, reader.MalformedLines));
        Assert.False(string.IsNullOrEmpty(reader.LastRejection));
    }

    [Fact]
    public void Invalid_UTF8_decoded_by_the_splitter_is_dropped_as_malformed()
    {
        var reader = new WorkerLineReader(Run);
        var bytes = Encoding.ASCII.GetBytes(Line(MessageTypes.Error, """{"errorType":"execution","errorMessage":"AB","errorDetails":null}""") + "\n");
        bytes[Array.IndexOf(bytes, (byte)'A')] = 0xC3; // a lead byte followed by an ASCII letter: invalid
        bytes[Array.IndexOf(bytes, (byte)'B')] = 0xFF;
        var lines = new List<string>();

        new BoundedLineSplitter(1024, lines.Add).Add(bytes);

        Assert.Null(reader.Read(Assert.Single(lines)));
        Assert.Equal(1, reader.MalformedLines);
    }

    [Fact]
    public void The_published_line_carries_only_the_contract_not_what_the_worker_added()
    {
        var reader = new WorkerLineReader(Run);
        var line = reader.Read(Line(MessageTypes.Progress, ProgressData.Replace("\"processedBars\":10", "\"processedBars\":10.0", StringComparison.Ordinal)))
            ?? reader.Read(Line(MessageTypes.Progress, ProgressData));

        Assert.NotNull(line);
        using var published = JsonDocument.Parse(line.Json);
        Assert.Equal(["type", "backtestId", "timestamp", "data"], published.RootElement.EnumerateObject().Select(p => p.Name));
        var progress = Assert.IsType<BacktestProgressData>(line.Data);
        Assert.Equal(42.5, progress.Progress.Percentage);
    }

    [Fact]
    public void A_worker_error_is_truncated_before_it_is_stored_and_its_unknown_type_becomes_execution()
    {
        var huge = new string('x', 1_000_000);
        var reader = new WorkerLineReader(Run);
        var validation = string.Join(',', Enumerable.Repeat("{\"field\":\"" + huge[..1000] + "\",\"rule\":\"r\",\"message\":\"m\"}", 500));
        var data = "{\"errorType\":\"root\",\"errorMessage\":\"" + huge + "\",\"errorDetails\":{\"stackTrace\":\"" + huge +
            "\",\"failedAtDate\":\"" + huge + "\",\"failedInstrument\":\"" + huge + "\",\"recoverable\":true,\"validationErrors\":[" + validation + "]}}";

        var error = Assert.IsType<BacktestErrorData>(reader.Read(Line(MessageTypes.Error, data))?.Data);

        Assert.Equal(ErrorTypes.Execution, error.ErrorType);
        Assert.Equal(WorkerLineReader.MaxErrorMessageChars, error.ErrorMessage.Length);
        Assert.Equal(WorkerLineReader.MaxStackTraceChars, error.ErrorDetails!.StackTrace!.Length);
        Assert.Equal(WorkerLineReader.MaxErrorFieldChars, error.ErrorDetails.FailedAtDate!.Length);
        Assert.Equal(WorkerLineReader.MaxErrorFieldChars, error.ErrorDetails.FailedInstrument!.Length);
        Assert.Equal(WorkerLineReader.MaxValidationErrors, error.ErrorDetails.ValidationErrors!.Count);
        Assert.All(error.ErrorDetails.ValidationErrors, v => Assert.True(v.Field.Length <= WorkerLineReader.MaxErrorFieldChars));
    }

    [Fact]
    public void Every_error_type_of_the_contract_is_kept_as_the_worker_reported_it()
    {
        foreach (var type in new[] { ErrorTypes.Validation, ErrorTypes.Execution, ErrorTypes.Data, ErrorTypes.Timeout, ErrorTypes.Memory })
        {
            var line = new WorkerLineReader(Run).Read(Line(MessageTypes.Error, $$"""{"errorType":"{{type}}","errorMessage":"m","errorDetails":null}"""));

            Assert.Equal(type, Assert.IsType<BacktestErrorData>(line?.Data).ErrorType);
        }
    }
}
