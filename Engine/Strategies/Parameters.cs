using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Backtesting.Engine.Strategies;

/// <summary>
/// Marks a strategy property as a parameter. The property's initial value is its default. Min and Max
/// are inclusive; NaN means unbounded.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ParameterAttribute(string description) : Attribute
{
    public string Description { get; } = description;
    public double Min { get; init; } = double.NaN;
    public double Max { get; init; } = double.NaN;
    public bool Required { get; init; }
    /// <summary>For string parameters: the allowed values.</summary>
    public string[]? Allowed { get; init; }
}

/// <summary>
/// Describes a strategy class for the catalog: its description and how many instruments it trades at most.
/// Custom strategies carry it on their class; the templates are described where the catalog lists them.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class StrategyInfoAttribute(string description) : Attribute
{
    public string Description { get; } = description;
    public int MaxInstruments { get; init; } = 50;
}

/// <summary>One parameter of a strategy: the single source for validation, the dashboard's form and the docs.</summary>
public sealed record ParameterSchema(
    string Name,
    string Type,
    bool Required,
    object? Default,
    double? Min,
    double? Max,
    string Description,
    IReadOnlyList<string>? Allowed);

/// <summary>A validation error: the field it concerns, the rule it breaks, and a sentence for people.</summary>
public sealed record ValidationError(string Field, string Rule, string Message);

/// <summary>A strategy class and its parameter schema, derived from its <see cref="ParameterAttribute"/> properties.</summary>
public sealed class StrategyDescriptor
{
    private readonly Func<Strategy>? _factory;
    private readonly Dictionary<string, PropertyInfo> _properties;

    private StrategyDescriptor(string name, string description, int maxInstruments, Func<Strategy>? factory,
        IReadOnlyList<ParameterSchema> parameters, Dictionary<string, PropertyInfo> properties, string? sourceHash)
    {
        SourceHash = sourceHash;
        Name = name;
        Description = description;
        MaxInstruments = maxInstruments;
        _factory = factory;
        Parameters = parameters;
        _properties = properties;
    }

    public string Name { get; }
    public string Description { get; }
    /// <summary>How many instruments the strategy trades at most (rotation strategies take many).</summary>
    public int MaxInstruments { get; }
    public IReadOnlyList<ParameterSchema> Parameters { get; }
    /// <summary>
    /// For a custom strategy, the hash of the exact source it was compiled from; null for the templates, whose
    /// code is part of the engine version. Part of a run's content hash, so a new version never reuses results.
    /// </summary>
    public string? SourceHash { get; }

    public static StrategyDescriptor For<T>(string description, int maxInstruments = 50) where T : Strategy, new() =>
        For(typeof(T).Name, description, () => new T(), maxInstruments);

    public static StrategyDescriptor For(string name, string description, Func<Strategy> factory, int maxInstruments = 50,
        string? sourceHash = null)
    {
        var prototype = factory();
        var parameters = new List<ParameterSchema>();
        var properties = new Dictionary<string, PropertyInfo>(StringComparer.Ordinal);
        foreach (var property in prototype.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var attribute = property.GetCustomAttribute<ParameterAttribute>();
            if (attribute is null)
            {
                continue;
            }

            var parameterName = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            var type = TypeName(property.PropertyType)
                ?? throw new InvalidOperationException($"{name}.{property.Name}: parameters must be int, double, bool or string");
            parameters.Add(new ParameterSchema(
                parameterName,
                type,
                attribute.Required,
                property.GetValue(prototype),
                double.IsNaN(attribute.Min) ? null : attribute.Min,
                double.IsNaN(attribute.Max) ? null : attribute.Max,
                attribute.Description,
                attribute.Allowed));
            properties[parameterName] = property;
        }

        return new StrategyDescriptor(name, description, maxInstruments, factory, parameters, properties, sourceHash);
    }

    /// <summary>
    /// A descriptor from a stored schema alone (a custom strategy's, as its compiler derived it), for hosts that must
    /// not run the strategy's code: it validates types, ranges, required and allowed values exactly as the class's
    /// own descriptor does, but not the strategy's cross-parameter rules (<see cref="Strategy.ValidateParameters"/>),
    /// which the worker checks when it loads the code; it cannot create the strategy.
    /// </summary>
    public static StrategyDescriptor FromSchema(string name, string description, int maxInstruments,
        IReadOnlyList<ParameterSchema> parameters, string? sourceHash) =>
        new(name, description, maxInstruments, null, parameters, new Dictionary<string, PropertyInfo>(StringComparer.Ordinal), sourceHash);

    /// <summary>False for a descriptor made <see cref="FromSchema"/>: it validates but cannot create the strategy.</summary>
    public bool CanCreate => _factory is not null;

    /// <summary>The schema type of a parameter's CLR type (integer, number, boolean, string), or null if it cannot be one.</summary>
    public static string? TypeName(Type type) =>
        type == typeof(int) || type == typeof(long) ? "integer"
        : type == typeof(double) || type == typeof(decimal) ? "number"
        : type == typeof(bool) ? "boolean"
        : type == typeof(string) ? "string"
        : null;

    /// <summary>Checks parameters against the schema and the strategy's own rules; every error, not just the first.</summary>
    public IReadOnlyList<ValidationError> Validate(IReadOnlyDictionary<string, JsonElement> config)
    {
        var errors = SchemaErrors(config);
        return errors.Count == 0 ? RuleErrors(config) : errors;
    }

    /// <summary>
    /// The strategy's own cross-parameter rules (<see cref="Strategy.ValidateParameters"/>, e.g. fast below slow) for
    /// parameters that already keep the schema; empty for a descriptor that cannot create the strategy.
    /// </summary>
    public IReadOnlyList<ValidationError> RuleErrors(IReadOnlyDictionary<string, JsonElement> config) =>
        CanCreate ? Create(config).ValidateParameters().ToList() : [];

    /// <summary>Per-parameter checks against the schema: unknown names, required, type, range, allowed values.</summary>
    public IReadOnlyList<ValidationError> SchemaErrors(IReadOnlyDictionary<string, JsonElement> config)
    {
        var errors = new List<ValidationError>();
        foreach (var key in config.Keys)
        {
            if (!Parameters.Any(p => p.Name == key))
            {
                errors.Add(new ValidationError($"strategyConfig.{key}", "unknown",
                    $"'{key}' is not a parameter of {Name} (parameters: {string.Join(", ", Parameters.Select(p => p.Name))})"));
            }
        }

        foreach (var parameter in Parameters)
        {
            var field = $"strategyConfig.{parameter.Name}";
            if (!config.TryGetValue(parameter.Name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (parameter.Required)
                {
                    errors.Add(new ValidationError(field, "required", $"{parameter.Name} is required"));
                }

                continue;
            }

            var error = CheckValue(parameter, value, field);
            if (error is not null)
            {
                errors.Add(error);
            }
        }

        return errors;
    }

    private static ValidationError? CheckValue(ParameterSchema parameter, JsonElement value, string field)
    {
        switch (parameter.Type)
        {
            case "integer":
            case "number":
                if (value.ValueKind != JsonValueKind.Number)
                {
                    return new ValidationError(field, "type", $"{parameter.Name} must be of type {parameter.Type}");
                }

                var number = value.GetDouble();
                if (parameter.Type == "integer" && (Math.Floor(number) != number || Math.Abs(number) > int.MaxValue))
                {
                    return new ValidationError(field, "type", $"{parameter.Name} must be of type integer");
                }

                if ((parameter.Min is { } min && number < min) || (parameter.Max is { } max && number > max))
                {
                    return new ValidationError(field, "range",
                        $"{parameter.Name} must be between {Format(parameter.Min)} and {Format(parameter.Max)}");
                }

                return null;
            case "boolean":
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? null
                    : new ValidationError(field, "type", $"{parameter.Name} must be of type boolean");
            default:
                if (value.ValueKind != JsonValueKind.String)
                {
                    return new ValidationError(field, "type", $"{parameter.Name} must be of type string");
                }

                if (parameter.Allowed is { Count: > 0 } allowed && !allowed.Contains(value.GetString()))
                {
                    return new ValidationError(field, "allowed",
                        $"{parameter.Name} must be one of {string.Join(", ", allowed)}");
                }

                return null;
        }
    }

    private static string Format(double? bound) => bound?.ToString(CultureInfo.InvariantCulture) ?? "unbounded";

    /// <summary>Creates the strategy with its parameters set (defaults for the ones not given).</summary>
    public Strategy Create(IReadOnlyDictionary<string, JsonElement> config)
    {
        var strategy = _factory?.Invoke()
            ?? throw new InvalidOperationException($"{Name} is described by its schema only; load its compiled code to create it");
        foreach (var (key, value) in config)
        {
            if (!_properties.TryGetValue(key, out var property) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            object converted = property.PropertyType switch
            {
                var t when t == typeof(int) => value.GetInt32(),
                var t when t == typeof(long) => value.GetInt64(),
                var t when t == typeof(double) => value.GetDouble(),
                var t when t == typeof(decimal) => value.GetDecimal(),
                var t when t == typeof(bool) => value.GetBoolean(),
                _ => value.GetString()!,
            };
            property.SetValue(strategy, converted);
        }

        return strategy;
    }
}
