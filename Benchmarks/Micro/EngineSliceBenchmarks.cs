using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using BenchmarkDotNet.Attributes;

namespace Backtesting.Benchmarks.Micro;

/// <summary>
/// The engine with the SMA cross (fast 10, slow 30, fixed quantity, percent commission) over in-memory minute
/// bars, reported per slice (one timestamp: one bar per instrument). Includes its trading: about one round trip
/// every 50 bars per instrument.
/// </summary>
public class EngineSliceBenchmarks
{
    private const int Slices = 100_000;
    private MarketData[][] _bars = [];
    private BacktestSpec _spec = null!;

    [Params(1, 3)]
    public int Instruments { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bars = Enumerable.Range(0, Instruments).Select(i => MicroData.Bars(i, Slices)).ToArray();
        var instruments = Enumerable.Range(0, Instruments).Select(Workloads.SyntheticInstrument).ToList();
        _spec = Workloads.MaCrossSpec(instruments, Workloads.FirstDay, Workloads.LastDay(Slices), Workloads.InitialBalance);
    }

    [Benchmark(OperationsPerInvoke = Slices)]
    public long SmaCrossSlice()
    {
        var outcome = Workloads.RunMaCross(_spec, _bars.Select((bars, i) => (IMarketDataSource)new InMemorySource(bars, i)).ToList());
        return outcome.ProcessedPoints;
    }
}
