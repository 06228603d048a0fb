using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;
using Backtesting.Tests.Worker;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// The worker's optimize-batch command as a process: a line per trial equal to the in-process runner's, progress, the
/// checkpoint and the returns file; a resumed batch prints no trial twice and stores no returns twice; hostile batches are
/// refused naming the field.
/// </summary>
public class OptimizeBatchWorkerTests
{
    private static readonly string ShortBase = BaseConfig.Replace("2016-01-01", "2019-01-01");

    private static (OptimizationBatch Batch, OptimizationPlan Plan) Batch(int trials = 12)
    {
        var job = Job(GridJob, ("baseConfig", ShortBase),
            ("parameters", """{"fastPeriod":{"values":[40,5,10,15,20,25,30,35,45,50]},"slowPeriod":{"values":[30,60,90]}}"""));
        var plan = Plan(job);
        var points = plan.CreateMethod().Propose([], [], trials);
        var batch = new OptimizationBatch
        {
            OptimizationId = "opt-1",
            Batch = 3,
            Config = job,
            Trials = points.Select(p => new BatchTrial { Trial = p.Trial, Parameters = new(p.Parameters) }).ToList(),
        };
        return (batch, plan);
    }

    private static string Write(TempFolder temp, OptimizationBatch batch) => WriteText(temp, JsonSerializer.Serialize(batch, JsonDefaults.Options));

    private static string WriteText(TempFolder temp, string json)
    {
        var path = temp.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string[] Args(string batch, string output) => ["optimize-batch", "--batch", batch, "--output", output, "--data", TestPaths.LeanData];

    private static List<JsonElement> Data(IEnumerable<string> lines, string type) =>
        lines.Where(l => WorkerProcess.TypeOf(l) == type).Select(l => WorkerProcess.Parse(l).GetProperty("data")).ToList();

    private static List<int> TrialNumbers(IEnumerable<string> lines) =>
        Data(lines, OptimizationMessageTypes.Trial).Select(d => d.GetProperty("trial").GetInt32()).ToList();

    [Fact]
    public void A_batch_prints_each_trial_once_equal_to_the_in_process_runner_and_checkpoints_every_one()
    {
        using var temp = new TempFolder();
        var (batch, plan) = Batch();
        var output = temp.File("run");
        var (code, lines, stderr) = WorkerProcess.Run(Args(Write(temp, batch), output));
        Assert.True(code == ExitCodes.Completed, stderr);

        var trials = Data(lines, OptimizationMessageTypes.Trial);
        Assert.Equal(batch.Trials.Select(t => t.Trial), trials.Select(t => t.GetProperty("trial").GetInt32()));
        Assert.All(lines, l => Assert.Equal("opt-1", WorkerProcess.Parse(l).GetProperty("optimizationId").GetString()));
        var runner = new TrialRunner(plan, new PreloadedMarketData(Lean), StrategyCatalog.Templates);
        foreach (var (line, trial) in trials.Zip(batch.Trials))
        {
            var expected = runner.Run(new TrialPoint(trial.Trial, trial.Parameters));
            Assert.Equal(expected.Feasible, line.GetProperty("feasible").GetBoolean());
            Assert.Equal(expected.TradeCount, line.GetProperty("tradeCount").GetInt32());
            Assert.Equal(expected.ContentHash, line.GetProperty("contentHash").GetString());
            Assert.Equal(JsonSerializer.Serialize(expected.Metrics, JsonDefaults.Options), line.GetProperty("metrics").GetRawText());
            if (!expected.Feasible)
            {
                Assert.Equal(expected.InfeasibleReason, line.GetProperty("infeasibleReason").GetString());
            }
        }

        // fast >= slow, (40, 30): infeasible, reported with the rule, not run.
        Assert.Contains(trials, t => !t.GetProperty("feasible").GetBoolean() && t.GetProperty("metrics").ValueKind == JsonValueKind.Null);

        var progress = Data(lines, OptimizationMessageTypes.BatchProgress);
        Assert.Equal(batch.Trials.Count, progress[^1].GetProperty("trialsDone").GetInt32());
        Assert.True(progress[^1].GetProperty("trialsPerSecond").GetDouble() > 0);
        var complete = Assert.Single(Data(lines, OptimizationMessageTypes.BatchComplete));
        Assert.False(complete.GetProperty("stopped").GetBoolean());
        Assert.Equal(OptimizationMessageTypes.BatchComplete, WorkerProcess.TypeOf(lines[^1]));

        Assert.Equal(batch.Trials.Select(t => $"{t.Trial}\n"), File.ReadAllLines(Path.Combine(output, OptimizationFiles.TrialsDone)).Select(l => l + "\n"));
        using var returns = File.OpenRead(Path.Combine(output, OptimizationFiles.TrialReturns));
        var records = TrialReturns.Read(returns).ToList();
        Assert.Equal(batch.Trials.Select(t => t.Trial), records.Select(r => r.Trial));
        Assert.Equal(returns.Length, records[^1].End);
        foreach (var (record, trial) in records.Zip(batch.Trials))
        {
            var expected = runner.Run(new TrialPoint(trial.Trial, trial.Parameters));
            Assert.Equal(expected.DailyReturns.Select(r => (float)r), record.Returns);
        }
    }

    [Fact]
    public void A_batch_through_the_bar_cache_prints_the_same_trials_as_one_reading_the_zips_and_leaves_the_entries_it_built()
    {
        using var temp = new TempFolder();
        var (batch, _) = Batch(trials: 6);
        var file = Write(temp, batch);
        var cache = temp.File("cache");

        var (offCode, offLines, offErrors) = WorkerProcess.Run([.. Args(file, temp.File("off")), "--bar-cache", "off"]);
        var (cachedCode, cachedLines, cachedErrors) = WorkerProcess.Run([.. Args(file, temp.File("cold")), "--bar-cache", cache]);
        var (warmCode, warmLines, warmErrors) = WorkerProcess.Run([.. Args(file, temp.File("warm")), "--bar-cache", cache, "--bar-cache-read-only"]);

        Assert.True(offCode == ExitCodes.Completed, offErrors);
        Assert.True(cachedCode == ExitCodes.Completed, cachedErrors);
        Assert.True(warmCode == ExitCodes.Completed, warmErrors);
        var expected = Data(offLines, OptimizationMessageTypes.Trial).Select(t => t.GetRawText()).ToList();
        Assert.Equal(batch.Trials.Count, expected.Count);
        Assert.Equal(expected, Data(cachedLines, OptimizationMessageTypes.Trial).Select(t => t.GetRawText()));
        Assert.Equal(expected, Data(warmLines, OptimizationMessageTypes.Trial).Select(t => t.GetRawText()));
        Assert.NotEmpty(Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_batch_resumed_from_a_killed_runs_files_runs_only_what_is_missing_and_ends_with_the_same_files()
    {
        using var temp = new TempFolder();
        var (batch, _) = Batch();
        var path = Write(temp, batch);
        var whole = temp.File("whole");
        Assert.Equal(ExitCodes.Completed, WorkerProcess.Run(Args(path, whole)).ExitCode);
        var doneBytes = File.ReadAllBytes(Path.Combine(whole, OptimizationFiles.TrialsDone));
        var returnBytes = File.ReadAllBytes(Path.Combine(whole, OptimizationFiles.TrialReturns));

        // What a run killed in the middle of trial 5 of the batch leaves: four trials checkpointed, a fifth number torn
        // mid-write, and the returns of the fifth trial and a torn sixth record (its line may have been printed).
        const int kept = 4;
        using (var stream = new MemoryStream(returnBytes))
        {
            var records = TrialReturns.Read(stream).ToList();
            var killed = temp.File("killed");
            Directory.CreateDirectory(killed);
            var doneLines = File.ReadAllLines(Path.Combine(whole, OptimizationFiles.TrialsDone));
            File.WriteAllText(Path.Combine(killed, OptimizationFiles.TrialsDone), string.Concat(doneLines.Take(kept).Select(l => l + "\n")) + "1");
            var cut = (int)records[kept].End + 6;
            File.WriteAllBytes(Path.Combine(killed, OptimizationFiles.TrialReturns), returnBytes[..cut]);

            var (code, lines, stderr) = WorkerProcess.Run(Args(path, killed));
            Assert.True(code == ExitCodes.Completed, stderr);
            Assert.Equal(batch.Trials.Skip(kept).Select(t => t.Trial), TrialNumbers(lines));
            var complete = Assert.Single(Data(lines, OptimizationMessageTypes.BatchComplete));
            Assert.Equal(kept, complete.GetProperty("trialsSkipped").GetInt32());
            Assert.Equal(doneBytes, File.ReadAllBytes(Path.Combine(killed, OptimizationFiles.TrialsDone)));
            Assert.Equal(returnBytes, File.ReadAllBytes(Path.Combine(killed, OptimizationFiles.TrialReturns)));
        }
    }

    [Fact]
    public void A_batch_stopped_by_a_signal_and_run_again_prints_every_trial_exactly_once()
    {
        using var temp = new TempFolder();
        var (batch, _) = Batch(trials: 30);
        var path = Write(temp, batch);
        var output = temp.File("run");
        var printed = new List<int>();
        using (var first = WorkerProcess.Start(Args(path, output)))
        {
            Assert.True(first.WaitForLine(l => WorkerProcess.TypeOf(l) == OptimizationMessageTypes.Trial, TimeSpan.FromMinutes(2)), first.Stderr);
            first.Signal("TERM");
            var code = first.WaitForExit(TimeSpan.FromMinutes(2));
            // Stopped between trials, or (on a fast machine) finished before the signal came.
            Assert.True(code is ExitCodes.Stopped or ExitCodes.Completed, first.Stderr);
            printed.AddRange(TrialNumbers(first.Lines));
        }

        var (again, lines, stderr) = WorkerProcess.Run(Args(path, output));
        Assert.True(again == ExitCodes.Completed, stderr);
        printed.AddRange(TrialNumbers(lines));
        Assert.Equal(batch.Trials.Select(t => t.Trial).Order(), printed.Order());
        using var returns = File.OpenRead(Path.Combine(output, OptimizationFiles.TrialReturns));
        Assert.Equal(batch.Trials.Select(t => t.Trial).Order(), TrialReturns.Read(returns).Select(r => r.Trial).Order());
    }

    [Fact]
    public void A_batch_whose_supervisor_dies_stops_between_trials_and_a_new_run_prints_the_rest_once()
    {
        using var temp = new TempFolder();
        var (batch, _) = Batch(trials: 30);
        var path = Write(temp, batch);
        var output = temp.File("run");
        var printed = new List<int>();
        using (var first = WorkerProcess.Start([.. Args(path, output), "--stop-on-stdin-close"]))
        {
            Assert.True(first.WaitForLine(l => WorkerProcess.TypeOf(l) == OptimizationMessageTypes.Trial, TimeSpan.FromMinutes(2)), first.Stderr);
            first.Signal("STOP");
            first.CloseStdin();
            first.Signal("CONT");
            var code = first.WaitForExit(TimeSpan.FromMinutes(2));
            Assert.True(code is ExitCodes.Stopped or ExitCodes.Completed, first.Stderr);
            printed.AddRange(TrialNumbers(first.Lines));
            if (code == ExitCodes.Stopped)
            {
                Assert.True(Data(first.Lines, OptimizationMessageTypes.BatchComplete).Single().GetProperty("stopped").GetBoolean());
            }
        }

        var (again, lines, stderr) = WorkerProcess.Run(Args(path, output));
        Assert.True(again == ExitCodes.Completed, stderr);
        printed.AddRange(TrialNumbers(lines));
        Assert.Equal(batch.Trials.Select(t => t.Trial).Order(), printed.Order());
    }

    public static TheoryData<string, string> HostileBatches()
    {
        var (batch, _) = Batch(trials: 3);
        string With(Func<OptimizationBatch, OptimizationBatch> change) => JsonSerializer.Serialize(change(batch), JsonDefaults.Options);
        BatchTrial Trial(int n, string parameters) => new() { Trial = n, Parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(parameters)! };
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 40)) + "1" + new string('}', 40);
        return new TheoryData<string, string>
        {
            { "{\"optimizationId\":", "$" },
            { "[]", "$" },
            { deep, StrictJson.Check(deep)!.Field },
            { With(b => b with { OptimizationId = "../../etc" }), "optimizationId" },
            { With(b => b with { Trials = [] }), "trials" },
            { With(b => b with { Trials = [b.Trials[0], b.Trials[0]] }), "trials[1].trial" },
            { With(b => b with { Trials = [Trial(-1, """{"fastPeriod":5,"slowPeriod":30}""")] }), "trials[0].trial" },
            { With(b => b with { Trials = [Trial(30, """{"fastPeriod":5,"slowPeriod":30}""")] }), "trials[0].trial" },
            { With(b => b with { Trials = [Trial(0, """{"fastPeriod":5,"slowPeriod":30,"sneaky":1}""")] }), "trials[0].parameters.sneaky" },
            { With(b => b with { Trials = [Trial(0, """{"fastPeriod":5}""")] }), "trials[0].parameters.slowPeriod" },
            { With(b => b with { Trials = [Trial(0, """{"fastPeriod":7,"slowPeriod":30}""")] }), "trials[0].parameters.fastPeriod" },
            { With(b => b with { Trials = [Trial(0, """{"fastPeriod":5,"slowPeriod":31}""")] }), "trials[0].parameters.slowPeriod" },
            { With(b => b with { Trials = [Trial(0, """{"fastPeriod":"5","slowPeriod":30}""")] }), "trials[0].parameters.fastPeriod" },
            { With(b => b with { Trials = [Trial(0, """{"fastPeriod":5e9,"slowPeriod":30}""")] }), "trials[0].parameters.fastPeriod" },
            { With(b => b with { Config = b.Config with { Method = "annealing" } }), "config.method" },
            { With(b => b with { Config = b.Config with { Objective = null! } }), "config.objective" },
            { With(b => b with { Config = b.Config with { Parameters = null! } }), "config.parameters" },
            { With(b => b with { Config = null! }), "config" },
            { With(b => b with { Trials = null! }), "trials" },
            { With(b => b with { Trials = [new BatchTrial { Trial = 0, Parameters = null! }] }), "trials[0]" },
            { With(b => b with { Config = WithBase(b.Config, ("instruments", """["NOPE"]""")) }), "config.baseConfig.instruments[0]" },
        };
    }

    [Theory]
    [MemberData(nameof(HostileBatches))]
    public void A_hostile_batch_is_refused_naming_the_field_and_runs_nothing(string json, string field)
    {
        using var temp = new TempFolder();
        var output = temp.File("run");
        var (code, lines, stderr) = WorkerProcess.Run(Args(WriteText(temp, json), output));
        Assert.Equal(ExitCodes.InvalidConfig, code);
        var error = Assert.Single(lines);
        Assert.Equal(OptimizationMessageTypes.BatchError, WorkerProcess.TypeOf(error));
        var details = WorkerProcess.Parse(error).GetProperty("data").GetProperty("errorDetails").GetProperty("validationErrors");
        Assert.Contains(details.EnumerateArray(), e => e.GetProperty("field").GetString() == field);
        Assert.Contains(field == "$" ? "" : field, stderr);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void A_corrupt_checkpoint_fails_the_batch_with_a_clear_error()
    {
        using var temp = new TempFolder();
        var (batch, _) = Batch(trials: 3);
        var output = temp.File("run");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, OptimizationFiles.TrialsDone), "0\nnot a number\n");
        var (code, lines, _) = WorkerProcess.Run(Args(Write(temp, batch), output));
        Assert.Equal(ExitCodes.Failed, code);
        var error = Assert.Single(lines);
        Assert.Equal(OptimizationMessageTypes.BatchError, WorkerProcess.TypeOf(error));
        Assert.Contains("trials-done.txt line 2", WorkerProcess.Parse(error).GetProperty("data").GetProperty("errorMessage").GetString());
    }

    [Fact]
    public void Missing_arguments_are_a_usage_error() =>
        Assert.Equal(ExitCodes.Usage, WorkerProcess.Run("optimize-batch", "--output", "x").ExitCode);
}
