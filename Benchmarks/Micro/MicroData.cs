using Backtesting.Engine.Data;

namespace Backtesting.Benchmarks.Micro;

/// <summary>Synthetic data for the micro-benchmarks, materialised once in their setup.</summary>
internal static class MicroData
{
    public static MarketData[] Bars(int instrument, int count)
    {
        var bars = new MarketData[count];
        using var source = Workloads.MinuteBars(instrument, count);
        for (var i = 0; i < count && source.TryRead(out bars[i]); i++)
        {
        }

        return bars;
    }

    public static double[] Closes(int count) => Bars(0, count).Select(b => b.Close).ToArray();
}
