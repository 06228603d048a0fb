using System.Globalization;

namespace Backtesting.Engine.Data.Lean;

/// <summary>
/// Opens streaming readers over LEAN data files. Every reader yields points in time order with
/// UTC <see cref="MarketData.Time"/>/<see cref="MarketData.EndTime"/> and the exchange-local
/// date in <see cref="MarketData.LocalDay"/>, reading the zip line by line.
/// </summary>
public static class LeanReaders
{
    /// <summary>LEAN stores equity prices as integers in 1/10,000 dollar.</summary>
    public const double EquityPriceScale = 10_000;

    /// <summary>Regular US equity session close, used when no calendar is given.</summary>
    public static readonly TimeSpan EquityClose = new(16, 0, 0);

    /// <summary>Regular US equity session open, used when no calendar is given.</summary>
    public static readonly TimeSpan EquityOpen = new(9, 30, 0);

    public static TimeZoneInfo NewYork { get; } = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    /// <summary>
    /// Equity daily bars (<c>equity/usa/daily/&lt;t&gt;.zip</c>): Time is the session open of the date
    /// (<paramref name="sessionOpen"/>, default 09:30 New York) and EndTime its close (<paramref name="sessionClose"/>,
    /// default 16:00).
    /// </summary>
    public static IMarketDataSource EquityDaily(string zipPath, int instrument, FactorFile? factors = null,
        PriceAdjustment adjustment = PriceAdjustment.Raw, Func<DateOnly, TimeSpan>? sessionClose = null,
        TimeZoneInfo? timeZone = null, Func<DateOnly, TimeSpan>? sessionOpen = null) =>
        new LeanDateBarReader(new LeanFile(zipPath, default), instrument, LeanBarLayout.Trade, EquityPriceScale,
            TimeSpan.FromDays(1), new ExchangeClock(timeZone ?? NewYork), sessionClose ?? (_ => EquityClose),
            Adjuster(factors, adjustment), sessionOpen ?? (_ => EquityOpen));

    /// <summary>Equity hourly bars (<c>equity/usa/hour/&lt;t&gt;.zip</c>): EndTime = Time + 1 hour.</summary>
    public static IMarketDataSource EquityHour(string zipPath, int instrument, FactorFile? factors = null,
        PriceAdjustment adjustment = PriceAdjustment.Raw, TimeZoneInfo? timeZone = null) =>
        new LeanDateBarReader(new LeanFile(zipPath, default), instrument, LeanBarLayout.Trade, EquityPriceScale,
            TimeSpan.FromHours(1), new ExchangeClock(timeZone ?? NewYork), null, Adjuster(factors, adjustment));

    /// <summary>Equity minute trade bars from per-day <c>_trade.zip</c> files, in the given order.</summary>
    public static IMarketDataSource EquityMinute(IReadOnlyList<LeanFile> dayFiles, int instrument,
        FactorFile? factors = null, PriceAdjustment adjustment = PriceAdjustment.Raw, TimeZoneInfo? timeZone = null) =>
        new LeanMinuteBarReader(dayFiles, instrument, LeanBarLayout.Trade, EquityPriceScale,
            new ExchangeClock(timeZone ?? NewYork), Adjuster(factors, adjustment));

    /// <summary>
    /// Equity minute quote bars from per-day <c>_quote.zip</c> files: OHLC are bid/ask mids, Bid/Ask
    /// the closing quote, Volume 0.
    /// </summary>
    public static IMarketDataSource EquityMinuteQuotes(IReadOnlyList<LeanFile> dayFiles, int instrument,
        FactorFile? factors = null, PriceAdjustment adjustment = PriceAdjustment.Raw, TimeZoneInfo? timeZone = null) =>
        new LeanMinuteBarReader(dayFiles, instrument, LeanBarLayout.Quote, EquityPriceScale,
            new ExchangeClock(timeZone ?? NewYork), Adjuster(factors, adjustment));

    /// <summary>Equity trade ticks from per-day <c>_trade.zip</c> files; suspicious ticks are dropped.</summary>
    public static IMarketDataSource TradeTicks(IReadOnlyList<LeanFile> dayFiles, int instrument,
        FactorFile? factors = null, PriceAdjustment adjustment = PriceAdjustment.Raw, TimeZoneInfo? timeZone = null) =>
        new LeanTradeTickReader(dayFiles, instrument, EquityPriceScale, new ExchangeClock(timeZone ?? NewYork),
            Adjuster(factors, adjustment));

    /// <summary>Equity quote ticks from per-day <c>_quote.zip</c> files; suspicious ticks are dropped.</summary>
    public static IMarketDataSource QuoteTicks(IReadOnlyList<LeanFile> dayFiles, int instrument,
        FactorFile? factors = null, PriceAdjustment adjustment = PriceAdjustment.Raw, TimeZoneInfo? timeZone = null) =>
        new LeanQuoteTickReader(dayFiles, instrument, EquityPriceScale, new ExchangeClock(timeZone ?? NewYork),
            Adjuster(factors, adjustment));

    /// <summary>
    /// Forex daily quote bars (<c>forex/oanda/daily/&lt;pair&gt;.zip</c>): OHLC are bid/ask mids; times
    /// are in the data time zone (UTC for OANDA); EndTime = Time + 1 day; LocalDay is the file's date.
    /// </summary>
    public static IMarketDataSource ForexDaily(string zipPath, int instrument, TimeZoneInfo? dataTimeZone = null) =>
        new LeanDateBarReader(new LeanFile(zipPath, default), instrument, LeanBarLayout.Quote, 1, TimeSpan.FromDays(1),
            new ExchangeClock(dataTimeZone ?? TimeZoneInfo.Utc), null, PriceAdjuster.None);

    /// <summary>Crypto daily trade bars (<c>crypto/coinbase/daily/btcusd_trade.zip</c>), UTC; EndTime = Time + 1 day.</summary>
    public static IMarketDataSource CryptoDaily(string zipPath, int instrument, TimeZoneInfo? dataTimeZone = null) =>
        new LeanDateBarReader(new LeanFile(zipPath, default), instrument, LeanBarLayout.Trade, 1, TimeSpan.FromDays(1),
            new ExchangeClock(dataTimeZone ?? TimeZoneInfo.Utc), null, PriceAdjuster.None);

    /// <summary>
    /// The per-day files <c>YYYYMMDD&lt;suffix&gt;</c> (suffix e.g. <c>_trade.zip</c>) of a minute or tick
    /// folder, ordered by date; empty when the folder does not exist.
    /// </summary>
    public static IReadOnlyList<LeanFile> DayFiles(string folder, string suffix)
    {
        if (!Directory.Exists(folder))
            return [];
        var files = new List<LeanFile>();
        foreach (var path in Directory.EnumerateFiles(folder, "*" + suffix))
        {
            var name = Path.GetFileName(path);
            if (name.Length == 8 + suffix.Length
                && DateOnly.TryParseExact(name.AsSpan(0, 8), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                files.Add(new LeanFile(path, date));
            }
        }
        files.Sort((a, b) => a.Date.CompareTo(b.Date));
        return files;
    }

    private static PriceAdjuster Adjuster(FactorFile? factors, PriceAdjustment adjustment) =>
        factors is null || adjustment == PriceAdjustment.Raw ? PriceAdjuster.None : new PriceAdjuster(factors, adjustment);
}
