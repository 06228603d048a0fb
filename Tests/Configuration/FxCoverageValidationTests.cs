using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Configuration;

/// <summary>
/// Rule fxCoverage against the bundled data: EURUSD runs from 2007-01-01 to 2018-12-31 and misses 10-15 December 2016.
/// A run that would use a stale rate is refused unless dataConfiguration.fxCarryForward opts in; then it says so.
/// </summary>
public class FxCoverageValidationTests
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);
    private static readonly DateOnly Today = new(2026, 11, 24);

    private static BacktestConfig Euro(string start, string end, bool carryForward = false) =>
        ConfigValidator.Parse(ValidationTests.SeedExample).Config! with
        {
            StartDate = start,
            EndDate = end,
            BaseCurrency = "EUR",
            DataConfiguration = new DataConfiguration { Adjustment = "raw", FxCarryForward = carryForward },
        };

    private static ValidationOutcome Validate(BacktestConfig config) =>
        ConfigValidator.Validate(config, Data, StrategyCatalog.Templates, ValidationPolicy.Service, Today);

    [Fact]
    public void A_euro_run_past_the_end_of_eurusd_is_refused_naming_the_pair_and_its_last_date()
    {
        var error = Assert.Single(Validate(Euro("2017-01-01", "2020-12-31")).Errors);
        Assert.Equal(("endDate", "fxCoverage"), (error.Field, error.Rule));
        Assert.Contains("EURUSD ends 2018-12-31", error.Message);
        Assert.Contains("dataConfiguration.fxCarryForward", error.Message);
    }

    [Fact]
    public void A_euro_run_inside_the_coverage_is_valid_up_to_the_last_fresh_session()
    {
        Assert.True(Validate(Euro("2017-01-01", "2018-12-31")).IsValid);
        // 4 January 2019 is 4 days after the last bar; the 7th would be 7.
        Assert.True(Validate(Euro("2017-01-01", "2019-01-04")).IsValid);
        Assert.Equal("fxCoverage", Assert.Single(Validate(Euro("2017-01-01", "2019-01-07")).Errors).Rule);
    }

    [Fact]
    public void A_run_starting_before_the_first_rate_is_refused_even_with_carry_forward()
    {
        foreach (var carry in new[] { false, true })
        {
            var error = Assert.Single(Validate(Euro("2006-06-01", "2007-06-01", carry)).Errors);
            Assert.Equal(("startDate", "fxCoverage"), (error.Field, error.Rule));
            Assert.Contains("EURUSD has no rate before", error.Message);
        }
    }

    [Fact]
    public void The_missing_week_of_december_2016_is_refused_without_the_opt_in()
    {
        var error = Assert.Single(Validate(Euro("2016-06-01", "2017-06-01")).Errors);
        Assert.Equal(("baseCurrency", "fxCoverage"), (error.Field, error.Rule));
        Assert.Contains("2016-12-09", error.Message);
        Assert.True(Validate(Euro("2016-06-01", "2017-06-01", carryForward: true)).IsValid);
    }

    [Fact]
    public void A_benchmark_quoted_in_another_currency_is_checked_too()
    {
        // EURGBP needs no rate in a pound account, but its benchmark SPY is converted through GBPUSD, which ends in 2018.
        var config = ConfigValidator.Parse(ValidationTests.SeedExample).Config! with
        {
            StartDate = "2018-06-01", EndDate = "2019-06-01", BaseCurrency = "GBP", Instruments = ["EURGBP"], Benchmark = "SPY",
        };
        var errors = Validate(config).Errors;
        Assert.Contains(errors, e => e.Rule == "fxCoverage" && e.Message.Contains("GBPUSD ends 2018-12-31"));
    }

    [Fact]
    public void With_carry_forward_a_euro_run_to_2020_completes_and_notes_the_pair_the_date_and_the_days()
    {
        var outcome = Validate(Euro("2018-01-01", "2020-12-31", carryForward: true));
        Assert.True(outcome.IsValid, string.Join("; ", outcome.Errors.Select(e => e.Message)));
        var result = new BacktestRun(outcome.Spec!, Data, StrategyCatalog.Templates).Execute();
        var note = Assert.Single(result.Notes, n => n.Contains("fxCarryForward"));
        // Every session from 7 January 2019 to the end: 502 of them.
        Assert.Contains("EURUSD ends 2018-12-31: its last rate was carried forward to 502 trading day(s) from 2019-01-07 to 2020-12-31", note);
        Assert.Contains("stale rates carried forward on 502 trading day(s)", result.FxRateSource);
    }
}
