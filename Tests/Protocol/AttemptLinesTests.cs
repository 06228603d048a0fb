using System.Text.Json;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Protocol;

namespace Backtesting.Tests.Protocol;

/// <summary>An attempt's stdout read into the events its supervisor acts on.</summary>
public sealed class AttemptLinesTests
{
    private static readonly Guid Run = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly Guid Other = Guid.Parse("99999999-2222-3333-4444-555555555555");

    private const string ProgressData =
        """{"progress":{"percentage":42.5,"currentDate":"2016-03-01","processedBars":10,"totalBars":20,"estimatedTimeRemaining":1.5,"processingRate":100},"statistics":{"tradesExecuted":3,"currentBalance":100500,"unrealizedPnl":12,"drawdown":0.01},"performance":{"memoryUsage":50,"cpuUsage":90,"diskIO":0}}""";

    private static string Line(string type, string data, Guid? id = null) =>
        $$"""{"type":"{{type}}","backtestId":"{{id ?? Run}}","timestamp":"2026-01-01T00:00:00Z","data":{{data}}}""";

    private static AttemptLines Lines(int max = 1 << 20) => new(Run, max);

    [Fact]
    public void A_line_longer_than_the_limit_breaks_the_protocol() =>
        Assert.Throws<WorkerProtocolException>(() => Lines(100).Read(new string(' ', 101), null));

    [Fact]
    public void Progress_is_kept_and_published_as_the_worker_reported_it_when_nothing_was_measured()
    {
        var progress = Assert.IsType<WorkerEvent.Progress>(Lines().Read(Line(MessageTypes.Progress, ProgressData), null));

        Assert.Equal((42.5, 50.0), (progress.Data.Progress.Percentage, progress.Data.Performance.MemoryUsage));
        Assert.Equal((Run, MessageTypes.Progress), (progress.Event.BacktestId, progress.Event.Type));
    }

    [Fact]
    public void Measured_resources_replace_the_workers_own_figures_in_the_kept_and_published_progress()
    {
        var measured = new ResourceUsage(DateTime.UtcNow, CpuPercent: 150, MemoryMb: 300, MemoryLimitMb: 512, 0, 0, BlockIoMbPerSecond: 7, 1);

        var progress = Assert.IsType<WorkerEvent.Progress>(Lines().Read(Line(MessageTypes.Progress, ProgressData), measured));

        Assert.Equal(new PerformanceInfo(300, 150, 7), progress.Data.Performance);
        using var published = JsonDocument.Parse(progress.Event.Json);
        Assert.Equal(300, published.RootElement.GetProperty("data").GetProperty("performance").GetProperty("memoryUsage").GetDouble());
    }

    [Fact]
    public void An_error_is_kept_and_published()
    {
        var error = Assert.IsType<WorkerEvent.Error>(Lines().Read(
            Line(MessageTypes.Error, """{"errorType":"execution","errorMessage":"boom","errorDetails":null}"""), null));

        Assert.Equal("boom", error.Data.ErrorMessage);
        Assert.Equal(MessageTypes.Error, error.Event.Type);
    }

    [Theory]
    [InlineData(MessageTypes.Trade, """{"trades":[]}""")]
    [InlineData(MessageTypes.Equity, """{"dates":["2016-01-04"],"equity":[100000],"drawdown":[0]}""")]
    public void Trades_and_equity_are_published_as_they_are(string type, string data) =>
        Assert.Equal(type, Assert.IsType<WorkerEvent.Published>(Lines().Read(Line(type, data), null)).Event.Type);

    [Fact]
    public void A_completion_line_is_recognised_and_changes_nothing() =>
        Assert.IsType<WorkerEvent.Completion>(Lines().Read(Line(MessageTypes.Complete, """{"status":"completed"}"""), null));

    [Fact]
    public void A_timings_line_is_a_diagnostic_neither_published_nor_an_error()
    {
        var lines = Lines();

        var diagnostic = Assert.IsType<WorkerEvent.Diagnostic>(lines.Read(Line(MessageTypes.Timings,
            """{"startupMs":120.5,"dataMs":40,"engineMs":300.25,"resultsMs":12,"totalMs":480}"""), null));

        Assert.Equal(new BacktestTimingsData(120.5, 40, 300.25, 12, 480), diagnostic.Timings);
        Assert.Equal((0, 0), (lines.Reader.ForeignIdLines, lines.Reader.MalformedLines));
    }

    [Fact]
    public void A_timings_line_with_the_jits_figures_is_a_diagnostic_too()
    {
        var lines = Lines();

        var diagnostic = Assert.IsType<WorkerEvent.Diagnostic>(lines.Read(Line(MessageTypes.Timings,
            """{"startupMs":120.5,"dataMs":40,"engineMs":300.25,"resultsMs":12,"totalMs":480,"startupJitMethods":310,"startupJitMs":95.5,"jitMethods":402,"jitMs":130.25}"""), null));

        Assert.Equal(new BacktestTimingsData(120.5, 40, 300.25, 12, 480, 310, 95.5, 402, 130.25), diagnostic.Timings);
        Assert.Equal(0, lines.Reader.MalformedLines);
    }

    [Theory]
    [InlineData("""{"startupMs":-1,"dataMs":40,"engineMs":300,"resultsMs":12,"totalMs":480}""")]
    [InlineData("""{"startupMs":"soon","dataMs":40,"engineMs":300,"resultsMs":12,"totalMs":480}""")]
    [InlineData("""{"startupMs":1,"dataMs":40,"engineMs":300,"resultsMs":12,"totalMs":480,"startupJitMethods":-1}""")]
    [InlineData("""{"startupMs":1,"dataMs":40,"engineMs":300,"resultsMs":12,"totalMs":480,"startupJitMs":-0.5}""")]
    [InlineData("""{"startupMs":1,"dataMs":40,"engineMs":300,"resultsMs":12,"totalMs":480,"jitMethods":-3}""")]
    [InlineData("""{"startupMs":1,"dataMs":40,"engineMs":300,"resultsMs":12,"totalMs":480,"jitMs":"NaN"}""")]
    [InlineData("""{"startupMs":1,"dataMs":40,"engineMs":300,"resultsMs":12,"totalMs":480,"jitMs":"Infinity"}""")]
    [InlineData("[]")]
    public void A_timings_line_out_of_shape_is_dropped_like_any_malformed_line(string data)
    {
        var lines = Lines();

        Assert.IsType<WorkerEvent.Dropped>(lines.Read(Line(MessageTypes.Timings, data), null));
        Assert.Equal(1, lines.Reader.MalformedLines);
    }

    [Fact]
    public void Only_the_first_dropped_line_of_each_kind_is_marked_for_the_log()
    {
        var lines = Lines();

        var firsts = new[] { "not json", Line(MessageTypes.Progress, ProgressData, Other), "still not json", Line(MessageTypes.Progress, ProgressData, Other) }
            .Select(line => Assert.IsType<WorkerEvent.Dropped>(lines.Read(line, null)).FirstOfItsKind);

        Assert.Equal([true, true, false, false], firsts);
        Assert.Equal((2, 2), (lines.Reader.ForeignIdLines, lines.Reader.MalformedLines));
    }
}
