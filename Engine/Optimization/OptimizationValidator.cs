using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Optimization;

/// <summary>Limits of the service that are settings rather than rules.</summary>
/// <param name="MaxTrials">The most trials one job may plan (the grid's size, or maxTrials).</param>
public sealed record OptimizationLimits(long MaxTrials = 100_000)
{
    public static OptimizationLimits Default { get; } = new();
}

/// <summary>A validated optimization: the typed form everything after validation works with.</summary>
public sealed record OptimizationPlan(
    OptimizationConfig Config,
    BacktestSpec BaseSpec,
    StrategyDescriptor Strategy,
    SearchSpace Space,
    SearchMethodKind Method,
    long PlannedTrials,
    TrialRules Rules,
    double? Target)
{
    /// <summary>The job's search method, seeded with the job's seed.</summary>
    public ISearchMethod CreateMethod(TpeSettings? tpe = null) => Method switch
    {
        SearchMethodKind.Grid => new GridSearch(Space),
        SearchMethodKind.Random => new RandomSearch(Space, Config.Seed),
        _ => new TpeSearch(Space, Config.Seed, Rules.Objective, tpe),
    };

    /// <summary>A trial's strategyConfig: the base config's, with the trial's parameters over it, in the one order of <see cref="Merge"/>.</summary>
    public Dictionary<string, JsonElement> StrategyConfig(IReadOnlyDictionary<string, JsonElement> parameters) =>
        Merge(Strategy, Config.BaseConfig.StrategyConfig, parameters);

    /// <summary>
    /// A strategyConfig with <paramref name="parameters"/> over <paramref name="baseConfig"/>, its names in one order
    /// whatever order either comes in: the strategy's schema's, then any other name in ordinal order. The order is part
    /// of the config's JSON and so of its content hash, and a trial's parameters come in several: the space's point
    /// (the schema's), a batch file, a row read back from PostgreSQL (jsonb keeps keys shortest first). A trial opened
    /// as a backtest must be the config the trial ran, byte for byte.
    /// </summary>
    public static Dictionary<string, JsonElement> Merge(StrategyDescriptor strategy, IReadOnlyDictionary<string, JsonElement> baseConfig,
        IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var merged = new Dictionary<string, JsonElement>(baseConfig.Count + parameters.Count, StringComparer.Ordinal);
        foreach (var schema in strategy.Parameters)
        {
            if (parameters.TryGetValue(schema.Name, out var value) || baseConfig.TryGetValue(schema.Name, out value))
            {
                merged[schema.Name] = value;
            }
        }

        foreach (var name in baseConfig.Keys.Concat(parameters.Keys).Where(n => !merged.ContainsKey(n)).Distinct().Order(StringComparer.Ordinal))
        {
            merged[name] = parameters.TryGetValue(name, out var value) ? value : baseConfig[name];
        }

        return merged;
    }

    /// <summary>The config a trial runs, exactly as a standalone backtest of it would be given.</summary>
    public BacktestConfig TrialConfig(IReadOnlyDictionary<string, JsonElement> parameters) =>
        BaseSpec.Config with { StrategyConfig = StrategyConfig(parameters) };
}

/// <summary>
/// The rules of an optimization job, every error at once with its exact field (<c>parameters.slowPeriod.max</c>) and its
/// rule. The base config keeps every rule of a backtest (its errors are prefixed <c>baseConfig.</c>), except the
/// strategy's cross-parameter rule, which each trial checks for itself: a trial that breaks it is infeasible, not an error.
/// </summary>
public static class OptimizationValidator
{
    public static readonly IReadOnlyList<string> Methods = ["grid", "random", "tpe"];
    public static readonly IReadOnlyList<string> Directions = ["maximize", "minimize"];
    public static readonly IReadOnlyList<string> Priorities = ["low", "normal", "high", "urgent"];
    /// <summary>Most values one parameter's list may hold.</summary>
    public const int MaxListValues = 10_000;
    public const int MaxConstraints = 20;

    private static readonly HashSet<string> RangeKeys = ["min", "max", "step", "log"];

    /// <summary>Reads a job from JSON under the project's strict rules; a malformed document gives one error naming where.</summary>
    public static (OptimizationConfig? Config, IReadOnlyList<ValidationError> Errors) Parse(string json)
    {
        if (StrictJson.Check(json) is { } broken)
        {
            return (null, [broken]);
        }

        try
        {
            var config = JsonSerializer.Deserialize<OptimizationConfig>(json, JsonDefaults.Options);
            return config is null ? (null, [new ValidationError("$", "json", "the job must be a JSON object")]) : (config, []);
        }
        catch (JsonException e)
        {
            return (null, [new ValidationError(StrictJson.Field(e.Path), "json", StrictJson.Describe(e))]);
        }
    }

    public static (IReadOnlyList<ValidationError> Errors, OptimizationPlan? Plan) Validate(OptimizationConfig config, IMarketDataProvider data,
        StrategyCatalog strategies, ValidationPolicy policy, DateOnly today, OptimizationLimits? limits = null)
    {
        limits ??= OptimizationLimits.Default;
        var errors = new List<ValidationError>();
        void Add(string field, string rule, string message) => errors.Add(new ValidationError(field, rule, message));

        // JSON null binds as null whatever the record's defaults say: the objects are required.
        foreach (var (field, value) in new (string, object?)[]
                 {
                     ("name", config.Name), ("baseConfig", config.BaseConfig), ("parameters", config.Parameters),
                     ("objective", config.Objective), ("constraints", config.Constraints),
                 })
        {
            if (value is null)
            {
                Add(field, "required", $"{field} must not be null");
            }
        }

        if (errors.Count > 0)
        {
            return (errors, null);
        }

        if (config.Name.Length > ConfigValidator.MaxLabelLength)
        {
            Add("name", "maxLength", $"name is longer than {ConfigValidator.MaxLabelLength} characters");
        }
        else if (ConfigValidator.ControlCharacters(config.Name, "name") is { } control)
        {
            errors.Add(control);
        }

        var method = Choice(config.Method, Methods, "method", errors);
        var methodKind = method switch
        {
            "random" => SearchMethodKind.Random,
            "tpe" => SearchMethodKind.Tpe,
            _ => SearchMethodKind.Grid,
        };
        Choice(config.Priority, Priorities, "priority", errors);

        if (config.MaxTrials is { } maxTrials && (maxTrials < 1 || maxTrials > limits.MaxTrials))
        {
            Add("maxTrials", "range", $"maxTrials must be between 1 and {limits.MaxTrials.ToString(CultureInfo.InvariantCulture)}");
        }
        else if (config.MaxTrials is null && method is "random" or "tpe")
        {
            Add("maxTrials", "required", $"maxTrials is required for method {method}");
        }

        // ---- Objective, constraints, target ----
        if (!MetricValues.IsMetric(config.Objective.Metric))
        {
            Add("objective.metric", "unknown", $"unknown metric '{config.Objective.Metric}' (metrics: {string.Join(", ", MetricValues.Names)})");
        }

        var direction = Choice(config.Objective.Direction, Directions, "objective.direction", errors);
        if (config.Constraints.Count > MaxConstraints)
        {
            Add("constraints", "maxCount", $"at most {MaxConstraints} constraints");
        }

        var constraints = new List<Constraint>();
        for (var i = 0; i < Math.Min(config.Constraints.Count, MaxConstraints); i++)
        {
            var c = config.Constraints[i];
            if (c is null)
            {
                Add($"constraints[{i}]", "required", "a constraint must be an object {metric, op, value}");
                continue;
            }

            var metricOk = MetricValues.IsMetric(c.Metric);
            if (!metricOk)
            {
                Add($"constraints[{i}].metric", "unknown", $"unknown metric '{c.Metric}'");
            }

            var op = Constraint.ParseOp(c.Op);
            if (op is null)
            {
                Add($"constraints[{i}].op", "allowed", $"'{c.Op}' is not allowed: use one of {string.Join(", ", Constraint.Ops)}");
            }

            if (!double.IsFinite(c.Value))
            {
                Add($"constraints[{i}].value", "finite", "value must be a finite number");
            }

            if (metricOk && op is { } o && double.IsFinite(c.Value))
            {
                constraints.Add(new Constraint(c.Metric, o, c.Value));
            }
        }

        if (config.Target is { } target && !double.IsFinite(target))
        {
            Add("target", "finite", "target must be a finite number");
        }

        // ---- The space, against the strategy's schema ----
        SearchSpace? space = null;
        StrategyDescriptor? descriptor = null;
        if (strategies.TryGet(config.BaseConfig.StrategyClass, out var found))
        {
            descriptor = found;
            space = Space(config.Parameters, descriptor, methodKind, errors);
        }

        long planned = 0;
        if (space is not null)
        {
            planned = space.PlannedTrials(methodKind, config.MaxTrials);
            if (methodKind == SearchMethodKind.Grid && space.GridSize is { } size && size > limits.MaxTrials)
            {
                Add("parameters", "gridTooLarge",
                    $"grid too large: {size.ToString(CultureInfo.InvariantCulture)} > {limits.MaxTrials.ToString(CultureInfo.InvariantCulture)} trials (the cap per job)");
            }
        }

        // ---- The base config: every rule of a backtest's, validated at the space's first point ----
        var probe = config.BaseConfig;
        if (space is not null && descriptor is not null)
        {
            var first = space.Point(space.Dimensions.Select(d => d.First).ToList());
            probe = config.BaseConfig with { StrategyConfig = OptimizationPlan.Merge(descriptor, config.BaseConfig.StrategyConfig, first) };
        }

        var outcome = ConfigValidator.Validate(probe, data, strategies, policy, today, strategyRules: false);
        // Without a valid space its parameters have no first point: their own errors were reported under parameters.
        var searched = config.Parameters.Keys.Select(name => $"strategyConfig.{name}").ToHashSet(StringComparer.Ordinal);
        errors.AddRange(outcome.Errors.Where(e => space is not null || !searched.Contains(e.Field)).Select(e => e with { Field = "baseConfig." + e.Field }));

        if (errors.Count > 0 || space is null || descriptor is null || outcome.Spec is null)
        {
            return (errors, null);
        }

        var rules = new TrialRules(new Objective(config.Objective.Metric, direction == "maximize"), constraints);
        var spec = outcome.Spec with { Config = config.BaseConfig };
        return ([], new OptimizationPlan(config, spec, descriptor, space, methodKind, planned, rules, config.Target));
    }

    /// <summary>The space of the job's parameters, in the schema's order; every error of every parameter.</summary>
    private static SearchSpace? Space(Dictionary<string, JsonElement> parameters, StrategyDescriptor descriptor, SearchMethodKind method,
        List<ValidationError> errors)
    {
        var before = errors.Count;
        foreach (var name in parameters.Keys)
        {
            if (descriptor.Parameters.All(p => p.Name != name))
            {
                errors.Add(new ValidationError($"parameters.{name}", "unknown",
                    $"unknown parameter: '{name}' is not a parameter of {descriptor.Name} (parameters: {string.Join(", ", descriptor.Parameters.Select(p => p.Name))})"));
            }
        }

        var dimensions = new List<Dimension>();
        foreach (var schema in descriptor.Parameters)
        {
            if (!parameters.TryGetValue(schema.Name, out var spec))
            {
                continue;
            }

            var field = $"parameters.{schema.Name}";
            var dimension = spec.ValueKind == JsonValueKind.Object
                ? (spec.TryGetProperty("values", out _) ? List(schema, spec, field, descriptor, errors) : Range(schema, spec, field, method, errors))
                : Fixed(schema, spec, field, descriptor, errors);
            if (dimension is not null)
            {
                dimensions.Add(dimension);
            }
        }

        return errors.Count == before ? new SearchSpace(dimensions) : null;
    }

    private static Dimension? Fixed(ParameterSchema schema, JsonElement value, string field, StrategyDescriptor descriptor, List<ValidationError> errors)
    {
        var before = errors.Count;
        CheckValue(schema, value, field, descriptor, errors);
        return errors.Count == before ? new FixedDimension(schema.Name, value.Clone()) : null;
    }

    private static Dimension? List(ParameterSchema schema, JsonElement spec, string field, StrategyDescriptor descriptor, List<ValidationError> errors)
    {
        var before = errors.Count;
        foreach (var property in spec.EnumerateObject())
        {
            if (property.Name != "values")
            {
                errors.Add(new ValidationError($"{field}.{property.Name}", "unknown", $"a list takes only values, not '{property.Name}'"));
            }
        }

        var values = spec.GetProperty("values");
        if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
        {
            errors.Add(new ValidationError($"{field}.values", "nonEmpty", "values must be a non-empty array"));
            return null;
        }

        if (values.GetArrayLength() > MaxListValues)
        {
            errors.Add(new ValidationError($"{field}.values", "maxCount", $"at most {MaxListValues} values"));
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<JsonElement>();
        var i = 0;
        foreach (var value in values.EnumerateArray())
        {
            var itemField = $"{field}.values[{i++}]";
            if (CheckValue(schema, value, itemField, descriptor, errors) && !seen.Add(Canonical(value)))
            {
                errors.Add(new ValidationError(itemField, "duplicate", $"{value.GetRawText()} is listed twice"));
            }

            list.Add(value.Clone());
        }

        return errors.Count == before ? new CategoricalDimension(schema.Name, list) : null;
    }

    private static Dimension? Range(ParameterSchema schema, JsonElement spec, string field, SearchMethodKind method, List<ValidationError> errors)
    {
        var before = errors.Count;
        void Add(string at, string rule, string message) => errors.Add(new ValidationError(at, rule, message));
        foreach (var property in spec.EnumerateObject())
        {
            if (!RangeKeys.Contains(property.Name))
            {
                Add($"{field}.{property.Name}", "unknown", $"a range takes min, max, step and log, not '{property.Name}'");
            }
        }

        if (schema.Type is not ("integer" or "number"))
        {
            Add(field, "type", $"{schema.Name} is of type {schema.Type}: give a fixed value or a list of values, not a range");
            return null;
        }

        var integer = schema.Type == "integer";
        double? Number(string key, bool required)
        {
            if (!spec.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (required)
                {
                    Add($"{field}.{key}", "required", $"{key} is required");
                }

                return null;
            }

            // A number too large for a double (1e999) is not one either.
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                Add($"{field}.{key}", "type", $"{key} must be a number");
                return null;
            }

            if (integer && (Math.Floor(number) != number || Math.Abs(number) > int.MaxValue))
            {
                Add($"{field}.{key}", "integer", $"{key} must be an integer: {schema.Name} is of type integer");
                return null;
            }

            return number;
        }

        var min = Number("min", required: true);
        var max = Number("max", required: true);
        var step = Number("step", required: false);
        var log = false;
        if (spec.TryGetProperty("log", out var logValue))
        {
            if (logValue.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                log = logValue.GetBoolean();
            }
            else
            {
                Add($"{field}.log", "type", "log must be true or false");
            }
        }

        var bounds = $"[{Format(schema.Min)}, {Format(schema.Max)}]";
        if (min is { } lo && schema.Min is { } schemaMin && lo < schemaMin)
        {
            Add($"{field}.min", "schemaRange", $"min {Format(lo)} is not within schema range {bounds}");
        }

        if (max is { } hi && schema.Max is { } schemaMax && hi > schemaMax)
        {
            Add($"{field}.max", "schemaRange", $"max {Format(hi)} is not within schema range {bounds}");
        }

        if (min is { } a && max is { } b && a > b)
        {
            Add($"{field}.max", "minMax", $"min <= max does not hold: min {Format(a)} > max {Format(b)}");
        }

        if (step is { } s && !(s > 0))
        {
            Add($"{field}.step", "step", $"step > 0 does not hold: step is {Format(s)}");
        }

        if (log)
        {
            if (min is { } m && !(m > 0))
            {
                Add($"{field}.min", "logMin", $"log needs min > 0: min is {Format(m)}");
            }

            if (step is not null)
            {
                Add($"{field}.step", "logStep", "a log range takes no step");
            }

            if (method == SearchMethodKind.Grid)
            {
                Add($"{field}.log", "method", "a log range needs method random or tpe (a grid needs a step)");
            }
        }
        else if (!integer && step is null && method == SearchMethodKind.Grid)
        {
            Add($"{field}.step", "required", $"a grid needs a step for the number range of {schema.Name}");
        }

        if (errors.Count != before)
        {
            return null;
        }

        var dimension = new RangeDimension(schema.Name, integer, min!.Value, max!.Value, log ? null : step ?? (integer ? 1 : null), log);
        if (dimension.Count is { } count && count > MaxListValues * 100L)
        {
            Add($"{field}.step", "tooFine", $"the range holds {count} values: at most {MaxListValues * 100L}");
            return null;
        }

        return dimension;
    }

    /// <summary>One value against the parameter's schema (type, range, allowed values), with the schema's own checks.</summary>
    private static bool CheckValue(ParameterSchema schema, JsonElement value, string field, StrategyDescriptor descriptor, List<ValidationError> errors)
    {
        var single = new Dictionary<string, JsonElement>(StringComparer.Ordinal) { [schema.Name] = value };
        var own = $"strategyConfig.{schema.Name}";
        var found = descriptor.SchemaErrors(single).Where(e => e.Field == own && e.Rule != "required").ToList();
        if (value.ValueKind == JsonValueKind.Null)
        {
            found.Add(new ValidationError(own, "type", $"{schema.Name} must be of type {schema.Type}"));
        }

        errors.AddRange(found.Select(e => e with { Field = field }));
        return found.Count == 0;
    }

    private static string Canonical(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("R", CultureInfo.InvariantCulture) : value.GetRawText();

    private static string Format(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "unbounded";

    private static string? Choice(string? value, IReadOnlyList<string> allowed, string field, List<ValidationError> errors)
    {
        if (value is not null && allowed.Contains(value))
        {
            return value;
        }

        errors.Add(new ValidationError(field, "allowed", $"'{value}' is not allowed: use one of {string.Join(", ", allowed)}"));
        return null;
    }
}
