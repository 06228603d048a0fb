using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Tests.Optimization;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Worker;

/// <summary>
/// A data folder missing any one file a SPY daily run reads: a backtest and an optimization batch agree, never crash.
/// Without a required file (the market-hours database, the instrument's bars) both report it on stdout (a data error,
/// or the refusal that names what is missing) with one of the worker's exit codes; without an optional one (the factor
/// file: prices are then raw, as for an equity with no known corporate action; the listings and symbol properties:
/// defaults) both complete. No "Unhandled exception" ever reaches stderr.
/// </summary>
public class IncompleteDataFolderTests
{
    /// <summary>Every file of the smallest folder a SPY daily run can use, relative to the data root.</summary>
    private static IReadOnlyList<string> Files { get; } =
    [
        "market-hours/market-hours-database.json", "equity/usa/daily/spy.zip", "equity/usa/factor_files/spy.csv",
        "equity/usa/primary-listings.csv",
        .. Directory.GetFiles(TestPaths.Lean("symbol-properties")).Select(f => "symbol-properties/" + Path.GetFileName(f)),
    ];

    /// <summary>The files without which a run cannot go on.</summary>
    private static readonly HashSet<string> Required = ["market-hours/market-hours-database.json", "equity/usa/daily/spy.zip"];

    public static TheoryData<string> Missing => [.. Files];

    private static string FolderWithout(TempFolder temp, string missing)
    {
        var root = temp.File("data");
        foreach (var relative in Files.Where(f => f != missing))
        {
            var target = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(TestPaths.Lean(relative.Split('/')), target);
        }

        return root;
    }

    private const string Backtest = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2019-01-02","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000,
         "dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"}}
        """;

    [Fact]
    public void The_full_folder_runs_both()
    {
        using var temp = new TempFolder();
        var root = FolderWithout(temp, "");
        var (backtest, _, backtestErrors) = RunBacktest(temp, root);
        Assert.True(backtest == ExitCodes.Completed, backtestErrors);
        var (batch, _, batchErrors) = RunBatch(temp, root);
        Assert.True(batch == ExitCodes.Completed, batchErrors);
    }

    [Theory]
    [MemberData(nameof(Missing))]
    public void A_backtest_without_a_file_reports_it_or_completes(string missing)
    {
        using var temp = new TempFolder();
        var (code, lines, stderr) = RunBacktest(temp, FolderWithout(temp, missing));
        AssertOutcome(code, lines, stderr, MessageTypes.Error, missing);
    }

    [Theory]
    [MemberData(nameof(Missing))]
    public void An_optimization_batch_without_a_file_reports_it_or_completes(string missing)
    {
        using var temp = new TempFolder();
        var (code, lines, stderr) = RunBatch(temp, FolderWithout(temp, missing));
        AssertOutcome(code, lines, stderr, OptimizationMessageTypes.BatchError, missing);
    }

    private static (int, IReadOnlyList<string>, string) RunBacktest(TempFolder temp, string root)
    {
        var config = temp.File("config.json");
        File.WriteAllText(config, Backtest);
        return WorkerProcess.Run("--config", config, "--output", temp.File("out"), "--data", root);
    }

    private static (int, IReadOnlyList<string>, string) RunBatch(TempFolder temp, string root)
    {
        var job = Job(GridJob, ("baseConfig", Backtest.Replace("\"fastPeriod\":10,\"slowPeriod\":30", "\"maType\":\"SMA\"")),
            ("parameters", """{"fastPeriod":{"values":[5,10]},"slowPeriod":{"values":[30]}}"""));
        var batch = new OptimizationBatch
        {
            OptimizationId = "opt-incomplete",
            Batch = 0,
            Config = job,
            Trials = Plan(job).CreateMethod().Propose([], [], 2).Select(p => new BatchTrial { Trial = p.Trial, Parameters = new(p.Parameters) }).ToList(),
        };
        var path = temp.File("batch.json");
        File.WriteAllText(path, JsonSerializer.Serialize(batch, JsonDefaults.Options));
        return WorkerProcess.Run("optimize-batch", "--batch", path, "--output", temp.File("batch-out"), "--data", root);
    }

    private static void AssertOutcome(int code, IReadOnlyList<string> lines, string stderr, string errorType, string missing)
    {
        Assert.DoesNotContain("Unhandled exception", stderr);
        if (!Required.Contains(missing))
        {
            Assert.True(code == ExitCodes.Completed, $"without the optional {missing}: exit {code}; stderr: {stderr}");
            return;
        }

        Assert.True(code is ExitCodes.Failed or ExitCodes.InvalidConfig, $"without {missing}: exit {code}; stderr: {stderr}");
        var error = lines.LastOrDefault(l => WorkerProcess.TypeOf(l) == errorType);
        Assert.True(error is not null, $"without {missing}: no {errorType} line; stdout: {string.Join('\n', lines)}");
        Assert.False(string.IsNullOrWhiteSpace(WorkerProcess.Parse(error).GetProperty("data").GetProperty("errorMessage").GetString()));
    }
}
