using Backtesting.Engine.Optimization;
using Backtesting.Grains;
using Backtesting.Grains.Optimization;
using Backtesting.Grains.Runners;

namespace Backtesting.Tests.Docker;

/// <summary>
/// The kinds of worker run the Docker runner starts containers for: a backtest, and an optimization batch of a custom
/// strategy (its batch.json and source, with the CPU grant the batch sizing gives the daily grid). The sandbox
/// tests run every probe for each.
/// </summary>
internal static class RunKinds
{
    public const string Backtest = "backtest";
    public const string Batch = "optimization batch";

    public static TheoryData<string> All => new() { Backtest, Batch };

    /// <summary>The run request of a kind, as its grain makes it.</summary>
    public static RunRequest Request(string kind, string output) => kind == Backtest
        ? new RunRequest(Guid.NewGuid(), 1, "{}", output, TestPaths.LeanData, false, TimeSpan.FromSeconds(5))
        : new RunRequest(Guid.NewGuid(), 1, "{}", output, TestPaths.LeanData, false, TimeSpan.FromSeconds(5),
            StrategySource: Custom.StrategySources.SmaCross, StallTimeout: TimeSpan.FromSeconds(120), BatchJson: "{}",
            Cpus: BatchSizing.Of(new BatchJob(SearchMethodKind.Grid, 10_000, 1258), 2, new OptimizationRunOptions()).Cpus);
}
