using System.Text.Json;

namespace Backtesting.Engine.Configuration;

/// <summary>
/// A <see cref="BacktestConfig"/> read from JSON and written to it as <c>JsonSerializer</c> does with
/// <see cref="JsonDefaults.Options"/>, by hand: the same records from the same documents, the same errors from the
/// broken ones, the same bytes (<c>Tests/Configuration/ConfigJsonTests.cs</c> compares both ways for every example and
/// template config, the awkward values and a list of broken documents).
/// </summary>
/// <remarks>
/// <para>Why by hand: a worker process reads its config, hashes it and writes it into results.json once, and the
/// serializer's first use in a process (its options, caches, converters and each type's metadata, built by reflection)
/// cost about 65 ms of CPU, a fifth of a one-year minute run (docs/benchmarks.md). Reading a parsed
/// <see cref="JsonDocument"/> costs about 15 ms. Source-generated metadata is no cheaper on its first use, and it loses
/// the records' initial values of properties a document leaves out (dotnet/runtime#84484), so it would read other
/// records.</para>
/// <para>The reading is strict: it takes only what it reads exactly as the serializer would (known names, compared
/// ignoring case; strings, numbers, named floating-point literals, booleans and nulls where the serializer takes them).
/// Anything else, every broken document included, is handed to the serializer itself, so an error names the same field
/// with the same message whoever reads the config (the API and the worker both call <see cref="ConfigValidator.Parse"/>).
/// Names of the members come from the records through the project's naming policy, so the shape keeps one home.</para>
/// </remarks>
public static class ConfigJson
{
    /// <summary>
    /// Reads a config as <c>JsonSerializer.Deserialize&lt;BacktestConfig&gt;(json, JsonDefaults.Options)</c> does: null for
    /// a JSON null, a <see cref="JsonException"/> for a document the serializer refuses.
    /// </summary>
    public static BacktestConfig? Read(string json) =>
        TryRead(json, out var config) ? config : JsonSerializer.Deserialize<BacktestConfig>(json, JsonDefaults.Options);

    /// <summary>Reads the config here when the document holds only what this reader takes; false leaves it to the serializer.</summary>
    internal static bool TryRead(string json, out BacktestConfig? config)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            config = document.RootElement.ValueKind == JsonValueKind.Null ? null : Config(document.RootElement);
            return true;
        }
        catch (Exception e) when (e is JsonException or NotRead)
        {
            config = null;
            return false;
        }
    }

    /// <summary>The config's JSON, as <c>JsonSerializer.Serialize(config, JsonDefaults.Options)</c> writes it.</summary>
    public static string Write(BacktestConfig config)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, config);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the config as a value of <paramref name="w"/>, as the serializer does.</summary>
    public static void Write(Utf8JsonWriter w, BacktestConfig? c)
    {
        if (c is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartObject();
        String(w, N.StrategyClass, c.StrategyClass);
        w.WritePropertyName(N.StrategyConfig);
        if (c.StrategyConfig is null)
        {
            w.WriteNullValue();
        }
        else
        {
            // A dictionary's keys as given: the project's options name properties, never dictionary keys.
            w.WriteStartObject();
            foreach (var (name, value) in c.StrategyConfig)
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }

            w.WriteEndObject();
        }

        String(w, N.StartDate, c.StartDate);
        String(w, N.EndDate, c.EndDate);
        Strings(w, N.Instruments, c.Instruments);
        Strings(w, N.Venues, c.Venues);
        Double(w, N.InitialBalance, c.InitialBalance);
        String(w, N.BaseCurrency, c.BaseCurrency);
        String(w, N.AccountType, c.AccountType);
        Double(w, N.RiskFreeRate, c.RiskFreeRate);
        w.WritePropertyName(N.DataConfiguration);
        Write(w, c.DataConfiguration);
        w.WritePropertyName(N.ExecutionSettings);
        Write(w, c.ExecutionSettings);
        w.WritePropertyName(N.RiskSettings);
        Write(w, c.RiskSettings);
        String(w, N.Benchmark, c.Benchmark);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, DataConfiguration? d)
    {
        if (d is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartObject();
        String(w, N.Resolution, d.Resolution);
        String(w, N.DataType, d.DataType);
        String(w, N.Adjustment, d.Adjustment);
        w.WritePropertyName(N.QualityFilters);
        if (d.QualityFilters is not { } q)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            w.WriteBoolean(N.DropInvalid, q.DropInvalid);
            w.WriteBoolean(N.DropZeroVolume, q.DropZeroVolume);
            Double(w, N.SpikeThreshold, q.SpikeThreshold);
            w.WriteBoolean(N.ReportGaps, q.ReportGaps);
            w.WriteEndObject();
        }

        w.WriteNumber(N.Warmup, d.Warmup);
        w.WriteBoolean(N.ExtendedHours, d.ExtendedHours);
        w.WriteBoolean(N.FxCarryForward, d.FxCarryForward);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, ExecutionSettings? e)
    {
        if (e is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartObject();
        String(w, N.FillModel, e.FillModel);
        w.WritePropertyName(N.Slippage);
        if (e.Slippage is not { } s)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            String(w, N.Model, s.Model);
            Double(w, N.Bps, s.Bps);
            Double(w, N.Ticks, s.Ticks);
            Double(w, N.Impact, s.Impact);
            w.WriteEndObject();
        }

        w.WritePropertyName(N.Commission);
        if (e.Commission is not { } c)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            String(w, N.Model, c.Model);
            Double(w, N.Rate, c.Rate);
            Double(w, N.Amount, c.Amount);
            Double(w, N.PerShare, c.PerShare);
            Double(w, N.Minimum, c.Minimum);
            Double(w, N.MaximumPercent, c.MaximumPercent);
            w.WriteEndObject();
        }

        Double(w, N.MaxVolumeParticipation, e.MaxVolumeParticipation);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, RiskSettings? r)
    {
        if (r is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartObject();
        w.WritePropertyName(N.PositionSizing);
        if (r.PositionSizing is not { } p)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            String(w, N.Mode, p.Mode);
            Double(w, N.Quantity, p.Quantity);
            Double(w, N.Notional, p.Notional);
            Double(w, N.Percent, p.Percent);
            Double(w, N.RiskPercent, p.RiskPercent);
            w.WriteNumber(N.AtrPeriod, p.AtrPeriod);
            w.WriteEndObject();
        }

        w.WritePropertyName(N.Limits);
        if (r.Limits is not { } l)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            Double(w, N.MaxPositionQuantity, l.MaxPositionQuantity);
            Double(w, N.MaxPositionPercent, l.MaxPositionPercent);
            w.WriteNumber(N.MaxOpenPositions, l.MaxOpenPositions);
            w.WriteEndObject();
        }

        w.WritePropertyName(N.Stops);
        if (r.Stops is not { } s)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            Double(w, N.StopLossPercent, s.StopLossPercent);
            Double(w, N.TakeProfitPercent, s.TakeProfitPercent);
            w.WriteEndObject();
        }

        Double(w, N.MaxLeverage, r.MaxLeverage);
        Double(w, N.DrawdownHalt, r.DrawdownHalt);
        w.WriteEndObject();
    }

    // ---- reading ----

    private static BacktestConfig Config(JsonElement e)
    {
        var c = new BacktestConfig();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            c = Is(p, N.StrategyClass) ? c with { StrategyClass = String(v)! }
                : Is(p, N.StrategyConfig) ? c with { StrategyConfig = Dictionary(v)! }
                : Is(p, N.StartDate) ? c with { StartDate = String(v)! }
                : Is(p, N.EndDate) ? c with { EndDate = String(v)! }
                : Is(p, N.Instruments) ? c with { Instruments = Strings(v)! }
                : Is(p, N.Venues) ? c with { Venues = Strings(v)! }
                : Is(p, N.InitialBalance) ? c with { InitialBalance = Double(v) }
                : Is(p, N.BaseCurrency) ? c with { BaseCurrency = String(v)! }
                : Is(p, N.AccountType) ? c with { AccountType = String(v)! }
                : Is(p, N.RiskFreeRate) ? c with { RiskFreeRate = Double(v) }
                : Is(p, N.DataConfiguration) ? c with { DataConfiguration = Object(v, DataConfiguration)! }
                : Is(p, N.ExecutionSettings) ? c with { ExecutionSettings = Object(v, ExecutionSettings)! }
                : Is(p, N.RiskSettings) ? c with { RiskSettings = Object(v, RiskSettings)! }
                : Is(p, N.Benchmark) ? c with { Benchmark = String(v) }
                : throw new NotRead();
        }

        return c;
    }

    private static DataConfiguration DataConfiguration(JsonElement e)
    {
        var d = new DataConfiguration();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            d = Is(p, N.Resolution) ? d with { Resolution = String(v)! }
                : Is(p, N.DataType) ? d with { DataType = String(v)! }
                : Is(p, N.Adjustment) ? d with { Adjustment = String(v)! }
                : Is(p, N.QualityFilters) ? d with { QualityFilters = Object(v, QualityFilters)! }
                : Is(p, N.Warmup) ? d with { Warmup = Int(v) }
                : Is(p, N.ExtendedHours) ? d with { ExtendedHours = Bool(v) }
                : Is(p, N.FxCarryForward) ? d with { FxCarryForward = Bool(v) }
                : throw new NotRead();
        }

        return d;
    }

    private static QualityFilters QualityFilters(JsonElement e)
    {
        var q = new QualityFilters();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            q = Is(p, N.DropInvalid) ? q with { DropInvalid = Bool(v) }
                : Is(p, N.DropZeroVolume) ? q with { DropZeroVolume = Bool(v) }
                : Is(p, N.SpikeThreshold) ? q with { SpikeThreshold = Double(v) }
                : Is(p, N.ReportGaps) ? q with { ReportGaps = Bool(v) }
                : throw new NotRead();
        }

        return q;
    }

    private static ExecutionSettings ExecutionSettings(JsonElement e)
    {
        var x = new ExecutionSettings();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            x = Is(p, N.FillModel) ? x with { FillModel = String(v)! }
                : Is(p, N.Slippage) ? x with { Slippage = Object(v, Slippage)! }
                : Is(p, N.Commission) ? x with { Commission = Object(v, Commission)! }
                : Is(p, N.MaxVolumeParticipation) ? x with { MaxVolumeParticipation = Double(v) }
                : throw new NotRead();
        }

        return x;
    }

    private static SlippageSettings Slippage(JsonElement e)
    {
        var s = new SlippageSettings();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            s = Is(p, N.Model) ? s with { Model = String(v)! }
                : Is(p, N.Bps) ? s with { Bps = Double(v) }
                : Is(p, N.Ticks) ? s with { Ticks = Double(v) }
                : Is(p, N.Impact) ? s with { Impact = Double(v) }
                : throw new NotRead();
        }

        return s;
    }

    private static CommissionSettings Commission(JsonElement e)
    {
        var c = new CommissionSettings();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            c = Is(p, N.Model) ? c with { Model = String(v)! }
                : Is(p, N.Rate) ? c with { Rate = Double(v) }
                : Is(p, N.Amount) ? c with { Amount = Double(v) }
                : Is(p, N.PerShare) ? c with { PerShare = Double(v) }
                : Is(p, N.Minimum) ? c with { Minimum = Double(v) }
                : Is(p, N.MaximumPercent) ? c with { MaximumPercent = Double(v) }
                : throw new NotRead();
        }

        return c;
    }

    private static RiskSettings RiskSettings(JsonElement e)
    {
        var r = new RiskSettings();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            r = Is(p, N.PositionSizing) ? r with { PositionSizing = Object(v, PositionSizing)! }
                : Is(p, N.Limits) ? r with { Limits = Object(v, Limits)! }
                : Is(p, N.Stops) ? r with { Stops = Object(v, Stops)! }
                : Is(p, N.MaxLeverage) ? r with { MaxLeverage = Double(v) }
                : Is(p, N.DrawdownHalt) ? r with { DrawdownHalt = Double(v) }
                : throw new NotRead();
        }

        return r;
    }

    private static PositionSizing PositionSizing(JsonElement e)
    {
        var s = new PositionSizing();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            s = Is(p, N.Mode) ? s with { Mode = String(v)! }
                : Is(p, N.Quantity) ? s with { Quantity = Double(v) }
                : Is(p, N.Notional) ? s with { Notional = Double(v) }
                : Is(p, N.Percent) ? s with { Percent = Double(v) }
                : Is(p, N.RiskPercent) ? s with { RiskPercent = Double(v) }
                : Is(p, N.AtrPeriod) ? s with { AtrPeriod = Int(v) }
                : throw new NotRead();
        }

        return s;
    }

    private static RiskLimits Limits(JsonElement e)
    {
        var l = new RiskLimits();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            l = Is(p, N.MaxPositionQuantity) ? l with { MaxPositionQuantity = Double(v) }
                : Is(p, N.MaxPositionPercent) ? l with { MaxPositionPercent = Double(v) }
                : Is(p, N.MaxOpenPositions) ? l with { MaxOpenPositions = Int(v) }
                : throw new NotRead();
        }

        return l;
    }

    private static StopSettings Stops(JsonElement e)
    {
        var s = new StopSettings();
        foreach (var p in Members(e))
        {
            var v = p.Value;
            s = Is(p, N.StopLossPercent) ? s with { StopLossPercent = Double(v) }
                : Is(p, N.TakeProfitPercent) ? s with { TakeProfitPercent = Double(v) }
                : throw new NotRead();
        }

        return s;
    }

    /// <summary>An object's members; anything but an object, or a name given twice (ignoring case), is the serializer's to refuse.</summary>
    private static JsonElement.ObjectEnumerator Members(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new NotRead();
        }

        // A config's objects hold a handful of members: each is compared with those before it, no collection needed.
        var index = 0;
        foreach (var member in e.EnumerateObject())
        {
            var before = 0;
            foreach (var earlier in e.EnumerateObject())
            {
                if (before++ == index)
                {
                    break;
                }

                if (earlier.NameEquals(member.Name) || earlier.Name.Equals(member.Name, StringComparison.OrdinalIgnoreCase))
                {
                    throw new NotRead();
                }
            }

            index++;
        }

        return e.EnumerateObject();
    }

    /// <summary>A member's name against a property's, ignoring case as the project's options do.</summary>
    private static bool Is(JsonProperty p, Name name) => p.Name.Equals(name.Text, StringComparison.OrdinalIgnoreCase);

    private static T? Object<T>(JsonElement e, Func<JsonElement, T> read) where T : class =>
        e.ValueKind == JsonValueKind.Null ? null : read(e);

    private static string? String(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Null => null,
        _ => throw new NotRead(),
    };

    private static List<string>? Strings(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new NotRead();
        }

        var list = new List<string>(e.GetArrayLength());
        foreach (var item in e.EnumerateArray())
        {
            list.Add(String(item)!);
        }

        return list;
    }

    private static Dictionary<string, JsonElement>? Dictionary(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var dictionary = new Dictionary<string, JsonElement>();
        foreach (var p in Members(e))
        {
            // Each value a document of its own, as the serializer's JsonElement is: it outlives the config's document.
            if (!dictionary.TryAdd(p.Name, p.Value.Clone()))
            {
                throw new NotRead();
            }
        }

        return dictionary;
    }

    /// <summary>A number, or a named floating-point literal (the project's number handling); nothing else.</summary>
    private static double Double(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var value))
        {
            return value;
        }

        if (e.ValueKind == JsonValueKind.String)
        {
            if (e.ValueEquals("NaN"))
            {
                return double.NaN;
            }

            if (e.ValueEquals("Infinity"))
            {
                return double.PositiveInfinity;
            }

            if (e.ValueEquals("-Infinity"))
            {
                return double.NegativeInfinity;
            }
        }

        throw new NotRead();
    }

    private static int Int(JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var value) ? value : throw new NotRead();

    private static bool Bool(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new NotRead(),
    };

    // ---- writing ----

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JsonDefaults.Options.Encoder,
        Indented = JsonDefaults.Options.WriteIndented,
        SkipValidation = true,
    };

    private static void String(Utf8JsonWriter w, Name name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name.Encoded);
        }
        else
        {
            w.WriteString(name.Encoded, value);
        }
    }

    private static void Strings(Utf8JsonWriter w, Name name, List<string>? values)
    {
        w.WritePropertyName(name.Encoded);
        if (values is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartArray();
        foreach (var value in values)
        {
            if (value is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStringValue(value);
            }
        }

        w.WriteEndArray();
    }

    /// <summary>A number, or, as the project's number handling allows, NaN and the infinities as named strings.</summary>
    private static void Double(Utf8JsonWriter w, Name name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name.Encoded, value);
        }
        else
        {
            w.WriteString(name.Encoded, double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteBoolean(this Utf8JsonWriter w, Name name, bool value) => w.WriteBoolean(name.Encoded, value);

    private static void WriteNumber(this Utf8JsonWriter w, Name name, int value) => w.WriteNumber(name.Encoded, value);

    private static void WritePropertyName(this Utf8JsonWriter w, Name name) => w.WritePropertyName(name.Encoded);

    /// <summary>Thrown where the document holds something this reader leaves to the serializer.</summary>
    private sealed class NotRead : Exception;

    /// <summary>A member's name as the project's options write it (camelCase), plain and encoded.</summary>
    private sealed class Name(string member)
    {
        public string Text { get; } = JsonDefaults.Options.PropertyNamingPolicy?.ConvertName(member) ?? member;

        public JsonEncodedText Encoded { get; } = JsonEncodedText.Encode(JsonDefaults.Options.PropertyNamingPolicy?.ConvertName(member) ?? member,
            JsonDefaults.Options.Encoder);
    }

    /// <summary>The names, each from the member it names.</summary>
    private static class N
    {
        public static readonly Name StrategyClass = new(nameof(BacktestConfig.StrategyClass));
        public static readonly Name StrategyConfig = new(nameof(BacktestConfig.StrategyConfig));
        public static readonly Name StartDate = new(nameof(BacktestConfig.StartDate));
        public static readonly Name EndDate = new(nameof(BacktestConfig.EndDate));
        public static readonly Name Instruments = new(nameof(BacktestConfig.Instruments));
        public static readonly Name Venues = new(nameof(BacktestConfig.Venues));
        public static readonly Name InitialBalance = new(nameof(BacktestConfig.InitialBalance));
        public static readonly Name BaseCurrency = new(nameof(BacktestConfig.BaseCurrency));
        public static readonly Name AccountType = new(nameof(BacktestConfig.AccountType));
        public static readonly Name RiskFreeRate = new(nameof(BacktestConfig.RiskFreeRate));
        public static readonly Name DataConfiguration = new(nameof(BacktestConfig.DataConfiguration));
        public static readonly Name ExecutionSettings = new(nameof(BacktestConfig.ExecutionSettings));
        public static readonly Name RiskSettings = new(nameof(BacktestConfig.RiskSettings));
        public static readonly Name Benchmark = new(nameof(BacktestConfig.Benchmark));

        public static readonly Name Resolution = new(nameof(Configuration.DataConfiguration.Resolution));
        public static readonly Name DataType = new(nameof(Configuration.DataConfiguration.DataType));
        public static readonly Name Adjustment = new(nameof(Configuration.DataConfiguration.Adjustment));
        public static readonly Name QualityFilters = new(nameof(Configuration.DataConfiguration.QualityFilters));
        public static readonly Name Warmup = new(nameof(Configuration.DataConfiguration.Warmup));
        public static readonly Name ExtendedHours = new(nameof(Configuration.DataConfiguration.ExtendedHours));
        public static readonly Name FxCarryForward = new(nameof(Configuration.DataConfiguration.FxCarryForward));
        public static readonly Name DropInvalid = new(nameof(Configuration.QualityFilters.DropInvalid));
        public static readonly Name DropZeroVolume = new(nameof(Configuration.QualityFilters.DropZeroVolume));
        public static readonly Name SpikeThreshold = new(nameof(Configuration.QualityFilters.SpikeThreshold));
        public static readonly Name ReportGaps = new(nameof(Configuration.QualityFilters.ReportGaps));

        public static readonly Name FillModel = new(nameof(Configuration.ExecutionSettings.FillModel));
        public static readonly Name Slippage = new(nameof(Configuration.ExecutionSettings.Slippage));
        public static readonly Name Commission = new(nameof(Configuration.ExecutionSettings.Commission));
        public static readonly Name MaxVolumeParticipation = new(nameof(Configuration.ExecutionSettings.MaxVolumeParticipation));
        public static readonly Name Model = new(nameof(SlippageSettings.Model));
        public static readonly Name Bps = new(nameof(SlippageSettings.Bps));
        public static readonly Name Ticks = new(nameof(SlippageSettings.Ticks));
        public static readonly Name Impact = new(nameof(SlippageSettings.Impact));
        public static readonly Name Rate = new(nameof(CommissionSettings.Rate));
        public static readonly Name Amount = new(nameof(CommissionSettings.Amount));
        public static readonly Name PerShare = new(nameof(CommissionSettings.PerShare));
        public static readonly Name Minimum = new(nameof(CommissionSettings.Minimum));
        public static readonly Name MaximumPercent = new(nameof(CommissionSettings.MaximumPercent));

        public static readonly Name PositionSizing = new(nameof(Configuration.RiskSettings.PositionSizing));
        public static readonly Name Limits = new(nameof(Configuration.RiskSettings.Limits));
        public static readonly Name Stops = new(nameof(Configuration.RiskSettings.Stops));
        public static readonly Name MaxLeverage = new(nameof(Configuration.RiskSettings.MaxLeverage));
        public static readonly Name DrawdownHalt = new(nameof(Configuration.RiskSettings.DrawdownHalt));
        public static readonly Name Mode = new(nameof(Configuration.PositionSizing.Mode));
        public static readonly Name Quantity = new(nameof(Configuration.PositionSizing.Quantity));
        public static readonly Name Notional = new(nameof(Configuration.PositionSizing.Notional));
        public static readonly Name Percent = new(nameof(Configuration.PositionSizing.Percent));
        public static readonly Name RiskPercent = new(nameof(Configuration.PositionSizing.RiskPercent));
        public static readonly Name AtrPeriod = new(nameof(Configuration.PositionSizing.AtrPeriod));
        public static readonly Name MaxPositionQuantity = new(nameof(RiskLimits.MaxPositionQuantity));
        public static readonly Name MaxPositionPercent = new(nameof(RiskLimits.MaxPositionPercent));
        public static readonly Name MaxOpenPositions = new(nameof(RiskLimits.MaxOpenPositions));
        public static readonly Name StopLossPercent = new(nameof(StopSettings.StopLossPercent));
        public static readonly Name TakeProfitPercent = new(nameof(StopSettings.TakeProfitPercent));
    }
}
