using System.Diagnostics;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>robustness [--rows N] [--trials N] [--blocks S] [--rounds N]</c>: PBO by CSCV over a seeded matrix of noise returns
/// (five years of daily rows by default, 1,000 trials, 16 blocks: 12,870 splits), and the deflated Sharpe ratio of its
/// first column. Each round is timed on its own; figures are printed with the load average, never asserted.
/// </summary>
internal static class RobustnessBench
{
    public static int Run(string[] args)
    {
        if (BenchmarkOptions.Parse(args, "--rows", "--trials", "--blocks", "--rounds") is not { } options)
        {
            return 2;
        }

        var rows = options.Count("--rows", 1260);
        var trials = options.Count("--trials", 1000);
        var blocks = options.Count("--blocks", 16);
        var rounds = options.Count("--rounds", 3);

        var rng = new SplitMix64(42);
        var matrix = new float[rows, trials];
        for (var t = 0; t < rows; t++)
        {
            for (var j = 0; j < trials; j++)
            {
                matrix[t, j] = (float)(0.01 * rng.NextGaussian());
            }
        }

        var first = new double[rows];
        var sharpes = new double[trials];
        for (var j = 0; j < trials; j++)
        {
            double sum = 0, squares = 0;
            for (var t = 0; t < rows; t++)
            {
                sum += matrix[t, j];
                squares += (double)matrix[t, j] * matrix[t, j];
            }

            sharpes[j] = OverfittingProbability.Sharpe(sum, squares, rows);
        }

        for (var t = 0; t < rows; t++)
        {
            first[t] = matrix[t, 0];
        }

        Console.WriteLine($"robustness: T = {rows:N0} rows x N = {trials:N0} trials of seeded noise, S = {blocks}; host {Environment.ProcessorCount} cores");
        for (var round = 1; round <= rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            var result = OverfittingProbability.Compute(matrix, new CscvOptions(Blocks: blocks));
            var cscv = watch.Elapsed;
            watch.Restart();
            var dsr = DeflatedSharpe.Compute(first, sharpes);
            var deflated = watch.Elapsed;
            Console.WriteLine(
                $"  round {round}: CSCV {result.Splits.Count:N0} splits in {cscv.TotalMilliseconds:N0} ms (PBO {result.Probability:F3}); " +
                $"DSR {deflated.TotalMilliseconds:N3} ms (value {dsr.Value:F4}); load {EndToEnd.LoadAverage()}");
        }

        return 0;
    }
}
