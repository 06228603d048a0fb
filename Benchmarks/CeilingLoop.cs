using System.Diagnostics;
using System.Globalization;
using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;

namespace Backtesting.Benchmarks;

/// <summary>
/// The practical ceiling of the in-memory scenario: the same moving-average cross (SMA 10/30, long only, 100 shares,
/// filled at the next bar's open) written by hand over a plain array of closes, with no engine, no strategy object,
/// no portfolio and no records. It counts orders when they are placed and trades when an exit fills, as the engine
/// does, so the benchmark can check both counts against the engine's on the same bars before it divides the rates.
/// The bars are produced (and the closes copied out) before the clock starts: the loop alone is timed.
/// </summary>
internal static class CeilingLoop
{
    public readonly record struct Outcome(long Bars, long Orders, long Trades, double Seconds, double CpuSeconds)
    {
        public double BarsPerSecond => Bars / Seconds;

        public double BarsPerCpuSecond => Bars / CpuSeconds;
    }

    /// <summary>The closes of instrument 0's synthetic minute bars, as the in-memory scenario reads them.</summary>
    public static double[] Closes(long count)
    {
        var closes = new double[count];
        using var source = Workloads.MinuteBars(0, count);
        var buffer = new MarketData[4_096];
        long filled = 0;
        int read;
        while ((read = source.Read(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                closes[filled + i] = buffer[i].Close;
            }

            filled += read;
        }

        return closes;
    }

    public static Outcome Run(double[] closes, int fast, int slow, double quantity)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long orders = 0;
        long trades = 0;
        double position = 0;
        double pending = 0;
        double fastSum = 0;
        double slowSum = 0;
        double previousFast = 0;
        double previousSlow = 0;
        var hasPrevious = false;
        for (var t = 0; t < closes.Length; t++)
        {
            // The order placed on the previous bar fills at this bar's open, before the strategy sees the bar.
            if (pending != 0)
            {
                if (pending < 0 && position > 0)
                {
                    trades++;
                }

                position += pending;
                pending = 0;
            }

            var close = closes[t];
            fastSum += close;
            slowSum += close;
            if (t >= fast)
            {
                fastSum -= closes[t - fast];
            }

            if (t >= slow)
            {
                slowSum -= closes[t - slow];
            }

            if (t < slow - 1)
            {
                continue;
            }

            var f = fastSum / fast;
            var s = slowSum / slow;
            if (hasPrevious)
            {
                // The engine's one tie rule: averages within a relative 1e-13 of each other are neither above nor below.
                var up = !IsAbove(previousFast, previousSlow) && IsAbove(f, s);
                var down = !IsAbove(previousSlow, previousFast) && IsAbove(s, f);
                if (up && position <= 0)
                {
                    pending += quantity;
                    orders++;
                }
                else if (down && position > 0)
                {
                    pending -= position;
                    orders++;
                }
            }

            previousFast = f;
            previousSlow = s;
            hasPrevious = true;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return new Outcome(closes.LongLength, orders, trades, seconds, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
    }

    private static bool IsAbove(double a, double b) =>
        a - b > PriceComparison.RelativeTieTolerance * Math.Max(Math.Abs(a), Math.Abs(b));

    /// <summary>The child's entry: <c>ceiling &lt;bars&gt;</c>; prints a RESULT line like the engine's scenarios.</summary>
    public static int RunChild(long bars)
    {
        var closes = Closes(bars);
        var strategy = Workloads.MaCross();
        // One pass of 10M bars takes well under a CPU second, and CPU time is counted in 10 ms ticks: the figure is
        // over several passes, each of which must count the same orders and trades.
        const int Passes = 5;
        var passes = Enumerable.Range(0, Passes).Select(_ => Run(closes, strategy.FastPeriod, strategy.SlowPeriod, Workloads.FixedQuantity)).ToList();
        if (passes.Any(p => p.Orders != passes[0].Orders || p.Trades != passes[0].Trades))
        {
            Console.Error.WriteLine("the ceiling loop counted different orders or trades on the same bars");
            return 1;
        }

        var outcome = passes[0] with
        {
            Bars = passes.Sum(p => p.Bars),
            Seconds = passes.Sum(p => p.Seconds),
            CpuSeconds = passes.Sum(p => p.CpuSeconds),
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CEILING bars={outcome.Bars} seconds={outcome.Seconds:R} cpuSeconds={outcome.CpuSeconds:R} orders={outcome.Orders} trades={outcome.Trades}"));
        return 0;
    }
}
