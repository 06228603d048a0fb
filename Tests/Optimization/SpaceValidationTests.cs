using Backtesting.Engine.Optimization;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>Every rule of a job's space and settings, one line each: the exact field and the rule.</summary>
public class SpaceValidationTests
{
    private static readonly string RsiJob = $$$"""
        {"name":"rsi","baseConfig":{{{BaseConfig.Replace("MovingAverageCross", "RsiMeanReversion").Replace("\"maType\":\"SMA\"", "")}}},
         "parameters":{"period":{"min":5,"max":30}},"method":"random","maxTrials":50,
         "objective":{"metric":"sharpeRatio","direction":"maximize"},"seed":1}
        """;

    private static void AssertOnly(OptimizationConfig job, string field, string rule)
    {
        var errors = Errors(job);
        var error = Assert.Single(errors);
        Assert.Equal((field, rule), (error.Field, error.Rule));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    /// <summary>The grid job with these parameters' specs replaced (the others kept).</summary>
    private static OptimizationConfig Space(string parameters) => Merged(GridJob, parameters);

    private static OptimizationConfig Merged(string job, string parameters)
    {
        var config = Job(job);
        var merged = new Dictionary<string, System.Text.Json.JsonElement>(config.Parameters);
        foreach (var property in Json(parameters).EnumerateObject())
        {
            merged[property.Name] = property.Value.Clone();
        }

        return config with { Parameters = merged };
    }

    [Fact]
    public void The_example_grid_is_valid_and_plans_its_product() => Assert.Equal(80, Plan(Job(GridJob)).PlannedTrials);

    [Fact]
    public void Random_and_tpe_plan_max_trials()
    {
        const string wide = """{"fastPeriod":{"min":1,"max":100},"slowPeriod":{"min":101,"max":300}}""";
        Assert.Equal(500, Plan(Job(GridJob, ("method", "\"random\""), ("maxTrials", "500"), ("parameters", wide))).PlannedTrials);
        Assert.Equal(500, Plan(Job(GridJob, ("method", "\"tpe\""), ("maxTrials", "500"), ("parameters", wide))).PlannedTrials);
    }

    [Fact]
    public void Random_plans_no_more_than_the_distinct_points_of_a_discrete_space() =>
        Assert.Equal(80, Plan(Job(GridJob, ("method", "\"random\""), ("maxTrials", "5000"))).PlannedTrials);

    [Fact]
    public void Min_above_max() => AssertOnly(Space("""{"slowPeriod":{"min":80,"max":60}}"""), "parameters.slowPeriod.max", "minMax");

    [Fact]
    public void Max_beyond_the_schema() => AssertOnly(Space("""{"slowPeriod":{"min":60,"max":2000}}"""), "parameters.slowPeriod.max", "schemaRange");

    [Fact]
    public void Min_below_the_schema() => AssertOnly(Space("""{"fastPeriod":{"min":0,"max":10}}"""), "parameters.fastPeriod.min", "schemaRange");

    [Fact]
    public void The_schema_range_is_named_in_the_message() =>
        Assert.Contains("within schema range [2, 1000]", Assert.Single(Errors(Space("""{"slowPeriod":{"min":60,"max":2000}}"""))).Message);

    [Fact]
    public void Integer_bounds_for_an_integer_parameter() =>
        AssertOnly(Space("""{"fastPeriod":{"min":1.5,"max":10}}"""), "parameters.fastPeriod.min", "integer");

    [Fact]
    public void Step_zero() => AssertOnly(Space("""{"fastPeriod":{"min":1,"max":10,"step":0}}"""), "parameters.fastPeriod.step", "step");

    [Fact]
    public void Step_negative() => AssertOnly(Space("""{"fastPeriod":{"min":1,"max":10,"step":-2}}"""), "parameters.fastPeriod.step", "step");

    [Fact]
    public void Log_needs_a_positive_min() =>
        AssertOnly(Merged(RsiJob, """{"oversold":{"min":0,"max":30,"log":true}}"""), "parameters.oversold.min", "logMin");

    [Fact]
    public void Log_takes_no_step() =>
        AssertOnly(Merged(RsiJob, """{"oversold":{"min":1,"max":30,"log":true,"step":1}}"""), "parameters.oversold.step", "logStep");

    [Fact]
    public void Log_is_for_random_and_tpe() => AssertOnly(Space("""{"fastPeriod":{"min":1,"max":10,"log":true}}"""), "parameters.fastPeriod.log", "method");

    [Fact]
    public void A_grid_needs_a_step_for_a_number_range() =>
        AssertOnly(Merged(RsiJob, """{"oversold":{"min":10,"max":30}}""") with { Method = "grid" }, "parameters.oversold.step", "required");

    [Fact]
    public void A_continuous_number_range_is_fine_for_random() =>
        Assert.Empty(Errors(Merged(RsiJob, """{"oversold":{"min":10,"max":30},"overbought":{"min":0.5,"max":90,"log":true}}""")));

    [Fact]
    public void Unknown_parameter() => AssertOnly(Space("""{"fastPeriod":5,"speed":5}"""), "parameters.speed", "unknown");

    [Fact]
    public void Unknown_key_of_a_range() => AssertOnly(Space("""{"fastPeriod":{"min":1,"max":10,"stride":2}}"""), "parameters.fastPeriod.stride", "unknown");

    [Fact]
    public void A_range_needs_min() => AssertOnly(Space("""{"fastPeriod":{"max":10}}"""), "parameters.fastPeriod.min", "required");

    [Fact]
    public void A_range_of_a_string_parameter() => AssertOnly(Space("""{"maType":{"min":1,"max":3}}"""), "parameters.maType", "type");

    [Fact]
    public void A_fixed_value_of_the_wrong_type() => AssertOnly(Space("""{"fastPeriod":"ten"}"""), "parameters.fastPeriod", "type");

    [Fact]
    public void A_fixed_value_outside_the_schema() => AssertOnly(Space("""{"fastPeriod":501}"""), "parameters.fastPeriod", "range");

    [Fact]
    public void A_fixed_word_not_allowed() => AssertOnly(Space("""{"maType":"WMA"}"""), "parameters.maType", "allowed");

    [Fact]
    public void A_listed_word_not_allowed() => AssertOnly(Space("""{"maType":{"values":["SMA","WMA"]}}"""), "parameters.maType.values[1]", "allowed");

    [Fact]
    public void A_value_listed_twice() => AssertOnly(Space("""{"fastPeriod":{"values":[5,8,5]}}"""), "parameters.fastPeriod.values[2]", "duplicate");

    [Fact]
    public void An_empty_list() => AssertOnly(Space("""{"fastPeriod":{"values":[]}}"""), "parameters.fastPeriod.values", "nonEmpty");

    [Fact]
    public void A_list_with_another_key() => AssertOnly(Space("""{"fastPeriod":{"values":[5],"step":1}}"""), "parameters.fastPeriod.step", "unknown");

    [Fact]
    public void Grid_too_large()
    {
        var job = Job(GridJob, ("parameters", """{"fastPeriod":{"min":1,"max":500},"slowPeriod":{"min":2,"max":1000}}"""));
        AssertOnly(job, "parameters", "gridTooLarge");
        Assert.Contains("grid too large: 499500 > 100000", Errors(job)[0].Message);
    }

    [Fact]
    public void The_cap_is_a_setting() =>
        Assert.Equal("gridTooLarge", Assert.Single(Errors(Job(GridJob), new OptimizationLimits(MaxTrials: 79))).Rule);

    [Fact]
    public void The_grid_at_the_cap_is_accepted() => Assert.Empty(Errors(Job(GridJob), new OptimizationLimits(MaxTrials: 80)));

    [Fact]
    public void Unknown_method() => AssertOnly(Job(GridJob, ("method", "\"annealing\"")), "method", "allowed");

    [Fact]
    public void Random_needs_max_trials() => AssertOnly(Job(GridJob, ("method", "\"random\"")), "maxTrials", "required");

    [Fact]
    public void Max_trials_at_least_one() => AssertOnly(Job(GridJob, ("maxTrials", "0")), "maxTrials", "range");

    [Fact]
    public void Max_trials_within_the_cap() => AssertOnly(Job(GridJob, ("method", "\"tpe\""), ("maxTrials", "100001")), "maxTrials", "range");

    [Fact]
    public void Unknown_objective_metric() =>
        AssertOnly(Job(GridJob, ("objective", """{"metric":"happiness","direction":"maximize"}""")), "objective.metric", "unknown");

    [Fact]
    public void Unknown_direction() =>
        AssertOnly(Job(GridJob, ("objective", """{"metric":"sharpeRatio","direction":"up"}""")), "objective.direction", "allowed");

    [Fact]
    public void Unknown_constraint_op() =>
        AssertOnly(Job(GridJob, ("constraints", """[{"metric":"maxDrawdown","op":"=>","value":-0.2}]""")), "constraints[0].op", "allowed");

    [Fact]
    public void Unknown_constraint_metric() =>
        AssertOnly(Job(GridJob, ("constraints", """[{"metric":"maxDrawdown","op":">=","value":-0.2},{"metric":"luck","op":">=","value":1}]""")),
            "constraints[1].metric", "unknown");

    [Fact]
    public void Unknown_priority() => AssertOnly(Job(GridJob, ("priority", "\"asap\"")), "priority", "allowed");

    [Fact]
    public void The_base_config_keeps_every_rule_of_a_backtest() =>
        AssertOnly(WithBase(Job(GridJob), ("instruments", """["NOPE"]""")), "baseConfig.instruments[0]", "unknown");

    [Fact]
    public void The_base_config_keeps_the_service_duration_cap() =>
        AssertOnly(WithBase(Job(GridJob), ("startDate", "\"2010-01-01\"")), "baseConfig.endDate", "maxDuration");

    [Fact]
    public void A_required_parameter_given_by_neither_the_base_nor_the_space() =>
        AssertOnly(Job(GridJob, ("parameters", """{"fastPeriod":{"min":1,"max":10}}""")), "baseConfig.strategyConfig.slowPeriod", "required");

    [Fact]
    public void A_space_whose_points_break_the_strategy_rule_is_valid_its_trials_are_infeasible() =>
        Assert.Empty(Errors(Space("""{"fastPeriod":{"min":5,"max":50,"step":5},"slowPeriod":{"min":2,"max":60,"step":2}}""")));

    [Fact]
    public void Every_error_at_once()
    {
        var job = Job(GridJob, ("parameters", """{"fastPeriod":{"min":9,"max":3,"step":0},"speed":1}"""), ("method", "\"annealing\""),
            ("objective", """{"metric":"luck","direction":"up"}"""));
        var fields = Errors(job).Select(e => (e.Field, e.Rule)).ToHashSet();
        Assert.Superset(new HashSet<(string, string)>
        {
            ("parameters.speed", "unknown"), ("parameters.fastPeriod.max", "minMax"), ("parameters.fastPeriod.step", "step"),
            ("method", "allowed"), ("objective.metric", "unknown"), ("objective.direction", "allowed"),
        }, fields);
    }

    [Fact]
    public void A_job_naming_a_field_twice_is_refused_where_it_breaks()
    {
        var (config, errors) = OptimizationValidator.Parse("""{"method":"grid","method":"random"}""");
        Assert.Null(config);
        Assert.Equal("method", Assert.Single(errors).Field);
    }

    [Fact]
    public void A_job_with_an_unknown_field_is_refused()
    {
        var (config, errors) = OptimizationValidator.Parse("""{"methd":"grid"}""");
        Assert.Null(config);
        Assert.Single(errors);
    }
}
