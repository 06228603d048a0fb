namespace Backtesting.Engine.Data.Lean;

/// <summary>A LEAN zip to read; <see cref="Date"/> is the day of a per-day file (minute, tick).</summary>
/// <remarks>A class, not a struct: lists, sorts and queries of it then run the framework's shared code for reference
/// types, which is compiled ahead of time, where a struct made the JIT compile every one of them at start-up (about 60
/// methods for a minute run; docs/benchmarks.md, issue 17).</remarks>
public sealed record LeanFile(string Path, DateOnly Date);

/// <summary>
/// Streams the lines of one or more LEAN zips in order and turns each into a point. Subclasses
/// parse one line; this base owns the files, the line numbers in errors, and the instrument index.
/// </summary>
internal abstract class LeanZipSource : IMarketDataSource
{
    private readonly IReadOnlyList<LeanFile> _files;
    private readonly int _instrument;
    private ZipLineReader? _reader;
    private int _nextFile;

    protected LeanZipSource(IReadOnlyList<LeanFile> files, int instrument)
    {
        _files = files;
        _instrument = instrument;
    }

    public long Count => -1;

    public bool TryRead(out MarketData point)
    {
        while (true)
        {
            if (_reader is null)
            {
                if (_nextFile == _files.Count)
                {
                    point = default;
                    return false;
                }
                var file = _files[_nextFile++];
                _reader = new ZipLineReader(file.Path);
                BeginFile(file);
            }
            while (_reader.TryReadLine(out var line))
            {
                bool parsed;
                try
                {
                    parsed = TryParse(line, out point);
                }
                catch (FormatException e)
                {
                    throw new InvalidDataException($"{_reader.Path} line {_reader.LineNumber}: {e.Message}", e);
                }
                if (parsed)
                {
                    point.Instrument = _instrument;
                    return true;
                }
            }
            _reader.Dispose();
            _reader = null;
        }
    }

    /// <summary>Called before the first line of each file.</summary>
    protected virtual void BeginFile(LeanFile file)
    {
    }

    /// <summary>Parses one line; false skips it (e.g. a tick flagged suspicious).</summary>
    protected abstract bool TryParse(ReadOnlySpan<byte> line, out MarketData point);

    public void Dispose()
    {
        _reader?.Dispose();
        _reader = null;
        _nextFile = _files.Count;
    }
}

/// <summary>
/// A source of per-day files (minute bars, ticks): the date comes from the file name, and the price
/// adjustment and UTC offset are fixed for each file.
/// </summary>
internal abstract class LeanDayFileSource(IReadOnlyList<LeanFile> files, int instrument, double priceScale,
    ExchangeClock clock, PriceAdjuster adjuster) : LeanZipSource(files, instrument)
{
    protected double PriceScale { get; } = priceScale;
    protected ExchangeClock Clock { get; } = clock;
    protected PriceAdjuster Adjuster { get; } = adjuster;
    /// <summary>The current file's local date (DateOnly.DayNumber).</summary>
    protected int Day { get; private set; }

    protected override void BeginFile(LeanFile file)
    {
        Day = file.Date.DayNumber;
        Adjuster.SetDay(Day);
    }

    /// <summary>UTC ticks of a time given in milliseconds since the file's local midnight.</summary>
    protected long UtcTicks(long milliseconds) => Clock.ToUtcTicks(Day, milliseconds * TimeSpan.TicksPerMillisecond);
}
