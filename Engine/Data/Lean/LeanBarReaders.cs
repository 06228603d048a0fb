namespace Backtesting.Engine.Data.Lean;

/// <summary>How the price columns after the time stamp are laid out.</summary>
internal enum LeanBarLayout
{
    /// <summary><c>open,high,low,close,volume</c>.</summary>
    Trade,
    /// <summary><c>bid o,h,l,c,bid size,ask o,h,l,c,ask size</c>; OHLC become the bid/ask mid.</summary>
    Quote,
}

/// <summary>Shared column parsing of trade and quote bars.</summary>
internal static class LeanBarColumns
{
    /// <summary>Reads the price columns; raw prices are divided by <paramref name="priceScale"/> then adjusted.</summary>
    public static void Read(ref CsvFields fields, LeanBarLayout layout, double priceScale, PriceAdjuster adjuster,
        long time, long endTime, int localDay, out MarketData point)
    {
        var multiplier = adjuster.PriceMultiplier;
        if (layout == LeanBarLayout.Trade)
        {
            var open = fields.NextDouble() / priceScale * multiplier;
            var high = fields.NextDouble() / priceScale * multiplier;
            var low = fields.NextDouble() / priceScale * multiplier;
            var close = fields.NextDouble() / priceScale * multiplier;
            var volume = fields.NextDouble() / adjuster.VolumeDivisor;
            point = MarketData.CreateBar(0, time, endTime, localDay, open, high, low, close, volume);
            return;
        }
        var bidOpen = fields.NextDoubleOrZero() / priceScale * multiplier;
        var bidHigh = fields.NextDoubleOrZero() / priceScale * multiplier;
        var bidLow = fields.NextDoubleOrZero() / priceScale * multiplier;
        var bidClose = fields.NextDoubleOrZero() / priceScale * multiplier;
        var bidSize = fields.NextDoubleOrZero() / adjuster.VolumeDivisor;
        var askOpen = fields.NextDoubleOrZero() / priceScale * multiplier;
        var askHigh = fields.NextDoubleOrZero() / priceScale * multiplier;
        var askLow = fields.NextDoubleOrZero() / priceScale * multiplier;
        var askClose = fields.NextDoubleOrZero() / priceScale * multiplier;
        var askSize = fields.NextDoubleOrZero() / adjuster.VolumeDivisor;
        // Quotes carry no traded volume; Bid/Ask hold the closing quote of the bar.
        point = MarketData.CreateBar(0, time, endTime, localDay,
            Mid(bidOpen, askOpen), Mid(bidHigh, askHigh), Mid(bidLow, askLow), Mid(bidClose, askClose), 0);
        point.Bid = bidClose;
        point.Ask = askClose;
        point.BidSize = bidSize;
        point.AskSize = askSize;
    }

    /// <summary>The mid, or the one side present when the other is missing (0).</summary>
    public static double Mid(double bid, double ask) => bid > 0 && ask > 0 ? (bid + ask) / 2 : Math.Max(bid, ask);
}

/// <summary>
/// Bars from one zip whose lines start with <c>YYYYMMDD HH:MM</c> in the data time zone: equity
/// daily and hourly bars, forex and crypto daily bars. LocalDay is the date written in the file.
/// </summary>
internal sealed class LeanDateBarReader : LeanZipSource
{
    private readonly LeanBarLayout _layout;
    private readonly double _priceScale;
    private readonly long _periodTicks;
    private readonly ExchangeClock _clock;
    private readonly Func<DateOnly, TimeSpan>? _sessionClose;
    private readonly Func<DateOnly, TimeSpan>? _sessionOpen;
    private readonly PriceAdjuster _adjuster;

    /// <param name="sessionClose">
    /// When set (equity daily bars), a bar ends at that local time of its date rather than after
    /// <paramref name="period"/>: the daily bar is only known at the session close.
    /// </param>
    /// <param name="sessionOpen">
    /// When set with <paramref name="sessionClose"/>, a daily bar starts at the session open, so a fill at the
    /// bar's open is stamped at the time it could really happen (09:30 New York, not midnight).
    /// </param>
    public LeanDateBarReader(LeanFile file, int instrument, LeanBarLayout layout, double priceScale, TimeSpan period,
        ExchangeClock clock, Func<DateOnly, TimeSpan>? sessionClose, PriceAdjuster adjuster,
        Func<DateOnly, TimeSpan>? sessionOpen = null)
        : base([file], instrument)
    {
        _layout = layout;
        _priceScale = priceScale;
        _periodTicks = period.Ticks;
        _clock = clock;
        _sessionClose = sessionClose;
        _sessionOpen = sessionOpen;
        _adjuster = adjuster;
    }

    protected override bool TryParse(ReadOnlySpan<byte> line, out MarketData point)
    {
        var fields = new CsvFields(line);
        var (date, ticksOfDay) = fields.NextDateTime();
        var day = date.DayNumber;
        _adjuster.SetDay(day);
        var time = _clock.ToUtcTicks(day, _sessionOpen is null ? ticksOfDay : _sessionOpen(date).Ticks);
        var endTime = _sessionClose is null ? time + _periodTicks : _clock.ToUtcTicks(day, _sessionClose(date).Ticks);
        LeanBarColumns.Read(ref fields, _layout, _priceScale, _adjuster, time, endTime, day, out point);
        return true;
    }
}

/// <summary>
/// Minute bars from per-day zips whose lines start with milliseconds since local midnight; the
/// date comes from the file name. The adjustment and UTC offset are fixed per file.
/// </summary>
internal sealed class LeanMinuteBarReader(IReadOnlyList<LeanFile> files, int instrument, LeanBarLayout layout, double priceScale,
    ExchangeClock clock, PriceAdjuster adjuster) : LeanDayFileSource(files, instrument, priceScale, clock, adjuster)
{
    private static readonly long MinuteTicks = TimeSpan.TicksPerMinute;

    protected override bool TryParse(ReadOnlySpan<byte> line, out MarketData point)
    {
        var fields = new CsvFields(line);
        var time = UtcTicks(fields.NextLong());
        LeanBarColumns.Read(ref fields, layout, PriceScale, Adjuster, time, time + MinuteTicks, Day, out point);
        return true;
    }
}
