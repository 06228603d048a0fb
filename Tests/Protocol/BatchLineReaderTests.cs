using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Protocol;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Protocol;

/// <summary>
/// A batch worker's lines read as hostile input: genuine lines of every type are accepted, with the trial judged by the
/// job's rules; every foreign, malformed or forged line is dropped and counted, never thrown.
/// </summary>
public class BatchLineReaderTests
{
    private static readonly Guid Job = Guid.Parse("6f1e8a52-9c1b-4b0e-a7f2-3d9c0e4b5a61");
    private const int BatchNumber = 3;

    private static readonly Lazy<(OptimizationPlan Plan, TrialOutcome Trial)> Ran = new(() =>
    {
        var plan = Plan(Optimization.OptimizationFixtures.Job(GridJob));
        var point = plan.CreateMethod().Propose([], [], 1)[0];
        return (plan, new TrialRunner(plan, new PreloadedMarketData(Lean), StrategyCatalog.Templates).Run(point));
    });

    private static TrialOutcome Trial => Ran.Value.Trial;

    private static BatchLineReader Reader(TrialRules? rules = null) => new(Job, BatchNumber,
        new Dictionary<int, Dictionary<string, JsonElement>> { [Trial.Trial] = new(Trial.Parameters) }, rules ?? Ran.Value.Plan.Rules);

    private static string Line<T>(string type, T data, Guid? job = null, int batch = BatchNumber) =>
        JsonSerializer.Serialize(new OptimizationMessage<T>(type, (job ?? Job).ToString(), batch, DateTime.UtcNow, data), JsonDefaults.Options);

    private static OptimizationTrialData Data(TrialOutcome t) =>
        new(t.Trial, t.Parameters, t.Metrics, t.TradeCount, t.Feasible, t.InfeasibleReason, t.ContentHash, t.ObjectiveValue);

    private static string TrialLine(Func<JsonObject, JsonObject>? change = null)
    {
        var node = JsonNode.Parse(Line(OptimizationMessageTypes.Trial, Data(Trial)))!.AsObject();
        return (change?.Invoke(node) ?? node).ToJsonString();
    }

    [Fact]
    public void A_genuine_trial_line_becomes_its_row_with_metrics_returns_left_to_the_file()
    {
        var reader = Reader();
        var row = Assert.IsType<BatchLine.Trial>(reader.Read(TrialLine())).Row;
        Assert.Equal(Trial.Trial, row.TrialNumber);
        Assert.Equal(JsonSerializer.Serialize(Trial.Metrics, JsonDefaults.Options), row.MetricsJson);
        Assert.Equal(Trial.Feasible, row.Feasible);
        Assert.Equal(Trial.ObjectiveValue, row.Objective);
        Assert.Equal(Trial.TradeCount, row.TotalTrades);
        Assert.Equal(Trial.ContentHash, row.ContentHash);
        Assert.Null(row.DailyReturns);
        Assert.Equal(0, reader.Dropped);
    }

    [Fact]
    public void Feasibility_and_objective_are_the_jobs_rules_not_what_the_line_claims()
    {
        // The job demands more trades than the trial made: infeasible, whatever the line says.
        var strict = Ran.Value.Plan.Rules with { Constraints = [new Constraint("totalTrades", ConstraintOp.Above, Trial.Metrics!.TotalTrades)] };
        var row = Assert.IsType<BatchLine.Trial>(Reader(strict).Read(TrialLine())).Row;
        Assert.False(row.Feasible);
        Assert.StartsWith("constraint: totalTrades", row.InfeasibleReason, StringComparison.Ordinal);
        Assert.Null(row.Objective);

        var lying = TrialLine(n =>
        {
            n["data"]!["objective"] = 99.0;
            n["data"]!["feasible"] = false;
            n["data"]!["infeasibleReason"] = "made up";
            return n;
        });
        var honest = Assert.IsType<BatchLine.Trial>(Reader().Read(lying)).Row;
        Assert.Equal(Trial.ObjectiveValue, honest.Objective);
        Assert.True(honest.Feasible);
        Assert.Null(honest.InfeasibleReason);
    }

    [Fact]
    public void A_trial_that_did_not_run_keeps_the_workers_reason_and_no_metrics()
    {
        var refused = Data(Trial) with { Metrics = null, Feasible = false, InfeasibleReason = "strategy rule: fastPeriod must be below slowPeriod", Objective = null };
        var row = Assert.IsType<BatchLine.Trial>(Reader().Read(Line(OptimizationMessageTypes.Trial, refused))).Row;
        Assert.False(row.Feasible);
        Assert.Null(row.MetricsJson);
        Assert.Null(row.TotalTrades);
        Assert.Equal(refused.InfeasibleReason, row.InfeasibleReason);
    }

    [Fact]
    public void Progress_completion_and_error_lines_are_read_and_error_texts_cut()
    {
        var reader = Reader();
        Assert.IsType<BatchLine.Progress>(reader.Read(Line(OptimizationMessageTypes.BatchProgress, new OptimizationBatchProgressData(1, 2, 0, 3.5, 0.3))));
        Assert.IsType<BatchLine.Complete>(reader.Read(Line(OptimizationMessageTypes.BatchComplete, new OptimizationBatchCompleteData(1, 0, 1, 0.3, 3.3, false))));
        var error = Assert.IsType<BatchLine.Error>(reader.Read(Line(OptimizationMessageTypes.BatchError,
            new BacktestErrorData("nonsense", new string('x', 5000), null))));
        Assert.Equal(ErrorTypes.Execution, error.Data.ErrorType);
        Assert.Equal(WorkerLineReader.MaxErrorMessageChars, error.Data.ErrorMessage.Length);
        Assert.Equal(0, reader.Dropped);
    }

    [Fact]
    public void Lines_of_another_job_or_batch_are_dropped_as_foreign()
    {
        var reader = Reader();
        Assert.Null(reader.Read(Line(OptimizationMessageTypes.Trial, Data(Trial), job: Guid.NewGuid())));
        Assert.Null(reader.Read(Line(OptimizationMessageTypes.Trial, Data(Trial), batch: BatchNumber + 1)));
        Assert.Equal(2, reader.ForeignLines);
        Assert.Equal(0, reader.MalformedLines);
    }

    public static TheoryData<string, string> Hostile()
    {
        var genuine = TrialLine();
        var data = new TheoryData<string, string>
        {
            { "empty", "" },
            { "not json", "hello" },
            { "an array", "[1,2]" },
            { "not printable ASCII", genuine.Replace("\"type\"", "\"typ\u00e9\"", StringComparison.Ordinal) },
            { "a raw control character", genuine.Replace(",", ",\u0001", StringComparison.Ordinal) },
            { "a duplicate key", genuine.Replace("{\"type\":", "{\"type\":\"x\",\"type\":", StringComparison.Ordinal) },
            { "an unknown envelope field", TrialLine(n => { n["extra"] = 1; return n; }) },
            { "no batch", TrialLine(n => { n.Remove("batch"); return n; }) },
            { "data not an object", TrialLine(n => { n["data"] = "x"; return n; }) },
            { "an unknown type", TrialLine(n => { n["type"] = "optimization_magic"; return n; }) },
            { "a trial not of the batch", TrialLine(n => { n["data"]!["trial"] = 999; return n; }) },
            { "a changed parameter value", TrialLine(n => { n["data"]!["parameters"]!["fastPeriod"] = 6; return n; }) },
            { "an extra parameter", TrialLine(n => { n["data"]!["parameters"]!["allowShort"] = true; return n; }) },
            { "a missing parameter", TrialLine(n => { n["data"]!["parameters"]!.AsObject().Remove("slowPeriod"); return n; }) },
            { "a NaN metric", TrialLine(n => { n["data"]!["metrics"]!["sharpeRatio"] = "NaN"; return n; }) },
            { "an infinite metric", TrialLine(n => { n["data"]!["metrics"]!["totalReturn"] = "Infinity"; return n; }) },
            { "a negative trade count", TrialLine(n => { n["data"]!["tradeCount"] = -1; return n; }) },
            { "feasible without metrics", TrialLine(n => { n["data"]!["metrics"] = null; return n; }) },
            { "an unknown metric", TrialLine(n => { n["data"]!["metrics"]!["luck"] = 1; return n; }) },
            { "a progress rate that is not finite", Line(OptimizationMessageTypes.BatchProgress, new { trialsDone = 1, trialsTotal = 2, trialsSkipped = 0, trialsPerSecond = "NaN", elapsedSeconds = 1 }) },
            { "a negative progress count", Line(OptimizationMessageTypes.BatchProgress, new OptimizationBatchProgressData(-1, 2, 0, 1, 1)) },
            { "nesting past the contract", TrialLine(n => { n["data"]!["parameters"]!["fastPeriod"] = JsonNode.Parse("[[[[[[[[[[1]]]]]]]]]]"); return n; }) },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_line_is_dropped_and_counted_never_thrown(string what, string line)
    {
        var reader = Reader();
        Assert.Null(reader.Read(line));
        Assert.Equal(1, reader.MalformedLines);
        Assert.NotNull(reader.LastRejection);
        Assert.True(reader.LastRejection!.Length <= WorkerLineReader.MaxErrorFieldChars, what);
    }
}
