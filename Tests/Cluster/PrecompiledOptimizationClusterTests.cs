using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Backtesting.Tests.Custom;
using Backtesting.Tests.Optimization;
using Microsoft.Extensions.DependencyInjection;
using static Backtesting.Tests.Cluster.OptimizationClusterHost;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// A custom strategy's optimization compiles the strategy once, not once per batch: jobs of several batches on one
/// version, through the cluster on real PostgreSQL with the process runner allowed custom code, run one compile-only run
/// between them, every batch's worker loads that assembly after verifying it, and every trial equals its config run alone
/// as a backtest. A stored compile whose bytes changed, or that another compiler version made, fails the job with the
/// worker's reason and stores no trial.
/// </summary>
[Collection("cluster")]
public class PrecompiledOptimizationClusterTests
{
    /// <summary>The process runner, counting compiles and the runs handed a precompiled assembly or the source.</summary>
    private sealed class CountingRunner(IBacktestRunner inner) : IBacktestRunner
    {
        public int Compiles;
        public int PrecompiledRuns;
        public int SourceRuns;

        public string Kind => inner.Kind;

        public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
        {
            if (request.BatchJson is not null && request.StrategyAssembly is not null)
            {
                Interlocked.Increment(ref PrecompiledRuns);
            }
            else if (request.BatchJson is not null && request.StrategySource is not null)
            {
                Interlocked.Increment(ref SourceRuns);
            }

            return inner.StartAsync(request, cancellation);
        }

        public Task<CompileOutput> CompileStrategyAsync(CompileRequest request, CancellationToken cancellation)
        {
            Interlocked.Increment(ref Compiles);
            return inner.CompileStrategyAsync(request, cancellation);
        }

        public Task<string?> WorkerVersionAsync(CancellationToken cancellation) => inner.WorkerVersionAsync(cancellation);
    }

    private static ProcessRunner Process() => new(WorkerCommand.Default(), new ProcessRunnerSettings(AllowCustomStrategies: true));

    private static async Task<(TestClusterHost Host, CountingRunner Runner)> Start()
    {
        var runner = new CountingRunner(Process());
        var host = await TestClusterHost.StartAsync(1, o =>
        {
            o.Runner = "process";
            o.AllowCustomStrategiesInProcessRunner = true;
            o.Optimization.BatchTrials = 2;
            o.Optimization.ProgressInterval = TimeSpan.FromMilliseconds(200);
        }, services => services.AddSingleton<IBacktestRunner>(runner));
        return (host, runner);
    }

    private const string Space = """{"fastPeriod":{"values":[10,20,30,40]},"slowPeriod":{"values":[60]}}""";

    [Fact]
    public async Task Jobs_of_several_batches_on_one_version_compile_it_once_and_every_trial_equals_its_config_run_alone_as_a_backtest()
    {
        var (host, runner) = await Start();
        await using var _ = host;
        var v1 = await CustomOptimizationClusterTests.Upload(host, "alice", StrategySources.SmaCross);

        // Two jobs of two batches each (and the batches of a job start together): one compile between them all.
        var jobs = new[] { Guid.NewGuid(), Guid.NewGuid() };
        foreach (var id in jobs)
        {
            await host.Optimization(id).Submit(Submission(Job(CustomOptimizationClusterTests.CustomJob(Space))));
        }

        foreach (var id in jobs)
        {
            var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(4));
            Assert.True(done.State == OptimizationState.Completed, done.ErrorMessage);
        }

        Assert.Equal(1, runner.Compiles);
        Assert.True(runner.PrecompiledRuns >= 4, $"{runner.PrecompiledRuns} batch runs were handed the precompiled assembly");
        Assert.Equal(0, runner.SourceRuns);
        await using (var connection = await Npgsql.NpgsqlDataSource.Create(host.ConnectionString).OpenConnectionAsync())
        await using (var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM custom_strategy_assemblies", connection))
        {
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }

        var first = await host.Rows(jobs[0]);
        var second = await host.Rows(jobs[1]);
        Assert.Equal([0, 1, 2, 3], first.Select(r => r.TrialNumber));
        Assert.Equal(first.Select(r => (r.ParametersJson, r.MetricsJson, r.ContentHash)), second.Select(r => (r.ParametersJson, r.MetricsJson, r.ContentHash)));

        var plan = OptimizationFixtures.Plan(Job(OptimizationClusterHost.SmallGrid, ("parameters", Space)));
        foreach (var row in first)
        {
            await host.AssertTrialEqualsCustomBacktest(plan, row, "alice", v1.Version);
        }

        await host.WaitForFreeSlots();
    }

    [Theory]
    [InlineData("bytesChanged", "its bytes changed after the compile")]
    [InlineData("otherCompilerVersion", "compiled by compiler version 000000000000")]
    public async Task A_stored_compile_that_is_not_exactly_this_workers_fails_the_job_with_the_reason_and_stores_no_trial(string fault, string expected)
    {
        var (host, runner) = await Start();
        await using var _ = host;
        var v1 = await CustomOptimizationClusterTests.Upload(host, "alice", StrategySources.SmaCross);
        // The compile this silo's worker would store, changed after it was recorded.
        var compiled = StrategyCompiler.Compile(StrategySources.SmaCross);
        var assembly = compiled.Assembly!.ToArray();
        var compilerVersion = compiled.CompilerVersion!;
        if (fault == "bytesChanged")
        {
            assembly[assembly.Length / 2] ^= 0x5A;
        }
        else
        {
            compilerVersion = new string('0', 64);
        }

        var workerVersion = (await Process().WorkerVersionAsync(CancellationToken.None))!;
        await new PostgresStrategyAssemblyStore(Npgsql.NpgsqlDataSource.Create(host.ConnectionString)).SaveAsync(new StrategyAssembly(
            v1.StrategyId, v1.Version, workerVersion, compiled.SourceHash, compilerVersion, assembly, compiled.AssemblyHash!,
            JsonSerializer.Serialize(compiled.Strategy, JsonDefaults.Options)));

        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(CustomOptimizationClusterTests.CustomJob(Space))));
        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromMinutes(3));

        Assert.True(done.State == OptimizationState.Failed, $"the job ended {done.State} ({done.ErrorMessage}); runs handed the compile: " +
            $"{runner.PrecompiledRuns}, handed the source: {runner.SourceRuns}, compiles: {runner.Compiles}");
        Assert.Contains(expected, done.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("strategyAssembly", done.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(await host.Rows(id));
        Assert.Equal(0, runner.Compiles);
        Assert.Equal(0, runner.SourceRuns);
        await host.WaitForFreeSlots();
    }
}
