using Backtesting.Engine.Data;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

/// <summary>
/// The FX freshness rule on its edges, with series written for the test: a session on day D uses the latest bar dated
/// before D, and a rate more than <see cref="FxCoverage.MaxRateAgeDays"/> days older than D is stale.
/// </summary>
public sealed class FxCoverageTests : IDisposable
{
    private static readonly MarketCalendar Calendar = MarketCalendar.FromDataRoot(TestPaths.LeanData);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static DateOnly D(int year, int month, int day) => new(year, month, day);

    private static Instrument Stock(string quote) => new("TEST", "NYSE", AssetClass.Equity, quote, 1, 0.01, "usa", "America/New_York");

    /// <summary>A daily series with a bar on every day (weekends too, as OANDA's has Sundays) from first to last.</summary>
    private string Series(string pair, DateOnly first, DateOnly last, double rate = 1.25, params DateOnly[] missing)
    {
        var path = _folder.File(pair + ".bin");
        using var writer = BinaryBarFile.Create(path);
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            if (missing.Contains(day))
                continue;
            var start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).Ticks;
            writer.Write(MarketData.CreateBar(0, start, start + TimeSpan.TicksPerDay, day.DayNumber, rate, rate, rate, rate, 0));
        }
        return path;
    }

    private FxRates Rates(params (string Pair, string Path)[] series) =>
        new("TEST", new Dictionary<string, string>(), series.ToDictionary(s => s.Pair, s => s.Path));

    private IReadOnlyList<FxStaleSpan> Check(FxRates rates, string quote, string baseCurrency, DateOnly start, DateOnly end) =>
        FxCoverage.Check(rates, Calendar, [Stock(quote)], baseCurrency, start, end);

    [Fact]
    public void A_series_ending_one_day_before_the_last_session_is_as_fresh_as_one_ending_on_it()
    {
        // The session of Friday 2018-12-28 uses the bar of the 27th either way: a day's own bar is known only at its end.
        foreach (var last in new[] { D(2018, 12, 27), D(2018, 12, 28) })
        {
            var rates = Rates(("EURUSD", Series("EURUSD", D(2018, 1, 1), last)));
            Assert.Empty(Check(rates, "USD", "EUR", D(2018, 6, 1), D(2018, 12, 28)));
        }
    }

    [Fact]
    public void A_holiday_at_the_end_is_not_a_conversion_day()
    {
        // Ends Wednesday 2018-12-26; the run ends on New Year's Day, a holiday, so its last session is Monday the 31st:
        // the rate is 5 days old there, at the limit. Ending on 2 January instead needs a 7-day-old rate that one day.
        var rates = Rates(("EURUSD", Series("EURUSD", D(2018, 1, 1), D(2018, 12, 26))));
        Assert.Empty(Check(rates, "USD", "EUR", D(2018, 6, 1), D(2019, 1, 1)));
        var span = Assert.Single(Check(rates, "USD", "EUR", D(2018, 6, 1), D(2019, 1, 2)));
        Assert.Equal(new FxStaleSpan("EURUSD", D(2018, 12, 26), D(2019, 1, 2), D(2019, 1, 2), 1, D(2018, 12, 26)), span);
        Assert.True(span.PastEnd);
    }

    [Fact]
    public void A_run_past_the_end_of_its_series_names_the_pair_the_last_date_and_the_days()
    {
        var rates = Rates(("EURUSD", Series("EURUSD", D(2018, 1, 1), D(2018, 12, 31))));
        var span = Assert.Single(Check(rates, "USD", "EUR", D(2018, 6, 1), D(2019, 1, 31)));
        // Sessions from 7 January (the first more than 5 days after the 31st) to 31 January: 18 of them (the 21st is a holiday).
        Assert.Equal(new FxStaleSpan("EURUSD", D(2018, 12, 31), D(2019, 1, 7), D(2019, 1, 31), 18, D(2018, 12, 31)), span);
        Assert.Contains("EURUSD ends 2018-12-31", span.Describe(carried: false));
        Assert.Contains("18 trading day(s)", span.Describe(carried: true));
    }

    [Fact]
    public void A_run_starting_before_the_first_bar_has_no_rate_to_carry()
    {
        var rates = Rates(("EURUSD", Series("EURUSD", D(2018, 3, 1), D(2018, 12, 31))));
        var span = Assert.Single(Check(rates, "USD", "EUR", D(2018, 2, 26), D(2018, 6, 1)));
        // The sessions of 26 Feb to 1 March have no earlier bar at all; 2 March uses the bar of the 1st.
        Assert.Equal(new FxStaleSpan("EURUSD", null, D(2018, 2, 26), D(2018, 3, 1), 4, D(2018, 12, 31)), span);
        Assert.Empty(Check(rates, "USD", "EUR", D(2018, 3, 2), D(2018, 6, 1)));
    }

    [Fact]
    public void A_missing_week_inside_the_series_is_stale_on_the_days_past_the_limit()
    {
        // No bars 10-15 June 2018 (Sunday to Friday): Thursday the 14th is 5 days after Saturday the 9th (at the limit), Friday the 15th 6.
        var missing = Enumerable.Range(10, 6).Select(d => D(2018, 6, d)).ToArray();
        var rates = Rates(("EURUSD", Series("EURUSD", D(2018, 1, 1), D(2018, 12, 31), missing: missing)));
        var span = Assert.Single(Check(rates, "USD", "EUR", D(2018, 6, 1), D(2018, 6, 29)));
        Assert.Equal(new FxStaleSpan("EURUSD", D(2018, 6, 9), D(2018, 6, 15), D(2018, 6, 15), 1, D(2018, 12, 31)), span);
        Assert.False(span.PastEnd);
    }

    [Fact]
    public void A_triangulated_conversion_checks_both_legs_when_neither_currency_is_usd()
    {
        // EUR into GBP goes through EURUSD and GBPUSD; only the GBP leg ends early.
        var rates = Rates(("EURUSD", Series("EURUSD", D(2018, 1, 1), D(2019, 12, 31))),
            ("GBPUSD", Series("GBPUSD", D(2018, 1, 1), D(2018, 12, 31))));
        var span = Assert.Single(Check(rates, "EUR", "GBP", D(2018, 6, 1), D(2019, 3, 29)));
        Assert.Equal("GBPUSD", span.Pair);
        Assert.True(span.PastEnd);
    }

    [Fact]
    public void An_instrument_quoted_in_euros_in_a_dollar_account_needs_eurusd_too()
    {
        var rates = Rates(("EURUSD", Series("EURUSD", D(2018, 1, 1), D(2018, 12, 31))));
        Assert.Equal("EURUSD", Assert.Single(Check(rates, "EUR", "USD", D(2018, 6, 1), D(2019, 3, 29))).Pair);
        Assert.Empty(Check(rates, "USD", "USD", D(2018, 6, 1), D(2019, 3, 29)));
    }

    [Theory]
    [InlineData("USDJPY", "USD", "JPY", 110.0)]
    [InlineData("USDJPY", "JPY", "USD", 1 / 110.0)]
    [InlineData("JPYUSD", "JPY", "USD", 110.0)]
    [InlineData("JPYUSD", "USD", "JPY", 1 / 110.0)]
    public void An_imported_pair_converts_in_its_own_direction_and_inverted(string pair, string from, string to, double expected)
    {
        var rates = Rates((pair, Series(pair, D(2018, 1, 1), D(2018, 12, 31), rate: 110)));
        Assert.True(rates.TryGetRate(from, to, D(2018, 6, 1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).Ticks, out var rate));
        Assert.Equal(expected, rate, 12);
        Assert.Equal($"imported daily close: {pair} (latest bar known at the time; USD-triangulated)", rates.Source);
    }

    [Fact]
    public void The_bundled_eurusd_has_a_missing_week_in_december_2016_and_ends_in_2018()
    {
        var rates = FxRates.FromLeanFolder(TestPaths.LeanData);
        var spans = Check(rates, "USD", "EUR", D(2016, 1, 1), D(2019, 3, 1));
        Assert.Equal(
            [new FxStaleSpan("EURUSD", D(2016, 12, 9), D(2016, 12, 15), D(2016, 12, 16), 2, D(2018, 12, 31)),
             new FxStaleSpan("EURUSD", D(2018, 12, 31), D(2019, 1, 7), D(2019, 3, 1), 38, D(2018, 12, 31))],
            spans);
    }
}
