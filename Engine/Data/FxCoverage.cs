namespace Backtesting.Engine.Data;

/// <summary>
/// A run of consecutive conversion days on which a pair's latest rate is older than
/// <see cref="FxCoverage.MaxRateAgeDays"/>, all served by the same bar.
/// </summary>
/// <param name="Pair">The six-letter series, e.g. EURUSD.</param>
/// <param name="RateDate">Date of the bar whose rate those days would use; null when the series has no bar before them
/// (the run starts before the series), which no opt-in can fix.</param>
/// <param name="FirstDay">First conversion day affected.</param>
/// <param name="LastDay">Last conversion day affected.</param>
/// <param name="Days">Conversion days affected (trading days of the instruments that need the pair).</param>
/// <param name="SeriesLast">The last bar date of the series.</param>
public sealed record FxStaleSpan(string Pair, DateOnly? RateDate, DateOnly FirstDay, DateOnly LastDay, int Days, DateOnly? SeriesLast)
{
    /// <summary>True when the span runs past the end of the series (rather than sitting in a gap inside it).</summary>
    public bool PastEnd => RateDate is { } date && date == SeriesLast;

    /// <summary>Plain words for an error (<paramref name="carried"/> false: what would happen) or a note (true: what did).</summary>
    public string Describe(bool carried)
    {
        var used = carried ? "was carried forward to" : "would be used on";
        return RateDate is not { } rate
            ? $"{Pair} has no rate before {FirstDay:yyyy-MM-dd} (its first bar is later)"
            : PastEnd
                ? $"{Pair} ends {rate:yyyy-MM-dd}: its last rate {used} {Days} trading day(s) from {FirstDay:yyyy-MM-dd} to {LastDay:yyyy-MM-dd}, more than {FxCoverage.MaxRateAgeDays} days after it"
                : $"{Pair} has no bar between {rate:yyyy-MM-dd} and {LastDay:yyyy-MM-dd}: the rate of {rate:yyyy-MM-dd} {used} {Days} trading day(s) from {FirstDay:yyyy-MM-dd} to {LastDay:yyyy-MM-dd}, more than {FxCoverage.MaxRateAgeDays} days after it";
    }
}

/// <summary>
/// The freshness rule for exchange rates: on a trading day D an instrument needing conversion uses the latest daily bar
/// dated before D (a daily bar is known at the end of its day, so a session on D never sees D's own bar). That rate is
/// stale when its bar is more than <see cref="MaxRateAgeDays"/> calendar days older than D: past the end of the series,
/// or across a gap inside it. A run with no bar at all before a conversion day (it starts before the series) cannot
/// convert that day.
/// </summary>
public static class FxCoverage
{
    /// <summary>
    /// The oldest a rate may be, in calendar days, without <c>dataConfiguration.fxCarryForward</c>: a weekend followed by
    /// a holiday and one missing day still passes; a missing week does not.
    /// </summary>
    public const int MaxRateAgeDays = 5;

    /// <summary>
    /// Every stale span of every series the run's conversions read: each instrument (the benchmark included) quoted in
    /// another currency than <paramref name="baseCurrency"/>, on its market's trading days in [start, end].
    /// </summary>
    public static IReadOnlyList<FxStaleSpan> Check(IFxRateProvider fx, IMarketCalendar calendar, IEnumerable<Instrument> instruments,
        string baseCurrency, DateOnly start, DateOnly end)
    {
        // Pair -> its bar dates and the conversion days that read it.
        var needs = new SortedDictionary<string, (IReadOnlyList<DateOnly> Dates, SortedSet<DateOnly> Days)>(StringComparer.Ordinal);
        foreach (var instrument in instruments)
        {
            if (instrument.QuoteCurrency == baseCurrency || fx.Coverage(instrument.QuoteCurrency, baseCurrency) is not { } series)
            {
                continue;
            }

            foreach (var (pair, dates) in series)
            {
                if (!needs.TryGetValue(pair, out var need))
                {
                    need = (dates, new SortedSet<DateOnly>());
                    needs[pair] = need;
                }

                need.Days.UnionWith(calendar.TradingDays(instrument.Market, instrument.AssetClass, start, end));
            }
        }

        var spans = new List<FxStaleSpan>();
        foreach (var (pair, (dates, days)) in needs)
        {
            DateOnly? seriesLast = dates.Count > 0 ? dates[^1] : null;
            FxStaleSpan? open = null;
            foreach (var day in days)
            {
                var rate = LatestBefore(dates, day);
                var stale = rate is not { } r || day.DayNumber - r.DayNumber > MaxRateAgeDays;
                if (open is not null && (!stale || open.RateDate != rate))
                {
                    spans.Add(open);
                    open = null;
                }

                if (stale)
                {
                    open = open is null
                        ? new FxStaleSpan(pair, rate, day, day, 1, seriesLast)
                        : open with { LastDay = day, Days = open.Days + 1 };
                }
            }

            if (open is not null)
            {
                spans.Add(open);
            }
        }

        return spans;
    }

    /// <summary>The latest date in the ascending list that is before <paramref name="day"/>, or null.</summary>
    private static DateOnly? LatestBefore(IReadOnlyList<DateOnly> dates, DateOnly day)
    {
        int lo = 0, hi = dates.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (dates[mid] < day)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo > 0 ? dates[lo - 1] : null;
    }
}
