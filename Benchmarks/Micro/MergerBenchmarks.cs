using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using BenchmarkDotNet.Attributes;

namespace Backtesting.Benchmarks.Micro;

/// <summary>
/// <see cref="MarketDataMerger"/> over in-memory minute bars, per merged point: three instruments, and one
/// instrument for the pass-through (which is then mostly the cost of the in-memory source itself).
/// </summary>
public class MergerBenchmarks
{
    private const int BarsPerSource = 100_000;
    private MarketData[][] _bars = [];

    [GlobalSetup]
    public void Setup() => _bars = Enumerable.Range(0, 3).Select(i => MicroData.Bars(i, BarsPerSource)).ToArray();

    [Benchmark(OperationsPerInvoke = 3 * BarsPerSource)]
    public long ThreeSources() => Drain(3);

    [Benchmark(OperationsPerInvoke = BarsPerSource)]
    public long OneSource() => Drain(1);

    private long Drain(int sources)
    {
        using var merger = new MarketDataMerger(_bars.Take(sources).Select((bars, i) => (IMarketDataSource)new InMemorySource(bars, i)).ToList());
        long checksum = 0;
        while (merger.TryRead(out var point))
        {
            checksum += point.EndTime;
        }

        return checksum;
    }
}
