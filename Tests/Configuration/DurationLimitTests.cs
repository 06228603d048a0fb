using System.Globalization;
using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Backtesting.Tests.Optimization;

namespace Backtesting.Tests.Configuration;

/// <summary>
/// The cluster's maximum duration as a deployment setting (Backtesting:MaxDurationYears): what the setting accepts, and
/// the boundary day under other limits than the default for a backtest, an optimization's base config and a walk-forward's
/// whole span, each refusal naming its field and the configured limit.
/// </summary>
public class DurationLimitTests
{
    private static readonly DateOnly Today = OptimizationFixtures.Today;

    /// <summary>Limits to try: the shortest, two others, and the default.</summary>
    public static readonly TheoryData<int> Limits = new() { 1, 2, 5, 8 };

    /// <summary>Starts to try: an ordinary day, and a leap day (29 February plus N years is 28 February unless N is a multiple of 4).</summary>
    private static readonly DateOnly[] Starts = [new(2010, 1, 4), new(2012, 2, 29)];

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("1", 1)]
    [InlineData("2", 2)]
    [InlineData("5", 5)]
    [InlineData("8", 8)]
    [InlineData("08", 8)]
    [InlineData("200", 200)]
    public void A_whole_number_of_years_from_1_to_200_is_a_limit(string setting, int years)
    {
        var (policy, error) = ValidationPolicy.FromSetting(setting);
        Assert.Null(error);
        Assert.Equal(years, policy!.MaxDurationYears);
        Assert.Equal(years.ToString(CultureInfo.InvariantCulture), policy.Setting);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    public void None_in_any_case_is_no_limit(string setting)
    {
        var (policy, error) = ValidationPolicy.FromSetting(setting);
        Assert.Null(error);
        Assert.Null(policy!.MaxDurationYears);
        Assert.Equal("none", policy.Setting);
    }

    [Fact]
    public void The_setting_left_out_is_the_seeds_five_years()
    {
        var (policy, error) = ValidationPolicy.FromSetting(null);
        Assert.Null(error);
        Assert.Equal(ValidationPolicy.DefaultMaxDurationYears, policy!.MaxDurationYears);
        Assert.Equal(5, ValidationPolicy.DefaultMaxDurationYears);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("201")]
    [InlineData("2147483648")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" 5")]
    [InlineData("5 ")]
    [InlineData("+5")]
    [InlineData("5.5")]
    [InlineData("5,0")]
    [InlineData("1e1")]
    [InlineData("five")]
    [InlineData("unlimited")]
    [InlineData("null")]
    [InlineData("\u0665")]
    public void Anything_else_is_refused_naming_the_setting_what_it_accepts_and_what_it_got(string setting)
    {
        var (policy, error) = ValidationPolicy.FromSetting(setting);
        Assert.Null(policy);
        Assert.NotNull(error);
        Assert.Contains("Backtesting:MaxDurationYears", error, StringComparison.Ordinal);
        Assert.Contains("1 to 200", error, StringComparison.Ordinal);
        Assert.Contains("'none'", error, StringComparison.Ordinal);
        Assert.Contains($"'{setting}' is not", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(201)]
    public void A_policy_cannot_be_built_with_a_limit_that_means_nothing(int years) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ValidationPolicy(years));

    [Theory]
    [MemberData(nameof(Limits))]
    public void A_backtest_may_end_on_the_start_plus_the_limit_and_not_a_day_later(int years)
    {
        var policy = new ValidationPolicy(years);
        foreach (var start in Starts)
        {
            var last = start.AddYears(years);
            var config = Backtest(start, last);
            var accepted = ConfigValidator.Validate(config, OptimizationFixtures.Lean, StrategyCatalog.Templates, policy, Today);
            Assert.True(accepted.IsValid, $"{years}y from {Date(start)} to {Date(last)}: " + string.Join("; ", accepted.Errors.Select(e => e.Message)));

            var refused = ConfigValidator.Validate(config with { EndDate = Date(last.AddDays(1)) }, OptimizationFixtures.Lean, StrategyCatalog.Templates,
                policy, Today).Errors;
            AssertLimitError(refused, "endDate", years, last);

            // No limit: the day after is accepted too.
            Assert.True(ConfigValidator.Validate(config with { EndDate = Date(last.AddDays(1)) }, OptimizationFixtures.Lean, StrategyCatalog.Templates,
                ValidationPolicy.Local, Today).IsValid);
        }
    }

    [Theory]
    [MemberData(nameof(Limits))]
    public void An_optimizations_base_config_obeys_the_same_limit(int years)
    {
        var policy = new ValidationPolicy(years);
        foreach (var start in Starts)
        {
            var last = start.AddYears(years);
            var (errors, plan) = OptimizationValidator.Validate(Optimization(start, last), OptimizationFixtures.Lean, StrategyCatalog.Templates, policy, Today);
            Assert.True(plan is not null, string.Join("; ", errors.Select(e => e.Message)));

            var (refused, none) = OptimizationValidator.Validate(Optimization(start, last.AddDays(1)), OptimizationFixtures.Lean, StrategyCatalog.Templates,
                policy, Today);
            Assert.Null(none);
            AssertLimitError(refused, "baseConfig.endDate", years, last);
        }
    }

    [Theory]
    [MemberData(nameof(Limits))]
    public void A_walk_forwards_whole_span_obeys_the_same_limit(int years)
    {
        var policy = new ValidationPolicy(years);
        foreach (var start in Starts)
        {
            var last = start.AddYears(years);
            var (errors, plan) = WalkForwardJobRules.Validate(WalkForward(start, last), OptimizationFixtures.Lean, StrategyCatalog.Templates, policy, Today);
            Assert.True(plan is not null, string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));

            var (refused, none) = WalkForwardJobRules.Validate(WalkForward(start, last.AddDays(1)), OptimizationFixtures.Lean, StrategyCatalog.Templates,
                policy, Today);
            Assert.Null(none);
            AssertLimitError(refused, "baseConfig.endDate", years, last);
        }
    }

    /// <summary>Exactly one error: the end date's field, rule maxDuration, its message naming the configured limit and the last day.</summary>
    internal static void AssertLimitError(IReadOnlyList<ValidationError> errors, string field, int years, DateOnly last)
    {
        var error = Assert.Single(errors);
        Assert.Equal((field, "maxDuration"), (error.Field, error.Rule));
        Assert.Contains($"more than {years} {(years == 1 ? "year" : "years")}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"endDate at most {Date(last)}", error.Message, StringComparison.Ordinal);
    }

    internal static BacktestConfig Backtest(DateOnly start, DateOnly end) => ConfigValidator.Parse($$"""
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"{{Date(start)}}","endDate":"{{Date(end)}}","instruments":["SPY"],"initialBalance":100000}
        """).Config!;

    internal static OptimizationConfig Optimization(DateOnly start, DateOnly end) =>
        OptimizationFixtures.WithBase(OptimizationFixtures.Job(OptimizationFixtures.GridJob), ("startDate", $"\"{Date(start)}\""), ("endDate", $"\"{Date(end)}\""));

    /// <summary>A walk-forward over the span (by default six months in sample and three out, so a one-year limit still holds windows).</summary>
    internal static WalkForwardJob WalkForward(DateOnly start, DateOnly end, string? parameters = null,
        string validation = """{"inSample":"6m","outOfSample":"3m"}""")
    {
        var body = JsonNode.Parse(OptimizationFixtures.GridJob)!.AsObject();
        body["baseConfig"]!["startDate"] = Date(start);
        body["baseConfig"]!["endDate"] = Date(end);
        if (parameters is not null)
        {
            body["parameters"] = JsonNode.Parse(parameters);
        }

        body["validation"] = JsonNode.Parse(validation);
        var (job, errors) = WalkForwardJobRules.Parse(body.ToJsonString());
        Assert.Empty(errors);
        return job!;
    }
}
