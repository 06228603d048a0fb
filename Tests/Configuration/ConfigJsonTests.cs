using System.Reflection;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Configuration;

/// <summary>
/// <see cref="ConfigJson"/> reads the records the reflection serializer reads, refuses what it refuses with the same
/// error, and writes the serializer's bytes: for every example config, every template's config, a config with every field
/// set, the awkward values (named literals, nulls, case, escapes, extremes) and a list of broken documents, one for each way
/// a document can break.
/// </summary>
public sealed class ConfigJsonTests
{
    // ---- the reference: how a config was read before, with the reflection serializer ----

    private static (BacktestConfig? Config, IReadOnlyList<ValidationError> Errors) ReferenceParse(string json)
    {
        if (StrictJson.Check(json) is { } broken)
        {
            return (null, [broken]);
        }

        try
        {
            var config = JsonSerializer.Deserialize<BacktestConfig>(json, JsonDefaults.Options);
            return config is null
                ? (null, [new ValidationError("$", "json", "the config must be a JSON object")])
                : (config, []);
        }
        catch (JsonException e)
        {
            return (null, [new ValidationError(StrictJson.Field(e.Path), "json", StrictJson.Describe(e))]);
        }
    }

    /// <summary>A config in full, by the reflection serializer: records compared by every value they hold, in order.</summary>
    private static string Deep(BacktestConfig? config) => JsonSerializer.Serialize(config, JsonDefaults.Options);

    // ---- the valid documents ----

    private static IEnumerable<string> Examples() =>
        Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "examples"), "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllText);

    private static IEnumerable<string> TemplateConfigs()
    {
        foreach (var descriptor in StrategyCatalog.Templates.All)
        {
            var parameters = JsonSerializer.Serialize(descriptor.Parameters.Where(p => p.Default is not null).ToDictionary(p => p.Name, p => p.Default));
            yield return $$$"""
                {"strategyClass":"{{{descriptor.Name}}}","strategyConfig":{{{parameters}}},"startDate":"2015-01-01","endDate":"2019-12-31",
                 "instruments":["SPY","QQQ","IWM"],"initialBalance":100000}
                """;
        }
    }

    /// <summary>A config with every property of every config type set to a value other than its default, found by reflection.</summary>
    private static BacktestConfig Everything()
    {
        var index = 0;
        object Fill(Type type)
        {
            var instance = Activator.CreateInstance(type)!;
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                index++;
                object? value = p.PropertyType switch
                {
                    var t when t == typeof(string) => $"v{index} caf\u00e9 \"q\" <&> \U0001F4C8",
                    var t when t == typeof(double) => index + 0.125,
                    var t when t == typeof(int) => index,
                    var t when t == typeof(bool) => !(bool)p.GetValue(instance)!,
                    var t when t == typeof(List<string>) => new List<string> { $"I{index}", "\u00e9" },
                    var t when t == typeof(Dictionary<string, JsonElement>) => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
                        """{"fastPeriod":10,"slow\u00e9":30.5,"maType":"SMA","flag":true,"none":null,"list":[1,"a",{"b":2}],"exp":1E-7}"""),
                    var t when t.Namespace == typeof(BacktestConfig).Namespace && t.IsClass => Fill(t),
                    var t => throw new InvalidOperationException($"{type.Name}.{p.Name} is a {t}: give the test a value for it"),
                };
                p.SetValue(instance, value);
            }

            return instance;
        }

        var config = (BacktestConfig)Fill(typeof(BacktestConfig));
        Assert.True(index > 50, $"only {index} properties set: the config types lost their properties?");
        return config;
    }

    private static IEnumerable<string> Valid()
    {
        foreach (var json in Examples().Concat(TemplateConfigs()))
        {
            yield return json;
        }

        var everything = JsonSerializer.Serialize(Everything(), JsonDefaults.Options);
        yield return everything;
        yield return JsonSerializer.Serialize(Everything(), JsonDefaults.Indented);
        // Names in any case: the project's options compare them ignoring case.
        yield return everything.Replace("\"initialBalance\"", "\"INITIALBALANCE\"", StringComparison.Ordinal)
            .Replace("\"dataConfiguration\"", "\"DataConfiguration\"", StringComparison.Ordinal)
            .Replace("\"warmup\"", "\"wArMuP\"", StringComparison.Ordinal);
        yield return "{}";
        yield return "null";
        yield return " \r\n\t{ \"strategyClass\" : \"MovingAverageCross\" , \"instruments\" : [ ] } \n";
        // The project's number handling: named literals (escaped too), extremes, signed zero.
        foreach (var number in new[] { "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"\\u004EaN\"", "1e400", "-1e400", "1e-400", "-0", "0.1", "1E+2", "123456789012345678901234567890" })
        {
            yield return $$$$"""{"initialBalance":{{{{number}}}},"riskSettings":{"drawdownHalt":{{{{number}}}},"stops":{"stopLossPercent":{{{{number}}}}}}}""";
        }

        foreach (var integer in new[] { "-0", "2147483647", "-2147483648", "0" })
        {
            yield return $$$$"""{"dataConfiguration":{"warmup":{{{{integer}}}}},"riskSettings":{"positionSizing":{"atrPeriod":{{{{integer}}}}},"limits":{"maxOpenPositions":{{{{integer}}}}}}}""";
        }

        // Null where the serializer takes it: every reference-typed property, and a list's items.
        yield return """{"strategyClass":null,"strategyConfig":null,"startDate":null,"endDate":null,"instruments":null,"venues":null,"baseCurrency":null,"accountType":null,"benchmark":null}""";
        yield return """{"dataConfiguration":null,"executionSettings":null,"riskSettings":null}""";
        yield return """{"dataConfiguration":{"resolution":null,"dataType":null,"adjustment":null,"qualityFilters":null}}""";
        yield return """{"executionSettings":{"fillModel":null,"slippage":null,"commission":null},"riskSettings":{"positionSizing":null,"limits":null,"stops":null}}""";
        yield return """{"executionSettings":{"slippage":{"model":null},"commission":{"model":null}},"riskSettings":{"positionSizing":{"mode":null}}}""";
        yield return """{"instruments":["SPY",null,"\u00e9","\ud83d\udcc8",""]}""";
        // Escapes and non-ASCII in names and values, and a strategyConfig of every kind of value.
        yield return """{"strategyClass":"M\u00f6ving\"Avg\\\/","strateg\u0079Config":{"caf\u00e9 \"k\"":"v\u00e9","deep":{"a":[[[]]],"b":{}},"n":-0.0e-0,"t":true,"f":false,"z":null}}""";
        yield return """{"strategyConfig":{"a":1,"b":2,"c":3}}""";
        yield return """{"strategyConfig":{}}""";
    }

    // ---- the broken documents ----

    private static IEnumerable<string> Invalid()
    {
        // Not an object, or not JSON.
        foreach (var root in new[] { "[]", "1", "\"x\"", "true", "false", "", " ", "{", "{}}", "{\"a\":1,}", "// c\n{}", "{} {}", "nul", "{'a':1}" })
        {
            yield return root;
        }

        // A name that is no member, at every level.
        yield return """{"foo":1}""";
        yield return """{"FOO":{"a":1}}""";
        yield return """{"a.b":1}""";
        yield return """{"it's":1}""";
        yield return """{"dataConfiguration":{"qualityFilters":{"bad":1}}}""";
        yield return """{"dataConfiguration":{"bad":[]}}""";
        yield return """{"executionSettings":{"slippage":{"bad":null}}}""";
        yield return """{"executionSettings":{"commission":{"bad":1}}}""";
        yield return """{"executionSettings":{"bad":1}}""";
        yield return """{"riskSettings":{"bad":1}}""";
        yield return """{"riskSettings":{"positionSizing":{"bad":1}}}""";
        yield return """{"riskSettings":{"limits":{"bad":1}}}""";
        yield return """{"riskSettings":{"stops":{"bad":1}}}""";
        // A value of the wrong kind, for every kind of property.
        foreach (var wrong in new[] { "\"1\"", "\"nan\"", "\" NaN\"", "\"NaN \"", "\"infinity\"", "\"+Infinity\"", "null", "true", "[]", "{}", "[1]" })
        {
            yield return $$$"""{"initialBalance":{{{wrong}}}}""";
            yield return $$$$"""{"riskSettings":{"stops":{"takeProfitPercent":{{{{wrong}}}}}}}""";
        }

        foreach (var wrong in new[] { "1.5", "1.0", "1e2", "99999999999", "-2147483649", "\"14\"", "null", "true", "\"NaN\"", "{}" })
        {
            yield return $$$"""{"dataConfiguration":{"warmup":{{{wrong}}}}}""";
            yield return $$$$"""{"riskSettings":{"positionSizing":{"atrPeriod":{{{{wrong}}}}}}}""";
        }

        foreach (var wrong in new[] { "1", "\"yes\"", "null", "[]", "{}", "0" })
        {
            yield return $$$"""{"dataConfiguration":{"extendedHours":{{{wrong}}}}}""";
            yield return $$$$"""{"dataConfiguration":{"qualityFilters":{"dropInvalid":{{{{wrong}}}}}}}""";
        }

        foreach (var wrong in new[] { "5", "true", "[]", "{}", "1.5" })
        {
            yield return $$$"""{"strategyClass":{{{wrong}}}}""";
            yield return $$$"""{"benchmark":{{{wrong}}}}""";
            yield return $$$"""{"dataConfiguration":{"resolution":{{{wrong}}}}}""";
        }

        foreach (var wrong in new[] { "{}", "\"SPY\"", "1", "[1]", "[[\"a\"]]", "[{}]", "[\"a\",true]" })
        {
            yield return $$$"""{"instruments":{{{wrong}}}}""";
            yield return $$$"""{"venues":{{{wrong}}}}""";
        }

        foreach (var wrong in new[] { "[]", "1", "\"x\"", "true" })
        {
            yield return $$$"""{"strategyConfig":{{{wrong}}}}""";
            yield return $$$"""{"dataConfiguration":{{{wrong}}}}""";
            yield return $$$"""{"executionSettings":{"slippage":{{{wrong}}}}}""";
            yield return $$$"""{"riskSettings":{"limits":{{{wrong}}}}}""";
        }

        // A name given twice: exactly, in another case, in a nested object, in strategyConfig.
        yield return """{"initialBalance":1,"initialBalance":2}""";
        yield return """{"initialBalance":1,"InitialBalance":2}""";
        yield return """{"dataConfiguration":{"warmup":1,"WARMUP":2}}""";
        yield return """{"strategyConfig":{"a":1,"a":2}}""";
        yield return """{"strategyConfig":{"a":1,"A":2}}""";
        // The rules StrictJson adds: NUL characters, depth.
        yield return "{\"strategyClass\":\"a\\u0000b\"}";
        yield return "{\"strategyConfig\":{\"a\":" + new string('[', 40) + new string(']', 40) + "}}";
        // Broken after a good start: the first error wins.
        yield return """{"strategyClass":"MovingAverageCross","initialBalance":"lots","dataConfiguration":{"warmup":"x"}}""";
    }

    [Fact]
    public void Every_valid_document_is_read_here_into_the_serializer_s_record()
    {
        var count = 0;
        foreach (var json in Valid())
        {
            // Read by this reader, not handed to the serializer: otherwise the comparison would prove nothing.
            Assert.True(ConfigJson.TryRead(json, out var read), $"left to the serializer: {json}");
            Assert.Equal(Deep(JsonSerializer.Deserialize<BacktestConfig>(json, JsonDefaults.Options)), Deep(read));

            var (parsed, errors) = ConfigValidator.Parse(json);
            var (reference, referenceErrors) = ReferenceParse(json);
            Assert.Equal(referenceErrors, errors);
            Assert.Equal(Deep(reference), Deep(parsed));
            count++;
        }

        Assert.True(count > 30, $"only {count} documents");
    }

    [Fact]
    public void Every_broken_document_gives_the_serializer_s_error()
    {
        var count = 0;
        foreach (var json in Invalid())
        {
            var (parsed, errors) = ConfigValidator.Parse(json);
            var (reference, referenceErrors) = ReferenceParse(json);
            Assert.True(reference is null, $"the reference reads it, so it is no broken document: {json}");
            Assert.Null(parsed);
            Assert.Equal(referenceErrors, errors);
            Assert.Single(errors);

            // Read alone (without StrictJson's checks first), it throws what the serializer throws.
            JsonException? expected = null;
            try
            {
                JsonSerializer.Deserialize<BacktestConfig>(json, JsonDefaults.Options);
            }
            catch (JsonException e)
            {
                expected = e;
            }

            if (expected is null)
            {
                // Only StrictJson refuses it (a name twice in another case, a NUL, the depth): both read the same record.
                Assert.Equal(Deep(JsonSerializer.Deserialize<BacktestConfig>(json, JsonDefaults.Options)), Deep(ConfigJson.Read(json)));
            }
            else
            {
                var thrown = Assert.ThrowsAny<JsonException>(() => ConfigJson.Read(json));
                Assert.Equal((expected.Message, expected.Path), (thrown.Message, thrown.Path));
            }

            count++;
        }

        Assert.True(count > 120, $"only {count} documents");
    }

    [Fact]
    public void Every_config_is_written_as_the_serializer_writes_it()
    {
        var configs = Valid().Select(json => JsonSerializer.Deserialize<BacktestConfig>(json, JsonDefaults.Options)).OfType<BacktestConfig>().ToList();
        foreach (var x in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.MaxValue, double.Epsilon })
        {
            configs.Add(Everything() with { InitialBalance = x, RiskSettings = new RiskSettings { MaxLeverage = x, Stops = new StopSettings { TakeProfitPercent = x } } });
        }

        configs.Add(new BacktestConfig { StrategyClass = null!, Instruments = null!, DataConfiguration = null!, ExecutionSettings = null!, RiskSettings = null! });
        configs.Add(new BacktestConfig { Instruments = ["a", null!], DataConfiguration = new DataConfiguration { QualityFilters = null! } });
        Assert.True(configs.Count > 40, $"only {configs.Count} configs");

        foreach (var config in configs)
        {
            var expected = JsonSerializer.Serialize(config, JsonDefaults.Options);
            Assert.Equal(expected, ConfigJson.Write(config));

            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JsonDefaults.Options.Encoder }))
            {
                ConfigJson.Write(writer, config);
            }

            Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        }
    }

    [Fact]
    public void A_strategy_config_read_here_outlives_the_document_it_came_from()
    {
        var config = ConfigJson.Read("""{"strategyConfig":{"fastPeriod":10,"nested":{"a":[1,2]}}}""")!;
        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.Equal(10, config.StrategyConfig["fastPeriod"].GetInt32());
        Assert.Equal("""{"a":[1,2]}""", config.StrategyConfig["nested"].GetRawText());
    }

    [Fact]
    public void Every_config_type_s_property_is_in_the_everything_config()
    {
        // The reflection that fills Everything reaches each config type; a new type or property type fails there.
        var types = new[] { typeof(BacktestConfig), typeof(DataConfiguration), typeof(QualityFilters), typeof(ExecutionSettings), typeof(SlippageSettings),
            typeof(CommissionSettings), typeof(RiskSettings), typeof(PositionSizing), typeof(RiskLimits), typeof(StopSettings) };
        var json = JsonSerializer.Serialize(Everything(), JsonDefaults.Options);
        foreach (var property in types.SelectMany(t => t.GetProperties()))
        {
            var name = JsonDefaults.Options.PropertyNamingPolicy!.ConvertName(property.Name);
            Assert.Contains($"\"{name}\":", json, StringComparison.Ordinal);
        }
    }
}
