using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Protocol;

namespace Backtesting.Tests.Protocol;

/// <summary>results.json is the only source of a run's results and summary, and only once it passes every check.</summary>
public sealed class ResultsFileTests : IDisposable
{
    private const string Config = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"startDate":"2016-01-01",
         "endDate":"2016-06-30","instruments":["SPY"],"initialBalance":100000}
        """;

    private static readonly Lazy<(BacktestResult Result, string Json)> Real = new(() =>
    {
        var data = new LeanDataProvider(TestPaths.LeanData);
        var validation = ConfigValidator.Validate(ConfigValidator.Parse(Config).Config!, data, StrategyCatalog.Templates,
            ValidationPolicy.Service, new DateOnly(2026, 11, 24));
        var result = new BacktestRun(validation.Spec!, data, StrategyCatalog.Templates).Execute();
        return (result, JsonSerializer.Serialize(result, JsonDefaults.Options));
    });

    private readonly TempFolder _temp = new();

    private string Write(string json)
    {
        var path = _temp.File(WorkerFiles.Results);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task A_real_run_s_results_pass_and_its_summary_comes_from_them()
    {
        var (expected, json) = Real.Value;

        var result = await ResultsFile.ReadAsync(Write(json), expected.ContentHash, ResultsFile.DefaultMaxBytes, whole: true);

        Assert.NotNull(result);
        Assert.Equal(expected.Summary.FinalBalance, ResultsFile.SummaryOf(result).FinalBalance);
        Assert.Equal(expected.Summary.TotalTrades, ResultsFile.SummaryOf(result).TotalTrades);
    }

    [Fact]
    public async Task Missing_results_are_none_rather_than_an_error()
    {
        Assert.Null(await ResultsFile.ReadAsync(_temp.File("absent.json"), "h", ResultsFile.DefaultMaxBytes, whole: true));
    }

    /// <summary>Every way results.json can fail to be this run's whole, well-formed results, and the words that say so.</summary>
    public static TheoryData<string, string> Broken => new()
    {
        { "another run's content hash", "belongs to another run" },
        { "a duplicate key", "does not match the results contract" },
        { "an unknown field", "does not match the results contract" },
        { "not JSON", "does not match the results contract" },
        { "no summary", "no summary" },
        { "partial for a completed run", "marked partial" },
        { "over the size limit", "Backtesting:MaxResultsBytes" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Results_that_are_not_this_runs_whole_results_are_refused_naming_the_rule(string what, string message)
    {
        var (expected, json) = Real.Value;
        var node = JsonNode.Parse(json)!.AsObject();
        var maxBytes = ResultsFile.DefaultMaxBytes;
        var text = what switch
        {
            "another run's content hash" => Set(node, "contentHash", "0000"),
            "a duplicate key" => json[..^1] + ",\"summary\":" + node["summary"]!.ToJsonString() + "}",
            "an unknown field" => Set(node, "forgedBonus", 1e9),
            "not JSON" => "{\"summary\":",
            "no summary" => Set(node, "summary", null),
            "partial for a completed run" => Set(node, "partial", true),
            _ => json,
        };
        if (what == "over the size limit")
        {
            maxBytes = json.Length - 1;
        }

        var refused = await Assert.ThrowsAsync<WorkerProtocolException>(() =>
            ResultsFile.ReadAsync(Write(text), expected.ContentHash, maxBytes, whole: true));

        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Partial_results_of_a_stopped_run_are_accepted_as_partial()
    {
        var (expected, json) = Real.Value;

        var result = await ResultsFile.ReadAsync(Write(Set(JsonNode.Parse(json)!.AsObject(), "partial", true)), expected.ContentHash,
            ResultsFile.DefaultMaxBytes, whole: false);

        Assert.True(result!.Partial);
    }

    private static string Set(JsonObject node, string name, JsonNode? value)
    {
        node[name] = value;
        return node.ToJsonString();
    }

    public void Dispose() => _temp.Dispose();
}
