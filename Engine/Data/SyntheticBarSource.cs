namespace Backtesting.Engine.Data;

/// <summary>
/// Deterministic synthetic bars for tests and benchmarks: a seeded random walk generated on demand, so
/// any number of bars streams in constant memory and without I/O. The same seed always gives the same
/// bars, on every machine and runtime (the generator is SplitMix64, not <see cref="Random"/>).
/// </summary>
/// <remarks>
/// Sessions run on weekdays (no holidays) from <see cref="SessionOpen"/> UTC, <c>barsPerDay</c> bars of
/// <c>barLength</c> each; the local day is the UTC date. Each bar opens at the previous close; the
/// close moves by a uniform step of standard deviation <c>volatility</c> (relative), with a weak pull
/// back towards the start price so prices stay positive and in a realistic range however long the run.
/// High and low reach a little beyond the open and close; volume is between 1,000 and 10,000.
/// </remarks>
public sealed class SyntheticBarSource : IMarketDataSource
{
    /// <summary>When each session's first bar starts, UTC (09:30 New York in winter).</summary>
    public static readonly TimeSpan SessionOpen = new(14, 30, 0);

    // Strength of the pull towards the start price per bar: half-life of about 70,000 bars.
    private const double Reversion = 1e-5;
    private const ulong Mask21 = (1UL << 21) - 1;
    private const double UnitScale53 = 1.0 / (1UL << 53);
    private const double UnitScale21 = 1.0 / (1UL << 21);
    private static readonly double UniformToUnitStd = Math.Sqrt(3);

    private readonly int _instrument;
    private readonly int _barsPerDay;
    private readonly long _barTicks;
    private readonly double _anchor;
    private readonly double _step;
    private readonly double _wick;
    private ulong _state;
    private long _remaining;
    private int _barOfDay;
    private int _dayNumber;
    private long _sessionStart;
    private double _close;

    /// <param name="instrument">Index stamped on every bar.</param>
    /// <param name="count">Bars to produce.</param>
    /// <param name="seed">Seed of the random walk: equal seeds give equal bars.</param>
    /// <param name="firstDay">First session (moved to the next weekday when it falls on a weekend).</param>
    /// <param name="barsPerDay">Bars per session (390 minute bars by default; 1 with a 6.5-hour bar for daily data).</param>
    /// <param name="barLength">Length of one bar; one minute when omitted.</param>
    /// <param name="startPrice">The first open, and the level prices revert to.</param>
    /// <param name="volatility">Standard deviation of one bar's relative close-to-close move.</param>
    public SyntheticBarSource(int instrument, long count, ulong seed, DateOnly firstDay, int barsPerDay = 390,
        TimeSpan? barLength = null, double startPrice = 100, double volatility = 0.001)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(instrument);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(barsPerDay, 1);
        var length = barLength ?? TimeSpan.FromMinutes(1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(length, TimeSpan.Zero, nameof(barLength));
        if (SessionOpen + (length * barsPerDay) > TimeSpan.FromDays(1))
        {
            throw new ArgumentException("a session must end on the day it starts: fewer or shorter bars", nameof(barsPerDay));
        }

        if (!(startPrice > 0) || !double.IsFinite(startPrice))
        {
            throw new ArgumentOutOfRangeException(nameof(startPrice), startPrice, "must be a positive number");
        }

        if (!(volatility >= 0) || volatility > 0.1)
        {
            throw new ArgumentOutOfRangeException(nameof(volatility), volatility, "must be in [0, 0.1]");
        }

        _instrument = instrument;
        _barsPerDay = barsPerDay;
        _barTicks = length.Ticks;
        _anchor = startPrice;
        _step = 2 * volatility * UniformToUnitStd;
        _wick = volatility / 2;
        _state = seed;
        _remaining = count;
        _close = startPrice;
        Count = count;
        StartDay(WeekdayOnOrAfter(firstDay));
    }

    public long Count { get; }

    public bool TryRead(out MarketData point)
    {
        point = default;
        return Read(new Span<MarketData>(ref point)) == 1;
    }

    public int Read(Span<MarketData> buffer)
    {
        var count = (int)Math.Min(buffer.Length, _remaining);
        // The walk's state lives in locals for the whole batch and is stored back once.
        var state = _state;
        var close = _close;
        var barOfDay = _barOfDay;
        var sessionStart = _sessionStart;
        for (var i = 0; i < count; i++)
        {
            if (barOfDay == _barsPerDay)
            {
                StartDay(WeekdayOnOrAfter(DateOnly.FromDayNumber(_dayNumber + 1)));
                barOfDay = 0;
                sessionStart = _sessionStart;
            }

            var time = sessionStart + (barOfDay++ * _barTicks);
            var open = close;
            // Two 64-bit draws a bar: the step from 53 bits of one; the two wicks and the volume from 21 bits each
            // of the other (integer-to-double conversions and multiplies only: this runs once per bar in the benchmarks).
            var unit = (long)(NextBits(ref state) >> 11) * UnitScale53;
            var bits = NextBits(ref state);
            var highWick = (long)(bits & Mask21) * UnitScale21;
            var lowWick = (long)((bits >> 21) & Mask21) * UnitScale21;
            var volume = 1_000 + (long)((((bits >> 42) & Mask21) * 9_000) >> 21);
            // A uniform step in [-√3σ, √3σ] (standard deviation σ), plus the pull towards the anchor.
            close = open * (1 + (_step * (unit - 0.5)));
            close += Reversion * (_anchor - close);
            ref var point = ref buffer[i];
            point.Instrument = _instrument;
            point.Kind = MarketDataKind.Bar;
            point.Time = time;
            point.EndTime = time + _barTicks;
            point.LocalDay = _dayNumber;
            point.Open = open;
            point.High = Math.Max(open, close) * (1 + (_wick * highWick));
            point.Low = Math.Min(open, close) * (1 - (_wick * lowWick));
            point.Close = close;
            point.Volume = volume;
            point.Bid = 0;
            point.Ask = 0;
            point.BidSize = 0;
            point.AskSize = 0;
        }

        _state = state;
        _close = close;
        _barOfDay = barOfDay;
        _remaining -= count;
        return count;
    }

    private void StartDay(DateOnly day)
    {
        _dayNumber = day.DayNumber;
        _sessionStart = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).Ticks + SessionOpen.Ticks;
        _barOfDay = 0;
    }

    private static DateOnly WeekdayOnOrAfter(DateOnly day) => day.DayOfWeek switch
    {
        DayOfWeek.Saturday => day.AddDays(2),
        DayOfWeek.Sunday => day.AddDays(1),
        _ => day,
    };

    /// <summary>SplitMix64: 64 uniformly random bits.</summary>
    private static ulong NextBits(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public void Dispose()
    {
    }
}
