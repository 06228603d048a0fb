using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Strategies;
using BenchmarkDotNet.Attributes;

namespace Backtesting.Benchmarks.Micro;

/// <summary>
/// <see cref="FillRules.Evaluate"/> of working orders against bars: a market, a buy limit, a sell stop and a
/// buy stop, each against every bar (time per evaluation). The orders are made by a short engine run, the
/// way a strategy gets them.
/// </summary>
public class FillRulesBenchmarks
{
    private const int BarCount = 1_024;
    private MarketData[] _bars = [];
    private Order[] _orders = [];

    [GlobalSetup]
    public void Setup()
    {
        _bars = MicroData.Bars(0, BarCount);
        var maker = new OrderMaker();
        var spec = Workloads.MaCrossSpec([Workloads.SyntheticInstrument(0)], Workloads.FirstDay, Workloads.FirstDay, Workloads.InitialBalance);
        using (var merged = new Engine.Core.MarketDataMerger([new InMemorySource(_bars[..1], 0)]))
        {
            new Engine.Core.BacktestEngine(spec, maker, merged, BaseCurrencyOnly.Instance).Run();
        }

        _orders = maker.Orders.ToArray();
    }

    [Benchmark(OperationsPerInvoke = BarCount * 4)]
    public int Evaluate()
    {
        var fills = 0;
        var orders = _orders;
        foreach (ref readonly var bar in _bars.AsSpan())
        {
            foreach (var order in orders)
            {
                if (FillRules.Evaluate(order, bar).Fills)
                {
                    fills++;
                }
            }
        }

        return fills;
    }

    /// <summary>Places one order of each kind on the first bar; no later bar comes, so none fills.</summary>
    private sealed class OrderMaker : Strategy
    {
        public List<Order> Orders { get; } = new();

        public override void OnBar(in MarketData bar)
        {
            if (Orders.Count > 0)
            {
                return;
            }

            Orders.Add(SubmitOrder(bar.Instrument, 100, OrderType.Market)!);
            Orders.Add(SubmitOrder(bar.Instrument, 100, OrderType.Limit, limitPrice: bar.Close * 0.999)!);
            Orders.Add(SubmitOrder(bar.Instrument, -100, OrderType.Stop, stopPrice: bar.Close * 0.999)!);
            Orders.Add(SubmitOrder(bar.Instrument, 100, OrderType.Stop, stopPrice: bar.Close * 1.001)!);
        }
    }
}
