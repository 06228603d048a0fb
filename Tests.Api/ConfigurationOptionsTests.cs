using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Tests.Api;

/// <summary>
/// GET /api/v1/configuration/options, which the dashboard's form offers instead of copies of the engine's tables:
/// every word it lists is one the engine accepts, and every word the engine accepts is listed.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ConfigurationOptionsTests(ApiFixture fixture)
{
    private const string Route = "/api/v1/configuration/options";
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);

    private static readonly BacktestConfig Valid = ConfigValidator.Parse("""
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
         "startDate":"2016-01-04","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000}
        """).Config!;

    /// <summary>Each enumerated setting: its list in the answer, its field in a config, and how to set it.</summary>
    private static readonly (string List, string Field, Func<BacktestConfig, string, BacktestConfig> Set)[] Settings =
    [
        ("currencies", "baseCurrency", (c, w) => c with { BaseCurrency = w }),
        ("accountTypes", "accountType", (c, w) => c with { AccountType = w }),
        ("resolutions", "dataConfiguration.resolution", (c, w) => c with { DataConfiguration = c.DataConfiguration with { Resolution = w } }),
        ("dataTypes", "dataConfiguration.dataType", (c, w) => c with { DataConfiguration = c.DataConfiguration with { DataType = w } }),
        ("adjustments", "dataConfiguration.adjustment", (c, w) => c with { DataConfiguration = c.DataConfiguration with { Adjustment = w } }),
        ("fillModels", "executionSettings.fillModel", (c, w) => c with { ExecutionSettings = c.ExecutionSettings with { FillModel = w } }),
        ("slippageModels", "executionSettings.slippage.model",
            (c, w) => c with { ExecutionSettings = c.ExecutionSettings with { Slippage = c.ExecutionSettings.Slippage with { Model = w } } }),
        ("commissionModels", "executionSettings.commission.model",
            (c, w) => c with { ExecutionSettings = c.ExecutionSettings with { Commission = c.ExecutionSettings.Commission with { Model = w } } }),
        ("sizingModes", "riskSettings.positionSizing.mode",
            (c, w) => c with { RiskSettings = c.RiskSettings with { PositionSizing = c.RiskSettings.PositionSizing with { Mode = w } } }),
    ];

    private async Task<JsonElement> OptionsAsync()
    {
        using var client = fixture.Client(ApiFixture.AliceKey);
        return await client.GetFromJsonAsync<JsonElement>(Route);
    }

    private static string[] Words(JsonElement options, string list) =>
        options.GetProperty(list).EnumerateArray().Select(w => w.GetString()!).ToArray();

    private static IEnumerable<ValidationError> AllowedErrors(BacktestConfig config, string field) =>
        ConfigValidator.Validate(config, Data, StrategyCatalog.Templates, ValidationPolicy.Service, new DateOnly(2026, 11, 24)).Errors
            .Where(e => e.Field == field && e.Rule == "allowed");

    [Fact]
    public async Task The_options_need_a_key_as_the_instrument_catalog_does()
    {
        using var anonymous = fixture.Client(null);
        foreach (var route in new[] { "/api/v1/instruments", Route })
        {
            using var response = await anonymous.GetAsync(route);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Every_enumerated_setting_lists_the_words_of_its_engine_enum_in_their_order()
    {
        var options = await OptionsAsync();
        Assert.Equal(EnumWords.Of<AccountType>(), Words(options, "accountTypes"));
        Assert.Equal(EnumWords.Of<Resolution>(), Words(options, "resolutions"));
        Assert.Equal(EnumWords.Of<DataType>(), Words(options, "dataTypes"));
        Assert.Equal(EnumWords.Of<PriceAdjustment>(), Words(options, "adjustments"));
        Assert.Equal(EnumWords.Of<FillModel>(), Words(options, "fillModels"));
        Assert.Equal(EnumWords.Of<SizingMode>(), Words(options, "sizingModes"));
        Assert.Equal(EnumWords.Of<BacktestPriority>(), Words(options, "priorities"));
    }

    [Fact]
    public async Task Every_slippage_and_commission_model_of_the_engine_has_exactly_one_listed_word()
    {
        var options = await OptionsAsync();
        AssertOneWordPerModel<SlippageModel>(Words(options, "slippageModels"), w => SlippageModel.From(new SlippageSettings { Model = w }));
        AssertOneWordPerModel<CommissionModel>(Words(options, "commissionModels"), w => CommissionModel.From(new CommissionSettings { Model = w }));
    }

    private static void AssertOneWordPerModel<TModel>(string[] words, Func<string, TModel> build) where TModel : class
    {
        var built = words.Select(w => build(w).GetType()).ToList();
        var models = typeof(TModel).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(TModel)) && !t.IsAbstract);
        Assert.Equal(built.Count, built.Distinct().Count());
        Assert.Equal(models.OrderBy(t => t.Name), built.OrderBy(t => t.Name));
    }

    [Fact]
    public async Task Validation_accepts_every_listed_word_and_names_exactly_the_listed_ones_when_it_refuses_another()
    {
        var options = await OptionsAsync();
        foreach (var (list, field, set) in Settings)
        {
            var words = Words(options, list);
            Assert.NotEmpty(words);
            foreach (var word in words)
            {
                Assert.Empty(AllowedErrors(set(Valid, word), field));
            }

            var refused = Assert.Single(AllowedErrors(set(Valid, "notAWord"), field));
            Assert.EndsWith($"use one of {string.Join(", ", words)}", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_defaults_are_those_of_a_config_and_a_start_request_that_set_nothing_and_are_listed_words()
    {
        var options = await OptionsAsync();
        var defaults = options.GetProperty("defaults");
        Assert.True(JsonNode.DeepEquals(JsonSerializer.SerializeToNode(new BacktestConfig(), JsonDefaults.Options), JsonNode.Parse(defaults.GetRawText())),
            $"served defaults {defaults}");
        Assert.Equal("normal", options.GetProperty("defaultPriority").GetString());
        Assert.Contains("normal", Words(options, "priorities"));

        var config = JsonSerializer.Deserialize<BacktestConfig>(defaults.GetRawText(), JsonDefaults.Options)!;
        foreach (var (list, field, set) in Settings)
        {
            var word = field.Split('.').Aggregate(defaults, (e, name) => e.GetProperty(name)).GetString()!;
            Assert.Contains(word, Words(options, list));
            Assert.Equal(config, set(config, word));
        }
    }

    [Fact]
    public async Task The_longest_range_is_the_clusters_and_the_default_when_its_silos_set_none()
    {
        var options = await OptionsAsync();
        Assert.Equal(ValidationPolicy.DefaultMaxDurationYears, options.GetProperty("maxDurationYears").GetInt32());
        // What the served value admits is what validation admits: the start plus that many years, and not a day more.
        var start = new DateOnly(2015, 3, 2);
        var last = start.AddYears(options.GetProperty("maxDurationYears").GetInt32());
        BacktestConfig Until(DateOnly end) => Valid with { StartDate = "2015-03-02", EndDate = end.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) };
        Assert.True(ConfigValidator.Validate(Until(last), Data, StrategyCatalog.Templates, ValidationPolicy.Service, new DateOnly(2026, 11, 24)).IsValid);
        Assert.Contains(ConfigValidator.Validate(Until(last.AddDays(1)), Data, StrategyCatalog.Templates, ValidationPolicy.Service, new DateOnly(2026, 11, 24)).Errors,
            e => (e.Field, e.Rule) == ("endDate", "maxDuration"));
    }
}
