using System.Diagnostics;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;

namespace Backtesting.Worker;

/// <summary>
/// The clock of --timings: stamps the phases of a run and sums the time spent inside the data provider, which
/// <see cref="TimedDataProvider"/> reports to it. Without --timings none of this is created.
/// </summary>
internal sealed class RunTimings(long startTimestamp)
{
    private long _dataTicks;
    private long _engineStart;
    private long _engineEnd;
    private long _dataAtEngineStart;
    private long _dataAtEngineEnd;
    private long _resultsStart;
    private long _resultsEnd;
    private (long Methods, double Ms) _jitAtEngineStart;

    /// <summary>A clock started when the process did (its start time as the OS records it), or now in a host.</summary>
    public static RunTimings Start(bool ownsProcess)
    {
        var now = Stopwatch.GetTimestamp();
        if (!ownsProcess)
        {
            return new RunTimings(now);
        }

        using var process = Process.GetCurrentProcess();
        var sinceStart = DateTime.Now - process.StartTime;
        return new RunTimings(now - (long)(sinceStart.TotalSeconds * Stopwatch.Frequency));
    }

    public void AddData(long ticks) => Interlocked.Add(ref _dataTicks, ticks);

    public void EngineStarts()
    {
        _jitAtEngineStart = Jit();
        (_engineStart, _dataAtEngineStart) = (Stopwatch.GetTimestamp(), Interlocked.Read(ref _dataTicks));
    }

    public void EngineEnds() => (_engineEnd, _dataAtEngineEnd) = (Stopwatch.GetTimestamp(), Interlocked.Read(ref _dataTicks));

    public void ResultsStart() => _resultsStart = Stopwatch.GetTimestamp();

    public void ResultsEnd() => _resultsEnd = Stopwatch.GetTimestamp();

    public BacktestTimingsData Split()
    {
        var now = Stopwatch.GetTimestamp();
        var data = Interlocked.Read(ref _dataTicks);
        var jit = Jit();
        return new BacktestTimingsData(
            Ms(_engineStart - startTimestamp - _dataAtEngineStart),
            Ms(data),
            Ms(_engineEnd - _engineStart - (_dataAtEngineEnd - _dataAtEngineStart)),
            Ms(_resultsEnd - _resultsStart),
            Ms(now - startTimestamp),
            _jitAtEngineStart.Methods,
            _jitAtEngineStart.Ms,
            jit.Methods,
            jit.Ms);
    }

    /// <summary>The methods the JIT has compiled in this process so far, and its time compiling them.</summary>
    private static (long Methods, double Ms) Jit() =>
        (System.Runtime.JitInfo.GetCompiledMethodCount(), Math.Round(System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds, 3));

    private static double Ms(long ticks) => Math.Round(Math.Max(0, ticks) * 1000.0 / Stopwatch.Frequency, 3);
}

/// <summary>A provider that times every call into the one it wraps: data versions, opens and reads.</summary>
internal sealed class TimedDataProvider(IMarketDataProvider inner, RunTimings timings) : IMarketDataProvider
{
    public IInstrumentCatalog Catalog => inner.Catalog;

    public IMarketCalendar Calendar => inner.Calendar;

    public IFxRateProvider FxRates => inner.FxRates;

    public IMarketDataSource Open(Instrument instrument, int index, DataRequest request)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return new TimedSource(inner.Open(instrument, index, request), timings);
        }
        finally
        {
            timings.AddData(Stopwatch.GetTimestamp() - start);
        }
    }

    public string DataVersion(Instrument instrument, DataRequest request)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return inner.DataVersion(instrument, request);
        }
        finally
        {
            timings.AddData(Stopwatch.GetTimestamp() - start);
        }
    }

    private sealed class TimedSource(IMarketDataSource inner, RunTimings timings) : IMarketDataSource
    {
        public long Count => inner.Count;

        public bool TryRead(out MarketData point)
        {
            var start = Stopwatch.GetTimestamp();
            var read = inner.TryRead(out point);
            timings.AddData(Stopwatch.GetTimestamp() - start);
            return read;
        }

        public int Read(Span<MarketData> buffer)
        {
            var start = Stopwatch.GetTimestamp();
            var read = inner.Read(buffer);
            timings.AddData(Stopwatch.GetTimestamp() - start);
            return read;
        }

        public void Dispose() => inner.Dispose();
    }
}
