using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Optimization;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Backtesting.Tests.Optimization;

namespace Backtesting.Tests.Cluster;

/// <summary>What the optimization tests share: jobs, waiting on a job, and every stored trial of one.</summary>
internal static class OptimizationClusterHost
{
    /// <summary>A 4 x 3 grid of MovingAverageCross on SPY daily (2016-2020), maximizing Sharpe: 12 trials.</summary>
    public static readonly string SmallGrid = $$$"""
        {"name":"small grid","baseConfig":{{{OptimizationFixtures.BaseConfig}}},
         "parameters":{"fastPeriod":{"min":5,"max":20,"step":5},"slowPeriod":{"min":60,"max":100,"step":20}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"},"seed":7}
        """;

    /// <summary>A 20 x 12 grid of the same: 240 trials, long enough to pause, cancel or kill it on the way.</summary>
    public static readonly string LargeGrid = $$$"""
        {"name":"large grid","baseConfig":{{{OptimizationFixtures.BaseConfig}}},
         "parameters":{"fastPeriod":{"min":2,"max":40,"step":2},"slowPeriod":{"min":50,"max":160,"step":10}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"},"seed":7}
        """;

    public static OptimizationConfig Job(string json, params (string Key, string Json)[] changes) => OptimizationFixtures.Job(json, changes);

    public static OptimizationSubmission Submission(OptimizationConfig job, string owner = "alice") => new(job, owner);

    public static PostgresOptimizationStore Store(this TestClusterHost host) =>
        new(Npgsql.NpgsqlDataSource.Create(host.ConnectionString));

    public static IOptimizationGrain Optimization(this TestClusterHost host, Guid id) => host.Client.GetGrain<IOptimizationGrain>(id);

    /// <summary>Polls the job's status until the predicate holds (or fails the test after the timeout).</summary>
    public static async Task<OptimizationStatus> WaitForJob(this TestClusterHost host, Guid id, Func<OptimizationStatus, bool> predicate,
        TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        OptimizationStatus status;
        do
        {
            status = await host.Retry(() => host.Optimization(id).GetStatus());
            if (predicate(status))
            {
                return status;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"optimization {id} stayed {status.State} ({status.Progress.TrialsCompleted}/{status.Progress.TrialsPlanned} trials, " +
                                   $"last change: {status.History[^1].Detail})");
    }

    /// <summary>Every stored trial of the job, by trial number.</summary>
    public static async Task<List<TrialRow>> Rows(this TestClusterHost host, Guid id)
    {
        var rows = new List<TrialRow>();
        for (var page = 1; ; page++)
        {
            var items = (await host.Store().TrialsAsync(id, new TrialQuery(Page: page, PageSize: 500))).Items;
            rows.AddRange(items);
            if (items.Count < 500)
            {
                break;
            }
        }

        return rows.OrderBy(r => r.TrialNumber).ToList();
    }

    /// <summary>The best of the stored rows by a scan written here: the highest (or lowest) objective among feasible rows, the lowest trial between equals.</summary>
    public static TrialRow? ScanBest(IEnumerable<TrialRow> rows, bool maximize)
    {
        TrialRow? best = null;
        foreach (var row in rows.Where(r => r.Feasible && r.Objective is not null).OrderBy(r => r.TrialNumber))
        {
            var better = best is null || (maximize ? row.Objective > best.Objective : row.Objective < best.Objective);
            if (better)
            {
                best = row;
            }
        }

        return best;
    }

    /// <summary>The job run directly on the engine with the same batch size: what the cluster must store.</summary>
    public static OptimizationSummary Direct(OptimizationConfig job, int batchSize)
    {
        var plan = OptimizationFixtures.Plan(job);
        var runner = new TrialRunner(plan, new Backtesting.Engine.Data.PreloadedMarketData(OptimizationFixtures.Lean), Backtesting.Engine.Strategies.StrategyCatalog.Templates);
        return OptimizationLoop.Run(plan, batch => batch.Select(p => runner.Run(p)).ToList(), batchSize);
    }

    public static string MetricsJson(TrialOutcome trial) => JsonSerializer.Serialize(trial.Metrics, JsonDefaults.Options);

    /// <summary>Stored parameters (jsonb) against a trial's: the same names and numerically equal values.</summary>
    public static void AssertSameParameters(IReadOnlyDictionary<string, JsonElement> expected, string storedJson)
    {
        var stored = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(storedJson)!;
        Assert.Equal(expected.Keys.Order(), stored.Keys.Order());
        foreach (var (name, value) in expected)
        {
            Assert.True(JsonElement.DeepEquals(value, stored[name]) || (value.ValueKind == JsonValueKind.Number
                && value.GetDouble() == stored[name].GetDouble()), $"{name}: {value} != {stored[name]}");
        }
    }

    /// <summary>
    /// Runs the configuration of a custom strategy's trial <paramref name="row"/> as an ordinary backtest of that
    /// version through the cluster and asserts its stored metrics, content hash and trade count are the trial's exactly.
    /// </summary>
    public static async Task AssertTrialEqualsCustomBacktest(this TestClusterHost host, OptimizationPlan plan, TrialRow row,
        string owner, int version, string strategyClass = "SmaCross")
    {
        Assert.True(row.Feasible, row.InfeasibleReason);
        var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(row.ParametersJson, JsonDefaults.Options)!;
        var config = plan.TrialConfig(parameters) with { StrategyClass = strategyClass };
        var backtest = Guid.NewGuid();
        await host.Backtest(backtest).Submit(new BacktestSubmission(config, owner, UseCache: false, StrategyVersion: version));
        var status = await host.WaitFor(backtest, s => s.IsTerminal, TimeSpan.FromMinutes(3));
        Assert.True(status.State == BacktestState.Completed, status.Error?.ErrorMessage);
        var result = (await host.Backtest(backtest).GetResults())!;
        Assert.Equal(JsonSerializer.Serialize(result.Metrics, JsonDefaults.Options),
            JsonSerializer.Serialize(JsonSerializer.Deserialize<PerformanceMetrics>(row.MetricsJson!, JsonDefaults.Options), JsonDefaults.Options));
        Assert.Equal(result.ContentHash, row.ContentHash);
        Assert.Equal(result.Trades.Count, row.TotalTrades);
    }
}
