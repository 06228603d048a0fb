namespace Backtesting.Grains.Runners;

/// <summary>
/// The .NET runtime settings a worker process is started with, by what it runs: the one place they are chosen, for the
/// Docker and the process runners alike (the in-process runner shares its silo's runtime).
/// </summary>
/// <remarks>
/// An optimization batch runs without tiered profile-guided optimization (<c>DOTNET_TieredPGO=0</c>). A batch calls
/// thousands of methods a few thousand times each within seconds, and with PGO each hot method is compiled twice more
/// (an instrumented tier, then the optimized one) while its instrumented code runs: measured on the issue-15 grid
/// (MovingAverageCross, SPY daily 2016-2020) through the published worker, a 3,000-trial batch took 4.5-4.6 CPU-s with
/// PGO and 2.1-2.5 without, a 10,000-trial batch 7.0-7.8 against 5.8-6.5 (docs/benchmarks.md). A single backtest keeps
/// PGO: over a long run its steady state is about 13% faster with it.
/// </remarks>
public static class WorkerRuntimeSettings
{
    private static readonly IReadOnlyDictionary<string, string> Backtest = new Dictionary<string, string>();

    private static readonly IReadOnlyDictionary<string, string> Batch = new Dictionary<string, string>
    {
        ["DOTNET_TieredPGO"] = "0",
    };

    /// <summary>The variables for a batch of an optimization job (<paramref name="batch"/>) or a backtest.</summary>
    public static IReadOnlyDictionary<string, string> For(bool batch) => batch ? Batch : Backtest;

    /// <summary>The variables for this run request.</summary>
    public static IReadOnlyDictionary<string, string> For(RunRequest request) => For(request.BatchJson is not null);
}
