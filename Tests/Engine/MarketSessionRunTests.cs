using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Engine;

/// <summary>
/// Equity minute runs trade the regular session by default and the whole file with extendedHours; the bar counts
/// agree everywhere. The bundled SPY minute files (2013-10-04 to 10-11) hold 04:00-20:00 ET; 390 of each day's bars
/// lie in 09:30-16:00. GOOG's 2015-12-24 file (an early close at 13:00) holds 227 bars, 210 of them in 09:30-13:00.
/// </summary>
public class MarketSessionRunTests
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly MarketHours UsEquity = Data.Calendar.Hours("usa", AssetClass.Equity);

    private sealed class BarProbe : Strategy
    {
        public List<long> BarStarts { get; } = [];

        public override void OnBar(in MarketData bar) => BarStarts.Add(bar.Time);
    }

    private static BacktestResult Run(string json, Strategy? probe = null)
    {
        var catalog = probe is null
            ? StrategyCatalog.Templates
            : StrategyCatalog.Templates.With([StrategyDescriptor.For("BarProbe", "test probe", () => probe)]);
        var (config, parseErrors) = ConfigValidator.Parse(json);
        Assert.Empty(parseErrors);
        var validation = ConfigValidator.Validate(config!, Data, catalog, ValidationPolicy.Service, new DateOnly(2026, 11, 24));
        Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => $"{e.Field}: {e.Message}")));
        return new BacktestRun(validation.Spec!, Data, catalog).Execute();
    }

    private static string SpyOctober(string strategy = "MovingAverageCross", string extendedHours = "")
    {
        var parameters = strategy == "MovingAverageCross" ? """{"fastPeriod":10,"slowPeriod":30,"allowShort":true}""" : "{}";
        return "{\"strategyClass\":\"" + strategy + "\",\"strategyConfig\":" + parameters + """
            ,"startDate":"2013-10-01","endDate":"2013-10-31","instruments":["SPY"],"accountType":"margin",
             "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":10}},
             "dataConfiguration":{"resolution":"minute","adjustment":"raw"
            """ + extendedHours + "}}";
    }

    private static DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), NewYork);

    private static void AssertInRegularSession(DateTime utcStart, DateTime utcEnd)
    {
        var start = Local(utcStart);
        var end = Local(utcEnd);
        var date = DateOnly.FromDateTime(start);
        Assert.True(UsEquity.MarketOpen(date) is { } open && start.TimeOfDay >= open, $"{start:yyyy-MM-dd HH:mm} ET is before the open");
        Assert.True(UsEquity.MarketClose(date) is { } close && end.TimeOfDay <= close, $"{end:yyyy-MM-dd HH:mm} ET is after the close");
    }

    [Fact]
    public void A_spy_minute_run_by_default_fills_only_inside_the_regular_session()
    {
        var result = Run(SpyOctober());
        Assert.True(result.Fills.Count > 20, $"only {result.Fills.Count} fills");
        // A fill is stamped at the start of the bar it filled in; that bar lies inside the session.
        Assert.All(result.Fills, f => AssertInRegularSession(f.Time, f.Time.AddMinutes(1)));
        Assert.All(result.Trades, t => AssertInRegularSession(t.EntryTime, t.EntryTime.AddMinutes(1)));
        Assert.Equal(6 * 390, result.Summary.ProcessedBars);
    }

    [Fact]
    public void A_strategy_sees_no_pre_or_post_market_bar_by_default_and_every_one_with_extended_hours()
    {
        var regular = new BarProbe();
        Run(SpyOctober("BarProbe"), regular);
        Assert.Equal(6 * 390, regular.BarStarts.Count);
        Assert.All(regular.BarStarts, t => AssertInRegularSession(new DateTime(t), new DateTime(t).AddMinutes(1)));

        var extended = new BarProbe();
        Run(SpyOctober("BarProbe", ""","extendedHours":true"""), extended);
        // 711 + 828 + 828 + 813 + 883 + 776 lines in the six day files.
        Assert.Equal(4839, extended.BarStarts.Count);
        var firstLocal = Local(new DateTime(extended.BarStarts[0]));
        Assert.True(firstLocal.TimeOfDay < new TimeSpan(9, 30, 0), $"first bar at {firstLocal:HH:mm} ET");
        Assert.Contains(extended.BarStarts, t => Local(new DateTime(t)).TimeOfDay >= new TimeSpan(16, 0, 0));
    }

    [Fact]
    public void With_extended_hours_the_same_spy_run_trades_the_pre_market_too()
    {
        var result = Run(SpyOctober(extendedHours: ""","extendedHours":true"""));
        Assert.Equal(4839, result.Summary.ProcessedBars);
        Assert.Contains(result.Fills, f => Local(f.Time).TimeOfDay < new TimeSpan(9, 30, 0));
    }

    [Fact]
    public void On_an_early_close_day_no_bar_after_the_early_close_is_read()
    {
        var probe = new BarProbe();
        var result = Run("""
            {"strategyClass":"BarProbe","startDate":"2015-12-23","endDate":"2015-12-28","instruments":["GOOG"],
             "dataConfiguration":{"resolution":"minute","adjustment":"raw"}}
            """, probe);
        var christmasEve = probe.BarStarts.Select(t => Local(new DateTime(t))).Where(t => t.Date == new DateTime(2015, 12, 24)).ToList();
        Assert.Equal(210, christmasEve.Count);
        Assert.Equal(new TimeSpan(12, 59, 0), christmasEve.Max(t => t.TimeOfDay));
        Assert.All(probe.BarStarts, t => AssertInRegularSession(new DateTime(t), new DateTime(t).AddMinutes(1)));
        // 390 on the 23rd, 210 on the 24th, 382 on the 28th (eight regular minutes are missing from that file).
        Assert.Equal(390 + 210 + 382, result.Summary.ProcessedBars);
    }

    [Fact]
    public void On_an_early_close_day_no_order_fills_after_the_early_close()
    {
        var result = Run("""
            {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":5,"slowPeriod":15,"allowShort":true},
             "startDate":"2015-12-23","endDate":"2015-12-28","instruments":["GOOG"],"accountType":"margin",
             "dataConfiguration":{"resolution":"minute","adjustment":"raw"},
             "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":10}}}
            """);
        Assert.Contains(result.Fills, f => Local(f.Time).Date == new DateTime(2015, 12, 24));
        Assert.All(result.Fills, f => AssertInRegularSession(f.Time, f.Time.AddMinutes(1)));
    }

    [Theory]
    [InlineData("")]
    [InlineData(""","extendedHours":true""")]
    public void Processed_bars_equal_the_data_quality_counts_in_both_sessions(string extendedHours)
    {
        var result = Run(SpyOctober(extendedHours: extendedHours));
        var quality = Assert.Single(result.DataQuality);
        Assert.Equal(result.Summary.ProcessedBars, quality.TotalRead);
        Assert.Equal(result.Summary.ProcessedBars, quality.Kept);
        // October 2013 has 23 sessions; the minute files cover 6 of them.
        Assert.Equal(23 - 6, quality.MissingSessions);
    }

    [Fact]
    public void Daily_runs_are_the_same_with_and_without_extended_hours()
    {
        const string Daily = """
            {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
             "startDate":"2015-01-01","endDate":"2016-12-31","instruments":["SPY"]{0}}
            """;
        var regular = Run(Daily.Replace("{0}", ""));
        var extended = Run(Daily.Replace("{0}", ""","dataConfiguration":{"extendedHours":true}"""));
        Assert.Equal(regular.Summary.ProcessedBars, extended.Summary.ProcessedBars);
        Assert.Equal(regular.Trades, extended.Trades);
        Assert.Equal(regular.DailyEquity, extended.DailyEquity);
    }
}
