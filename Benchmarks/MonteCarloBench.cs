using System.Diagnostics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>montecarlo [--days N] [--paths N] [--rounds N]</c>: the Monte Carlo the API's <c>/montecarlo</c> route runs, in this
/// process, over seeded daily returns (five years, 1,260 days, by default) with 10,000 paths: the stationary bootstrap
/// (automatic block length) and trade resampling and shuffling over as many steps. Each round is timed on its own;
/// figures are printed with the load average, never asserted.
/// </summary>
internal static class MonteCarloBench
{
    public static int Run(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--days", "--paths", "--rounds") is not { } options)
        {
            return 2;
        }

        var days = options.Count("--days", 1260);
        var paths = options.Count("--paths", 10_000);
        var rounds = options.Count("--rounds", 3);
        var rng = new SplitMix64(42);
        var returns = new double[days];
        for (var t = 0; t < days; t++)
        {
            returns[t] = 0.0004 + 0.01 * rng.NextGaussian();
        }

        var series = new MonteCarloSeries(100_000, returns, days, 252, 0.02);
        Console.WriteLine($"montecarlo: {days:N0} daily returns of seeded noise, {paths:N0} paths; host {Environment.ProcessorCount} cores");
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var method in Enum.GetValues<MonteCarloMethod>())
            {
                var watch = Stopwatch.StartNew();
                var result = MonteCarlo.Run(series, method, new MonteCarloOptions(Paths: paths, Seed: round));
                var elapsed = watch.Elapsed;
                Console.WriteLine(
                    $"  round {round} {method,-19}: {elapsed.TotalMilliseconds,7:N0} ms (median final return {result.FinalReturn.Percentiles!.P50:P1}" +
                    $"{(result.MeanBlockLength is { } b ? $", block {b:F2}" : "")}); load {EndToEnd.LoadAverage()}");
            }
        }

        return 0;
    }
}
