using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Backtesting.Tests.Custom;
using Backtesting.Tests.Optimization;
using static Backtesting.Tests.Cluster.OptimizationClusterHost;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// An optimization over an uploaded strategy through the cluster on real PostgreSQL, with the process runner allowed to
/// run custom code (the Docker runner runs the same worker command in its sandbox): the owner's stored schema drives the
/// space's validation, the version is pinned for every batch, and each stored trial equals its config run alone as a
/// backtest of that version through the cluster.
/// </summary>
[Collection("cluster")]
public class CustomOptimizationClusterTests
{
    private static Task<TestClusterHost> Start() =>
        TestClusterHost.StartAsync(1, o =>
        {
            o.Runner = "process";
            o.AllowCustomStrategiesInProcessRunner = true;
            o.Optimization.BatchTrials = 2;
            o.Optimization.ProgressInterval = TimeSpan.FromMilliseconds(200);
        });

    /// <summary>Stores the source as the owner's next version, as an upload that compiled does.</summary>
    internal static async Task<StrategyVersion> Upload(TestClusterHost host, string owner, string source)
    {
        var compiled = StrategyCompiler.Compile(source);
        Assert.True(compiled.Ok, string.Join("\n", compiled.Diagnostics));
        var store = new PostgresStrategyStore(Npgsql.NpgsqlDataSource.Create(host.ConnectionString));
        return await store.SaveVersionAsync(owner, compiled.Strategy!.Name, StrategyCompiler.Normalize(source), compiled.SourceHash,
            JsonSerializer.Serialize(compiled.Strategy, JsonDefaults.Options));
    }

    internal static string CustomJob(string parameters) => OptimizationClusterHost.SmallGrid
        .Replace("\"strategyClass\":\"MovingAverageCross\"", "\"strategyClass\":\"SmaCross\"", StringComparison.Ordinal)
        .Replace("""{"fastPeriod":{"min":5,"max":20,"step":5},"slowPeriod":{"min":60,"max":100,"step":20}}""", parameters, StringComparison.Ordinal);

    [Fact]
    public async Task A_custom_strategy_job_pins_its_version_and_each_stored_trial_equals_that_version_run_alone_as_a_backtest()
    {
        await using var host = await Start();
        var v1 = await Upload(host, "alice", StrategySources.SmaCross);
        // Version 2 trades differently (its slow average is one bar longer): the job must keep running version 1's code once pinned.
        var job = Job(CustomJob("""{"fastPeriod":{"values":[10,30,70]},"slowPeriod":{"values":[60]}}"""));
        var id = Guid.NewGuid();
        var submitted = await host.Optimization(id).Submit(Submission(job));
        Assert.Equal(3, submitted.Progress.TrialsPlanned);
        Assert.Equal(v1.Version, JsonSerializer.Deserialize<Backtesting.Engine.Optimization.OptimizationConfig>(submitted.ConfigJson, JsonDefaults.Options)!.StrategyVersion);
        await Upload(host, "alice", StrategySources.SmaCross.Replace("public override int WarmupBars => SlowPeriod;",
            "public override int WarmupBars => SlowPeriod + 1;", StringComparison.Ordinal));

        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        Assert.True(done.State == OptimizationState.Completed, done.ErrorMessage);
        var rows = await host.Rows(id);
        Assert.Equal([0, 1, 2], rows.Select(r => r.TrialNumber));
        // fastPeriod 70 over slowPeriod 60 breaks the strategy's own rule, which runs in the worker: infeasible, never run.
        Assert.False(rows[2].Feasible);
        Assert.StartsWith("strategy rule: fastPeriod (70) must be less than slowPeriod (60)", rows[2].InfeasibleReason, StringComparison.Ordinal);

        var plan = OptimizationFixtures.Plan(Job(OptimizationClusterHost.SmallGrid,
            ("parameters", """{"fastPeriod":{"values":[10,30,70]},"slowPeriod":{"values":[60]}}""")));
        foreach (var row in rows.Take(2))
        {
            await host.AssertTrialEqualsCustomBacktest(plan, row, "alice", v1.Version);
        }

        await host.WaitForFreeSlots();
    }

    [Fact]
    public async Task The_owners_stored_schema_validates_a_custom_jobs_space_field_by_field_and_another_owner_cannot_name_it()
    {
        await using var host = await Start();
        await Upload(host, "alice", StrategySources.SmaCross);
        var planner = host.Client.GetGrain<IOptimizationPlannerGrain>(0);

        Assert.Equal(2, await planner.Plan(Submission(Job(CustomJob("""{"fastPeriod":{"values":[10,30]},"slowPeriod":60}""")))));

        var errors = await Assert.ThrowsAsync<OptimizationValidationException>(() => planner.Plan(Submission(Job(CustomJob(
            """{"fastPeriod":{"min":1,"max":900,"step":1},"slowPeriod":60,"lookback":{"values":[1,2]},"maType":{"values":["SMA","WMA"]}}""")))));
        Assert.Contains(errors.Errors, e => e is { Field: "parameters.fastPeriod.max", Rule: "schemaRange" });
        Assert.Contains(errors.Errors, e => e is { Field: "parameters.lookback", Rule: "unknown" });
        Assert.Contains(errors.Errors, e => e is { Field: "parameters.maType.values[1]", Rule: "allowed" });

        // The grain refuses the same job with the same errors and stores nothing.
        var id = Guid.NewGuid();
        var refused = await Assert.ThrowsAsync<OptimizationValidationException>(() => host.Optimization(id).Submit(Submission(Job(CustomJob(
            """{"fastPeriod":{"min":1,"max":900,"step":1},"slowPeriod":60,"lookback":{"values":[1,2]},"maType":{"values":["SMA","WMA"]}}""")))));
        Assert.Equal(errors.Errors.Select(e => (e.Field, e.Rule)), refused.Errors.Select(e => (e.Field, e.Rule)));
        Assert.Null(await host.Store().GetAsync(id));

        // Bob cannot optimize alice's strategy: it is unknown to him, like a name nobody uses; a version pinned that does not exist is named.
        var bob = await Assert.ThrowsAsync<OptimizationValidationException>(() =>
            planner.Plan(Submission(Job(CustomJob("""{"fastPeriod":{"values":[10,30]},"slowPeriod":60}""")), "bob")));
        Assert.Contains(bob.Errors, e => e is { Field: "baseConfig.strategyClass", Rule: "unknown" });
        var pinned = await Assert.ThrowsAsync<OptimizationValidationException>(() =>
            planner.Plan(Submission(Job(CustomJob("""{"fastPeriod":{"values":[10,30]},"slowPeriod":60}"""), ("strategyVersion", "7")))));
        Assert.Contains(pinned.Errors, e => e is { Field: "strategyVersion", Rule: "unknown" });
    }
}
