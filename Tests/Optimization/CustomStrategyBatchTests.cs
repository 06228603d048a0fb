using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Protocol;
using Backtesting.Tests.Worker;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// A custom (uploaded) strategy through the worker's optimize-batch as a process: compiled once, a fresh load context
/// per trial (a static counter must not leak from one trial into the next), each trial equal to its config run alone as
/// a backtest by the worker, and hostile behaviour: a strategy that throws in some trials, one whose messages carry
/// forged protocol lines, a 5 MB exception message, and one that hangs.
/// </summary>
public partial class CustomStrategyBatchTests
{
    /// <summary>
    /// Trades on the close against its SMA, but only while it is the first run its loaded code has seen (a static
    /// counter): if static state leaked from one trial into the next, every later trial would stay flat. Its faults are
    /// parameters: throw (the message forges a trial line), a 5 MB message, or an endless loop.
    /// </summary>
    private static string Source(string forged) => $$"""
        using System;
        using System.Collections.Generic;
        using Backtesting.Engine.Data;
        using Backtesting.Engine.Indicators;
        using Backtesting.Engine.Strategies;

        public sealed class Leaky : Strategy
        {
            private const string Forged = "{{Escape(forged)}}";
            private static int s_runs;
            private Sma[] _sma = [];
            private int _bars;
            private long _spins;

            [Parameter("SMA period", Min = 2, Max = 200, Required = true)]
            public int Period { get; set; } = 20;

            [Parameter("What goes wrong", Allowed = ["none", "throw", "huge", "hang"])]
            public string Fault { get; set; } = "none";

            public override int WarmupBars => Period;

            public override IEnumerable<ValidationError> ValidateParameters()
            {
                if (Period == 13)
                {
                    yield return new ValidationError("strategyConfig.period", "unlucky", "\n" + Forged + "\n");
                }
            }

            public override void OnStart()
            {
                s_runs++;
                _sma = new Sma[Instruments.Count];
                for (var i = 0; i < _sma.Length; i++)
                {
                    _sma[i] = new Sma(Period);
                }
            }

            public override void OnBar(in MarketData bar)
            {
                _bars++;
                if (_bars == 50 && Fault == "throw")
                {
                    throw new InvalidOperationException("\n" + Forged + "\n"); // <- throws
                }

                if (_bars == 50 && Fault == "huge")
                {
                    throw new InvalidOperationException(new string('x', 5_000_000));
                }

                while (_bars == 50 && Fault == "hang")
                {
                    _spins++;
                }

                var sma = _sma[bar.Instrument];
                sma.Update(bar.Close);
                if (!sma.IsReady || IsWarmingUp || s_runs != 1)
                {
                    return;
                }

                var quantity = Position(bar.Instrument).Quantity;
                if (bar.Close > sma.Value && quantity <= 0)
                {
                    EnterLong(bar.Instrument);
                }
                else if (bar.Close < sma.Value && quantity > 0)
                {
                    ExitPosition(bar.Instrument);
                }
            }

            public long Spins => _spins;
        }
        """;

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private const string Base = """
        {"strategyClass":"Leaky","strategyConfig":{},"startDate":"2019-01-01","endDate":"2020-12-31","instruments":["SPY"],
         "initialBalance":100000,"dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
         "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}}
        """;

    private static (OptimizationBatch Batch, OptimizationPlan Plan) Batch(string source, Guid id, string parameters)
    {
        var compiled = StrategyCompiler.Compile(source);
        Assert.True(compiled.Ok, string.Join("\n", compiled.Diagnostics));
        var catalog = StrategyCatalog.Templates.With([compiled.Strategy!.ToDescriptor(compiled.SourceHash)]);
        var job = Job(GridJob, ("baseConfig", Base), ("parameters", parameters));
        var (errors, plan) = OptimizationValidator.Validate(job, Lean, catalog, ValidationPolicy.Service, Today);
        Assert.True(plan is not null, string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
        var points = plan!.CreateMethod().Propose([], [], (int)plan.PlannedTrials);
        return (new OptimizationBatch
        {
            OptimizationId = id.ToString(),
            Batch = 0,
            Config = job,
            Trials = points.Select(p => new BatchTrial { Trial = p.Trial, Parameters = new(p.Parameters) }).ToList(),
        }, plan);
    }

    private static string[] Args(TempFolder temp, OptimizationBatch batch, string source, string output, params string[] extra)
    {
        var batchPath = temp.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(batchPath, JsonSerializer.Serialize(batch, JsonDefaults.Options));
        var sourcePath = temp.File(Guid.NewGuid().ToString("N") + ".cs");
        File.WriteAllText(sourcePath, source);
        return ["optimize-batch", "--batch", batchPath, "--output", output, "--data", TestPaths.LeanData, "--strategy-source", sourcePath, .. extra];
    }

    /// <summary>The trial's config run alone by the worker as a backtest: its results.json.</summary>
    private static JsonElement Alone(TempFolder temp, OptimizationPlan plan, TrialPoint point, string source)
    {
        var name = "alone-" + point.Trial;
        var config = temp.File(name + ".json");
        File.WriteAllText(config, JsonSerializer.Serialize(plan.TrialConfig(point.Parameters), JsonDefaults.Options));
        var sourcePath = temp.File(name + ".cs");
        File.WriteAllText(sourcePath, source);
        var (code, _, stderr) = WorkerProcess.Run("--config", config, "--output", temp.File(name), "--data", TestPaths.LeanData,
            "--strategy-source", sourcePath);
        Assert.True(code == ExitCodes.Completed, stderr);
        return JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.File(name), WorkerFiles.Results))).RootElement.Clone();
    }

    private static string Canonical(JsonElement metrics) =>
        JsonSerializer.Serialize(metrics.Deserialize<PerformanceMetrics>(JsonDefaults.Options), JsonDefaults.Options);

    [Fact]
    public void Each_trial_runs_from_fresh_static_state_equals_its_config_run_alone_and_faults_fail_only_their_trial_without_forging_a_line()
    {
        using var temp = new TempFolder();
        var id = Guid.NewGuid();
        // A trial line that the reader would accept on its own: trial 4 (period 13, fault none) with forged metrics.
        var probe = Batch(Source(""), id, """{"period":{"values":[10,13,20]},"fault":{"values":["none","throw","huge"]}}""");
        var target = probe.Batch.Trials.Single(t => t.Parameters["period"].GetInt32() == 13 && t.Parameters["fault"].GetString() == "none");
        var forged = JsonSerializer.Serialize(new OptimizationMessage<OptimizationTrialData>(OptimizationMessageTypes.Trial, id.ToString(), 0,
            DateTime.UnixEpoch, new OptimizationTrialData(target.Trial, target.Parameters, new PerformanceMetrics(), 999, true, null, "forged", 1e9)),
            JsonDefaults.Options);
        var source = Source(forged);
        var (batch, plan) = Batch(source, id, """{"period":{"values":[10,13,20]},"fault":{"values":["none","throw","huge"]}}""");
        var trials = batch.Trials.ToDictionary(t => t.Trial, t => t.Parameters);
        Assert.IsType<BatchLine.Trial>(new BatchLineReader(id, 0, trials, plan.Rules).Read(forged));

        var (code, lines, stderr) = WorkerProcess.Run(Args(temp, batch, source, temp.File("run")));
        Assert.True(code == ExitCodes.Completed, stderr);
        Assert.Contains("declares static fields (Leaky.s_runs): each trial loads it anew", stderr, StringComparison.Ordinal);

        // Every line the silo would read: one trial row per trial, none of them the forged one.
        var reader = new BatchLineReader(id, 0, trials, plan.Rules);
        var rows = lines.Select(reader.Read).OfType<BatchLine.Trial>().Select(t => t.Row).ToList();
        Assert.Equal(0, reader.Dropped);
        Assert.Equal(batch.Trials.Select(t => t.Trial), rows.Select(r => r.TrialNumber));
        Assert.DoesNotContain(rows, r => r.TotalTrades == 999 || r.ContentHash == "forged");

        foreach (var (trial, row) in batch.Trials.Zip(rows))
        {
            var period = trial.Parameters["period"].GetInt32();
            var fault = trial.Parameters["fault"].GetString();
            if (period == 13)
            {
                // The strategy's own rule, run in the trial's load context: infeasible, its message kept as data.
                Assert.False(row.Feasible);
                Assert.Null(row.MetricsJson);
                Assert.StartsWith("strategy rule: ", row.InfeasibleReason, StringComparison.Ordinal);
                Assert.Contains(forged, row.InfeasibleReason, StringComparison.Ordinal);
            }
            else if (fault == "throw")
            {
                Assert.False(row.Feasible);
                Assert.Null(row.MetricsJson);
                Assert.StartsWith(TrialStrategies.FaultPrefix + "InvalidOperationException: \n" + forged, row.InfeasibleReason, StringComparison.Ordinal);
                Assert.Contains($"strategy.cs line {Custom.StrategySources.MarkedLine(source.Replace("// <- throws", Custom.StrategySources.Marker, StringComparison.Ordinal))}",
                    row.InfeasibleReason, StringComparison.Ordinal);
            }
            else if (fault == "huge")
            {
                Assert.False(row.Feasible);
                Assert.StartsWith(TrialStrategies.FaultPrefix + "InvalidOperationException: xxx", row.InfeasibleReason, StringComparison.Ordinal);
                Assert.True(row.InfeasibleReason!.Length <= TrialStrategies.MaxReasonChars, $"{row.InfeasibleReason.Length} characters");
            }
            else
            {
                // Ran to its end: it traded (its static counter was fresh), and it equals its config run alone as a backtest.
                var alone = Alone(temp, plan, new TrialPoint(trial.Trial, trial.Parameters), source);
                Assert.True(row.TotalTrades > 0, $"trial {trial.Trial} did not trade: static state leaked into it");
                Assert.Equal(Canonical(alone.GetProperty("metrics")), Canonical(JsonDocument.Parse(row.MetricsJson!).RootElement));
                Assert.Equal(alone.GetProperty("contentHash").GetString(), row.ContentHash);
                Assert.Equal(alone.GetProperty("trades").GetArrayLength(), row.TotalTrades);
            }
        }

        // The last trial that ran fully came after five trials whose code started (OnStart) in the same process.
        Assert.True(batch.Trials.Last(t => t.Parameters["fault"].GetString() == "none").Trial > 4);
    }

    [Fact]
    public void A_trial_that_hangs_is_recorded_as_timed_out_and_ends_the_run_and_the_next_run_goes_on_past_it()
    {
        using var temp = new TempFolder();
        var id = Guid.NewGuid();
        var source = Source("");
        var (batch, plan) = Batch(source, id, """{"period":{"values":[10,20]},"fault":{"values":["none","hang"]}}""");
        var trials = batch.Trials.ToDictionary(t => t.Trial, t => t.Parameters);
        var output = temp.File("run");
        var printed = new List<Backtesting.Storage.TrialRow>();
        var codes = new List<int>();
        for (var run = 0; run < 3; run++)
        {
            var (code, lines, stderr) = WorkerProcess.Run(Args(temp, batch, source, output, "--trial-timeout-seconds", "2"));
            codes.Add(code);
            var reader = new BatchLineReader(id, 0, trials, plan.Rules);
            var read = lines.Select(reader.Read).ToList();
            printed.AddRange(read.OfType<BatchLine.Trial>().Select(t => t.Row));
            Assert.Equal(0, reader.Dropped);
            if (code == ExitCodes.TimedOut)
            {
                Assert.Contains("timed out", Assert.Single(read.OfType<BatchLine.Error>()).Data.ErrorMessage, StringComparison.Ordinal);
                Assert.Contains("recorded as failed", stderr, StringComparison.Ordinal);
            }
        }

        // Two hanging trials: two runs end timed out, the third finds every trial done.
        Assert.Equal([ExitCodes.TimedOut, ExitCodes.TimedOut, ExitCodes.Completed], codes);
        Assert.Equal(batch.Trials.Select(t => t.Trial), printed.Select(r => r.TrialNumber));
        foreach (var (trial, row) in batch.Trials.Zip(printed))
        {
            if (trial.Parameters["fault"].GetString() == "hang")
            {
                Assert.False(row.Feasible);
                Assert.Null(row.MetricsJson);
                Assert.StartsWith("timed out: the trial ran longer than 2 s", row.InfeasibleReason, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(row.TotalTrades > 0);
                Assert.NotNull(row.MetricsJson);
            }
        }

        Assert.Equal(batch.Trials.Select(t => t.Trial.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            File.ReadAllLines(Path.Combine(output, OptimizationFiles.TrialsDone)));
    }

    [Fact]
    public void A_source_that_does_not_compile_refuses_the_batch_naming_strategySource_and_runs_nothing()
    {
        using var temp = new TempFolder();
        var id = Guid.NewGuid();
        var (batch, _) = Batch(Source(""), id, """{"period":{"values":[10,20]}}""");
        var hostile = Source("").Replace("_spins++;", "System.IO.File.Delete(\"/tmp/x\");", StringComparison.Ordinal);

        var (code, lines, _) = WorkerProcess.Run(Args(temp, batch, hostile, temp.File("run")));

        Assert.Equal(ExitCodes.InvalidConfig, code);
        var error = WorkerProcess.Parse(Assert.Single(lines)).GetProperty("data");
        var errors = error.GetProperty("errorDetails").GetProperty("validationErrors").EnumerateArray().ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Equal("strategySource", e.GetProperty("field").GetString()));
        Assert.Contains(errors, e => e.GetProperty("rule").GetString() == SandboxRules.ForbiddenApi);
        Assert.False(File.Exists(Path.Combine(temp.File("run"), OptimizationFiles.TrialsDone)));
    }

    [Fact]
    public void A_strategy_without_static_fields_shares_one_load_for_the_batch_and_each_trial_still_equals_its_config_run_alone()
    {
        using var temp = new TempFolder();
        var id = Guid.NewGuid();
        var source = Custom.StrategySources.SmaCross;
        var compiled = StrategyCompiler.Compile(source);
        var catalog = StrategyCatalog.Templates.With([compiled.Strategy!.ToDescriptor(compiled.SourceHash)]);
        var job = Job(GridJob, ("baseConfig", Base.Replace("\"Leaky\"", "\"SmaCross\"", StringComparison.Ordinal)),
            ("parameters", """{"fastPeriod":{"values":[5,20]},"slowPeriod":{"values":[40]}}"""));
        var (_, plan) = OptimizationValidator.Validate(job, Lean, catalog, ValidationPolicy.Service, Today);
        var points = plan!.CreateMethod().Propose([], [], 2);
        var batch = new OptimizationBatch
        {
            OptimizationId = id.ToString(),
            Batch = 0,
            Config = job,
            Trials = points.Select(p => new BatchTrial { Trial = p.Trial, Parameters = new(p.Parameters) }).ToList(),
        };

        var (code, lines, stderr) = WorkerProcess.Run(Args(temp, batch, source, temp.File("run")));
        Assert.True(code == ExitCodes.Completed, stderr);
        Assert.Contains("declares no static field: one load context serves every trial", stderr, StringComparison.Ordinal);
        var reader = new BatchLineReader(id, 0, batch.Trials.ToDictionary(t => t.Trial, t => t.Parameters), plan.Rules);
        var rows = lines.Select(reader.Read).OfType<BatchLine.Trial>().Select(t => t.Row).ToList();
        Assert.Equal([0, 1], rows.Select(r => r.TrialNumber));
        foreach (var (point, row) in points.Zip(rows))
        {
            var alone = Alone(temp, plan, point, source);
            Assert.Equal(Canonical(alone.GetProperty("metrics")), Canonical(JsonDocument.Parse(row.MetricsJson!).RootElement));
            Assert.Equal(alone.GetProperty("contentHash").GetString(), row.ContentHash);
        }
    }
}
