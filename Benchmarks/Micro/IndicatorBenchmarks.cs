using Backtesting.Engine.Indicators;
using BenchmarkDotNet.Attributes;

namespace Backtesting.Benchmarks.Micro;

/// <summary>One update of each indicator the templates use most, on synthetic closes (time per update).</summary>
public class IndicatorBenchmarks
{
    private const int Updates = 4_096;
    private double[] _closes = [];
    private Sma _sma = null!;
    private Ema _ema = null!;
    private Rsi _rsi = null!;

    [GlobalSetup]
    public void Setup()
    {
        _closes = MicroData.Closes(Updates);
        _sma = new Sma(30);
        _ema = new Ema(30);
        _rsi = new Rsi(14);
        // Warm them up, so the benchmark measures the steady update, not the first fills of the window.
        foreach (var close in _closes.AsSpan(0, 100))
        {
            _sma.Update(close);
            _ema.Update(close);
            _rsi.Update(close);
        }
    }

    [Benchmark(OperationsPerInvoke = Updates)]
    public double SmaUpdate()
    {
        var sma = _sma;
        foreach (var close in _closes)
        {
            sma.Update(close);
        }

        return sma.Value;
    }

    [Benchmark(OperationsPerInvoke = Updates)]
    public double EmaUpdate()
    {
        var ema = _ema;
        foreach (var close in _closes)
        {
            ema.Update(close);
        }

        return ema.Value;
    }

    [Benchmark(OperationsPerInvoke = Updates)]
    public double RsiUpdate()
    {
        var rsi = _rsi;
        foreach (var close in _closes)
        {
            rsi.Update(close);
        }

        return rsi.Value;
    }
}
