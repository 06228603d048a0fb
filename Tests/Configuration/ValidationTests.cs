using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Configuration;

/// <summary>Every validation rule, against the real bundled catalog.</summary>
public class ValidationTests
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);
    private static readonly DateOnly Today = new(2026, 11, 24);

    internal const string SeedExample = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2010-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,
         "baseCurrency":"USD","dataConfiguration":{"resolution":"daily","adjustment":"raw"},
         "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """;

    private static BacktestConfig Example() => ConfigValidator.Parse(SeedExample).Config!;

    private static BacktestConfig ShortExample() => Example() with { StartDate = "2016-01-01", EndDate = "2020-12-31" };

    private static IReadOnlyList<ValidationError> Errors(BacktestConfig config, ValidationPolicy? policy = null) =>
        ConfigValidator.Validate(config, Data, StrategyCatalog.Templates, policy ?? ValidationPolicy.Service, Today).Errors;

    private static void AssertOnly(IReadOnlyList<ValidationError> errors, string field, string rule)
    {
        var error = Assert.Single(errors);
        Assert.Equal((field, rule), (error.Field, error.Rule));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    private static Dictionary<string, JsonElement> Params(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Fact]
    public void The_seed_example_is_valid_for_a_local_worker_run()
    {
        var outcome = ConfigValidator.Validate(Example(), Data, StrategyCatalog.Templates, ValidationPolicy.Local, Today);
        Assert.True(outcome.IsValid, string.Join("; ", outcome.Errors.Select(e => e.Message)));
        Assert.Equal("SPY.ARCA", outcome.Spec!.Instruments[0].Id);
    }

    [Fact]
    public void Crypto_alone_annualizes_over_365_days_anything_with_equities_over_252()
    {
        var spy = ConfigValidator.Validate(ShortExample(), Data, StrategyCatalog.Templates, ValidationPolicy.Service, Today);
        var btc = ConfigValidator.Validate(ShortExample() with { Instruments = ["BTCUSD"], BaseCurrency = "USD" }, Data,
            StrategyCatalog.Templates, ValidationPolicy.Service, Today);
        Assert.True(btc.IsValid, string.Join("; ", btc.Errors.Select(e => e.Message)));
        Assert.Equal(252, spy.Spec!.PeriodsPerYear);
        Assert.Equal(365, btc.Spec!.PeriodsPerYear);
    }

    [Fact]
    public void The_service_caps_the_range_at_five_years() =>
        AssertOnly(Errors(Example()), "endDate", "maxDuration");

    [Fact]
    public void Five_years_is_accepted_by_the_service() => Assert.Empty(Errors(ShortExample()));

    [Fact]
    public void End_must_follow_start() =>
        AssertOnly(Errors(ShortExample() with { StartDate = "2020-12-31", EndDate = "2020-01-01" }), "endDate", "afterStart");

    [Fact]
    public void Equal_dates_are_less_than_a_day() =>
        AssertOnly(Errors(ShortExample() with { StartDate = "2020-06-01", EndDate = "2020-06-01" }), "endDate", "afterStart");

    [Fact]
    public void Start_cannot_be_in_the_future()
    {
        var errors = Errors(ShortExample() with { StartDate = "2027-01-04", EndDate = "2027-02-01" });
        Assert.Contains(errors, e => e is { Field: "startDate", Rule: "notFuture" });
    }

    [Theory]
    [InlineData("2020/01/01")]
    [InlineData("yesterday")]
    public void Dates_must_be_dates(string text) =>
        AssertOnly(Errors(ShortExample() with { StartDate = text }), "startDate", "format");

    [Fact]
    public void A_range_without_a_trading_session_is_refused() =>
        AssertOnly(Errors(ShortExample() with { StartDate = "2021-01-01", EndDate = "2021-01-03" }), "startDate", "marketHours");

    [Fact]
    public void At_least_one_instrument() =>
        AssertOnly(Errors(ShortExample() with { Instruments = [] }), "instruments", "minCount");

    [Fact]
    public void At_most_fifty_instruments() =>
        AssertOnly(Errors(ShortExample() with { Instruments = Enumerable.Repeat("SPY", 51).ToList() }), "instruments", "maxCount");

    public static TheoryData<string> IdsNoCatalogCouldHold() =>
        ["", " ", "SP Y", "SPY\t", "SPY\n", "SPY.\u0000ARCA", "\u00a0SPY", new string('A', InstrumentIds.MaxIdLength + 1)];

    [Theory]
    [MemberData(nameof(IdsNoCatalogCouldHold))]
    public void Ids_no_catalog_could_hold_are_refused_by_the_pattern_rule(string symbol) =>
        AssertOnly(Errors(ShortExample() with { Instruments = [symbol] }), "instruments[0]", "pattern");

    [Theory]
    [InlineData("spy")]
    [InlineData("TOOLONGX")]
    [InlineData("SPY.ARCAX")]
    [InlineData("BRK-B.NYSE")]
    [InlineData("X.Y.Z")]
    public void Well_formed_ids_the_catalog_does_not_know_are_unknown(string symbol) =>
        AssertOnly(Errors(ShortExample() with { Instruments = [symbol] }), "instruments[0]", "unknown");

    [Fact]
    public void Symbols_must_be_in_the_catalog() =>
        AssertOnly(Errors(ShortExample() with { Instruments = ["SPY", "ZZZZ"] }), "instruments[1]", "unknown");

    [Fact]
    public void Venue_qualified_symbols_resolve_and_wrong_venues_do_not()
    {
        Assert.Empty(Errors(ShortExample() with { Instruments = ["SPY.ARCA"] }));
        AssertOnly(Errors(ShortExample() with { Instruments = ["SPY.NYSE"] }), "instruments[0]", "unknown");
    }

    [Fact]
    public void Venues_restrict_resolution_and_must_exist()
    {
        Assert.Empty(Errors(ShortExample() with { Instruments = ["SPY"], Venues = ["ARCA"] }));
        var errors = Errors(ShortExample() with { Instruments = ["SPY"], Venues = ["MOON"] });
        Assert.Contains(errors, e => e is { Field: "venues[0]", Rule: "unknown" });
    }

    [Fact]
    public void Duplicates_are_refused() =>
        AssertOnly(Errors(ShortExample() with { Instruments = ["SPY", "SPY.ARCA"] }), "instruments[1]", "duplicate");

    [Fact]
    public void Data_must_exist_for_the_range_and_resolution()
    {
        var config = ShortExample() with { DataConfiguration = new DataConfiguration { Resolution = "minute" } };
        AssertOnly(Errors(config), "instruments[0]", "dataAvailability");
    }

    [Theory]
    [InlineData(999, "min")]
    [InlineData(100_000_001, "max")]
    public void Capital_between_one_thousand_and_one_hundred_million(double balance, string rule) =>
        AssertOnly(Errors(ShortExample() with { InitialBalance = balance }), "initialBalance", rule);

    [Fact]
    public void Capital_bounds_are_inclusive()
    {
        Assert.Empty(Errors(ShortExample() with { InitialBalance = 1_000 }));
        Assert.Empty(Errors(ShortExample() with { InitialBalance = 100_000_000 }));
    }

    [Fact]
    public void Currency_must_be_supported() =>
        AssertOnly(Errors(ShortExample() with { BaseCurrency = "XYZ" }), "baseCurrency", "allowed");

    [Fact]
    public void Currency_needs_exchange_rates_for_the_instruments()
    {
        // Inside the bundled EURUSD's coverage (to 2018-12-31, rule fxCoverage: FxCoverageValidationTests).
        Assert.Empty(Errors(ShortExample() with { BaseCurrency = "EUR", StartDate = "2017-01-01", EndDate = "2018-12-31" }));
        AssertOnly(Errors(ShortExample() with { BaseCurrency = "JPY" }), "baseCurrency", "fxAvailability");
    }

    [Fact]
    public void Leverage_at_most_ten_to_one_and_only_on_margin()
    {
        AssertOnly(Errors(ShortExample() with { AccountType = "margin", RiskSettings = new RiskSettings { MaxLeverage = 11 } }),
            "riskSettings.maxLeverage", "range");
        Assert.Empty(Errors(ShortExample() with { AccountType = "margin", RiskSettings = new RiskSettings { MaxLeverage = 10 } }));
        AssertOnly(Errors(ShortExample() with { RiskSettings = new RiskSettings { MaxLeverage = 2 } }),
            "riskSettings.maxLeverage", "requiresMargin");
    }

    [Fact]
    public void Strategy_must_exist() =>
        AssertOnly(Errors(ShortExample() with { StrategyClass = "Astrology" }), "strategyClass", "unknown");

    [Fact]
    public void Required_parameters_must_be_given() =>
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":10}""") }), "strategyConfig.slowPeriod", "required");

    [Fact]
    public void Parameters_must_have_their_type()
    {
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":"ten","slowPeriod":30}""") }),
            "strategyConfig.fastPeriod", "type");
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":10.5,"slowPeriod":30}""") }),
            "strategyConfig.fastPeriod", "type");
    }

    [Fact]
    public void Parameters_must_be_in_range() =>
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":0,"slowPeriod":30}""") }),
            "strategyConfig.fastPeriod", "range");

    [Fact]
    public void Parameters_must_be_allowed_values() =>
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":5,"slowPeriod":30,"maType":"WMA"}""") }),
            "strategyConfig.maType", "allowed");

    [Fact]
    public void Strategy_rules_across_parameters_apply() =>
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":30,"slowPeriod":10}""") }),
            "strategyConfig.fastPeriod", "lessThan");

    [Fact]
    public void Unknown_parameters_are_named() =>
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":5,"slowPeriod":30,"fastPeriods":3}""") }),
            "strategyConfig.fastPeriods", "unknown");

    [Fact]
    public void Short_selling_strategies_need_margin() =>
        AssertOnly(Errors(ShortExample() with { StrategyConfig = Params("""{"fastPeriod":5,"slowPeriod":30,"allowShort":true}""") }),
            "strategyConfig.allowShort", "requiresMargin");

    [Fact]
    public void Enumerated_settings_must_be_known()
    {
        var errors = Errors(ShortExample() with
        {
            DataConfiguration = new DataConfiguration { Resolution = "weekly", Adjustment = "magic" },
            ExecutionSettings = new ExecutionSettings { FillModel = "whenever", Commission = new CommissionSettings { Model = "free" } },
        });
        Assert.Contains(errors, e => e is { Field: "dataConfiguration.resolution", Rule: "allowed" });
        Assert.Contains(errors, e => e is { Field: "dataConfiguration.adjustment", Rule: "allowed" });
        Assert.Contains(errors, e => e is { Field: "executionSettings.fillModel", Rule: "allowed" });
        Assert.Contains(errors, e => e is { Field: "executionSettings.commission.model", Rule: "allowed" });
    }

    [Fact]
    public void Every_error_comes_back_at_once()
    {
        var config = Example() with
        {
            StrategyClass = "Nope",
            StartDate = "2020-12-31",
            EndDate = "2020-01-01",
            Instruments = ["spy"],
            InitialBalance = 10,
            BaseCurrency = "AUD",
        };
        var errors = Errors(config);
        Assert.Equal(
            new[] { "baseCurrency", "endDate", "initialBalance", "instruments[0]", "strategyClass" },
            errors.Select(e => e.Field).Order().ToArray());
    }

    [Fact]
    public void Malformed_json_names_where_it_broke()
    {
        var (config, errors) = ConfigValidator.Parse("""{"strategyClass":"MovingAverageCross","initialBalance":"lots"}""");
        Assert.Null(config);
        var error = Assert.Single(errors);
        Assert.Equal(("initialBalance", "json"), (error.Field, error.Rule));
    }

    [Fact]
    public void Unknown_fields_are_refused_rather_than_ignored()
    {
        var (_, errors) = ConfigValidator.Parse("""{"strategyClas":"MovingAverageCross"}""");
        Assert.Equal("json", Assert.Single(errors).Rule);
    }

    // ---- Input form: dates, JSON, enum words, user ids ----

    public static TheoryData<string, string> OutOfRangeDates => new()
    {
        { "startDate", "9999-12-31" }, { "endDate", "9999-12-31" }, { "startDate", "0001-01-01" }, { "endDate", "0001-01-01" },
        { "startDate", "1899-12-31" }, { "endDate", "2101-01-01" }, { "startDate", "9999-12-31T23:59:59Z" },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeDates))]
    public void A_date_outside_1900_to_2100_is_a_range_error_not_an_overflow(string field, string date)
    {
        var errors = Errors(ShortExample() with { StartDate = field == "startDate" ? date : "2016-01-01", EndDate = field == "endDate" ? date : "2020-12-31" },
            ValidationPolicy.Local);
        Assert.Contains(errors, e => e.Field == field && e.Rule == "range");
        Assert.DoesNotContain(errors, e => e.Field == field && e.Rule != "range");
    }

    [Theory]
    [InlineData("2016-01-01T00:00:00+14:00")]
    [InlineData("2016-01-01T00:00:00-05:00")]
    [InlineData("2016-01-01T23:30:00+00:30")]
    public void A_timestamp_with_a_utc_offset_is_refused_rather_than_shifted_to_another_day(string start) =>
        AssertOnly(Errors(ShortExample() with { StartDate = start }), "startDate", "offset");

    [Theory]
    [InlineData("2016-01-04T00:00:00Z")]
    [InlineData("2016-01-04T23:59:59+00:00")]
    [InlineData("2016-01-04T12:00:00")]
    public void A_utc_timestamp_counts_as_the_date_it_is_written_on(string start)
    {
        var outcome = ConfigValidator.Validate(ShortExample() with { StartDate = start }, Data, StrategyCatalog.Templates, ValidationPolicy.Service, Today);
        Assert.Equal(new DateOnly(2016, 1, 4), outcome.Spec!.Start);
    }

    /// <summary>Every property path of the seed example, objects included.</summary>
    public static TheoryData<string> SeedProperties()
    {
        var data = new TheoryData<string>();
        void Walk(JsonElement element, string prefix)
        {
            foreach (var property in element.EnumerateObject())
            {
                data.Add(prefix + property.Name);
                if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    Walk(property.Value, prefix + property.Name + ".");
                }
            }
        }

        Walk(JsonDocument.Parse(SeedExample).RootElement, "");
        return data;
    }

    /// <summary>The seed example with the object holding <paramref name="path"/> edited.</summary>
    private static string WithEdit(string path, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(SeedExample)!.AsObject();
        edit(path.Split('.')[..^1].Aggregate(root, (node, part) => node[part]!.AsObject()));
        return root.ToJsonString();
    }

    [Theory]
    [MemberData(nameof(SeedProperties))]
    public void A_property_given_twice_is_refused_naming_it(string path)
    {
        var name = path.Split('.')[^1];
        var json = WithEdit(path, owner => owner[name + "__twice"] = owner[name]!.DeepClone())
            .Replace($"\"{name}__twice\"", $"\"{name}\"", StringComparison.Ordinal);
        var (config, errors) = ConfigValidator.Parse(json);
        Assert.Null(config);
        Assert.Equal((path, "duplicate"), (Assert.Single(errors).Field, errors[0].Rule));
    }

    [Theory]
    [MemberData(nameof(SeedProperties))]
    public void A_nul_character_in_any_string_or_property_name_is_refused_naming_the_field(string path)
    {
        var name = path.Split('.')[^1];
        var expected = path + "\\u0000"; // a name with NUL is named printably
        var json = WithEdit(path, owner =>
        {
            if (owner[name] is System.Text.Json.Nodes.JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                owner[name] = value.GetValue<string>() + "\0";
                expected = path;
            }
            else
            {
                owner[name + "\0"] = 1;
            }
        });
        var (config, errors) = ConfigValidator.Parse(json);
        Assert.Null(config);
        Assert.Equal((expected, "nulCharacter"), (Assert.Single(errors).Field, errors[0].Rule));
    }

    [Fact]
    public void Json_nested_past_the_limit_is_refused_naming_the_depth_rule()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", StrictJson.MaxDepth + 5)) + "1" + new string('}', StrictJson.MaxDepth + 5);
        Assert.Equal("depth", StrictJson.Check(deep)!.Rule);
        Assert.Null(StrictJson.Check(string.Concat(Enumerable.Repeat("{\"a\":", StrictJson.MaxDepth - 1)) + "1" + new string('}', StrictJson.MaxDepth - 1)));
    }

    [Fact]
    public void Names_differing_only_in_case_are_one_property_given_twice() =>
        Assert.Equal(("StrategyClass", "duplicate"),
            (StrictJson.Check("""{"strategyClass":"A","StrategyClass":"B"}""")!.Field, StrictJson.Check("""{"strategyClass":"A","StrategyClass":"B"}""")!.Rule));

    [Fact]
    public void Array_elements_are_named_by_index() =>
        Assert.Equal("instruments[2]", StrictJson.Check("""{"instruments":["SPY","QQQ","A\u0000"]}""")!.Field);

    public static TheoryData<string> NotEnumWords => new() { "3", "0", "-1", "99", "low,high", "Low, High", "", " low", "1e2" };

    [Theory]
    [MemberData(nameof(NotEnumWords))]
    public void Enum_words_are_the_documented_names_only_never_numbers_or_joined_names(string text)
    {
        Assert.False(EnumWords.TryParse<DayOfWeek>(text, out _));
        Assert.False(EnumWords.TryParse<JsonValueKind>(text, out _));
    }

    [Fact]
    public void Every_member_name_of_an_enum_is_a_word_in_any_case()
    {
        foreach (var day in Enum.GetValues<DayOfWeek>())
        {
            foreach (var text in new[] { day.ToString(), day.ToString().ToLowerInvariant(), EnumWords.Of<DayOfWeek>()[(int)day] })
            {
                Assert.True(EnumWords.TryParse<DayOfWeek>(text, out var parsed) && parsed == day, text);
            }
        }
    }

    [Fact]
    public void The_json_convention_reads_enums_by_name_never_by_number()
    {
        Assert.Equal(DayOfWeek.Monday, JsonSerializer.Deserialize<DayOfWeek>("\"monday\"", JsonDefaults.Options));
        foreach (var text in new[] { "1", "\"1\"", "99", "\"99\"" })
        {
            Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DayOfWeek>(text, JsonDefaults.Options));
        }
    }

    /// <summary>Every C0 control character, DEL and the C1 range.</summary>
    public static TheoryData<char> ControlCharacters()
    {
        var data = new TheoryData<char>();
        foreach (var c in Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7f, 0x21)))
        {
            data.Add((char)c);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ControlCharacters))]
    public void A_user_id_or_label_with_a_control_character_is_refused_naming_the_field(char control)
    {
        Assert.Equal(("userId", "controlCharacter"), (ConfigValidator.UserId($"al{control}ice")!.Field, ConfigValidator.UserId($"al{control}ice")!.Rule));
        Assert.Equal(("label", "controlCharacter"), (ConfigValidator.Label($"laptop{control}")!.Field, ConfigValidator.Label($"laptop{control}")!.Rule));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void A_blank_user_id_is_refused(string? userId) => Assert.Equal("length", ConfigValidator.UserId(userId)!.Rule);

    [Fact]
    public void A_user_id_over_the_limit_is_refused_and_one_at_it_is_accepted()
    {
        Assert.Equal("length", ConfigValidator.UserId(new string('a', ConfigValidator.MaxUserIdLength + 1))!.Rule);
        Assert.Null(ConfigValidator.UserId(new string('a', ConfigValidator.MaxUserIdLength)));
        Assert.Null(ConfigValidator.UserId("alice@example-team_01"));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(ConfigValidator.MaxRiskFreeRate + 0.01)]
    [InlineData(ConfigValidator.MinRiskFreeRate - 0.01)]
    public void A_comparisons_risk_free_rate_keeps_the_configs_range(double rate) =>
        Assert.Equal("range", ConfigValidator.RiskFreeRate(rate, "riskFreeRate")!.Rule);
}
