using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Optimization;

/// <summary>
/// One batch of an optimization, as the worker's <c>optimize-batch</c> reads it: the job's config and the trials to run,
/// each with its number and parameter set (proposed by the job's method, which the batch does not run).
/// </summary>
public sealed record OptimizationBatch
{
    public string OptimizationId { get; init; } = "";
    public int Batch { get; init; }
    public OptimizationConfig Config { get; init; } = new();
    public List<BatchTrial> Trials { get; init; } = new();
}

public sealed record BatchTrial
{
    public int Trial { get; init; }
    public Dictionary<string, JsonElement> Parameters { get; init; } = new();
}

/// <summary>
/// The rules of a batch file, which is hostile input like any request: the job's config keeps every rule of a job, and
/// every trial names a distinct number below the job's planned count and gives every dimension of the space a value the
/// space holds (no other name).
/// </summary>
public static class OptimizationBatchValidator
{
    /// <summary>The largest batch file read, in bytes.</summary>
    public const long MaxFileBytes = 64 * ByteSize.MiB;

    public const int MaxIdLength = 100;

    public static (OptimizationBatch? Batch, IReadOnlyList<ValidationError> Errors) Parse(string json)
    {
        if (StrictJson.Check(json) is { } broken)
        {
            return (null, [broken]);
        }

        try
        {
            var batch = JsonSerializer.Deserialize<OptimizationBatch>(json, JsonDefaults.Options);
            return batch is null ? (null, [new ValidationError("$", "json", "the batch must be a JSON object")]) : (batch, []);
        }
        catch (JsonException e)
        {
            return (null, [new ValidationError(StrictJson.Field(e.Path), "json", StrictJson.Describe(e))]);
        }
    }

    public static (IReadOnlyList<ValidationError> Errors, OptimizationPlan? Plan) Validate(OptimizationBatch batch, IMarketDataProvider data,
        StrategyCatalog strategies, DateOnly today, OptimizationLimits? limits = null)
    {
        var errors = new List<ValidationError>();
        if (batch.OptimizationId is null || batch.Config is null || batch.Trials is null)
        {
            return ([new ValidationError(batch.Config is null ? "config" : batch.Trials is null ? "trials" : "optimizationId", "required",
                "optimizationId, config and trials must not be null")], null);
        }

        if (batch.OptimizationId.Length > MaxIdLength || batch.OptimizationId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            errors.Add(new ValidationError("optimizationId", "pattern", $"optimizationId must be at most {MaxIdLength} letters, digits, '-' or '_'"));
        }

        if (batch.Batch < 0)
        {
            errors.Add(new ValidationError("batch", "range", "batch must be at least 0"));
        }

        var (jobErrors, plan) = OptimizationValidator.Validate(batch.Config, data, strategies, ValidationPolicy.Local, today, limits);
        errors.AddRange(jobErrors.Select(e => e with { Field = "config." + e.Field }));
        if (batch.Trials.Count == 0)
        {
            errors.Add(new ValidationError("trials", "minCount", "a batch holds at least one trial"));
        }

        if (plan is null)
        {
            return (errors, null);
        }

        if (batch.Trials.Count > plan.PlannedTrials)
        {
            errors.Add(new ValidationError("trials", "maxCount", $"the job plans {plan.PlannedTrials} trials; the batch holds {batch.Trials.Count}"));
            return (errors, null);
        }

        var numbers = new HashSet<int>();
        for (var i = 0; i < batch.Trials.Count; i++)
        {
            var trial = batch.Trials[i];
            if (trial?.Parameters is null)
            {
                errors.Add(new ValidationError($"trials[{i}]", "required", "a trial must be an object {trial, parameters}, its parameters an object"));
                continue;
            }

            if (trial.Trial < 0 || trial.Trial >= plan.PlannedTrials)
            {
                errors.Add(new ValidationError($"trials[{i}].trial", "range", $"trial must be between 0 and {plan.PlannedTrials - 1}"));
            }
            else if (!numbers.Add(trial.Trial))
            {
                errors.Add(new ValidationError($"trials[{i}].trial", "duplicate", $"trial {trial.Trial} is listed twice"));
            }

            foreach (var name in trial.Parameters.Keys.Where(n => plan.Space.Dimensions.All(d => d.Name != n)))
            {
                errors.Add(new ValidationError($"trials[{i}].parameters.{name}", "unknown", $"'{name}' is not a parameter of the job's space"));
            }

            foreach (var dimension in plan.Space.Dimensions)
            {
                var field = $"trials[{i}].parameters.{dimension.Name}";
                if (!trial.Parameters.TryGetValue(dimension.Name, out var value))
                {
                    errors.Add(new ValidationError(field, "required", $"{dimension.Name} is required"));
                }
                else if (!Holds(dimension, value))
                {
                    errors.Add(new ValidationError(field, "space", $"{value.GetRawText()} is not a value of the job's space for {dimension.Name}"));
                }
            }
        }

        return (errors, errors.Count == 0 ? plan : null);
    }

    /// <summary>Whether the space's dimension holds the value (its type, its bounds, its list).</summary>
    public static bool Holds(Dimension dimension, JsonElement value)
    {
        switch (dimension)
        {
            case FixedDimension fixedValue:
                return Same(fixedValue.Value, value);
            case CategoricalDimension list:
                return list.Values.Any(v => Same(v, value));
            case RangeDimension range:
                if (value.ValueKind != JsonValueKind.Number)
                {
                    return false;
                }

                var number = value.GetDouble();
                if (!double.IsFinite(number) || number < range.Min || number > range.Max)
                {
                    return false;
                }

                if (range.Integer && (Math.Floor(number) != number))
                {
                    return false;
                }

                if (range.Step is { } step && range.Count is { } count)
                {
                    // On the grid: the index rounds to a whole number whose value is this one (within a rounding error).
                    var index = Math.Round((number - range.Min) / step);
                    return index >= 0 && index < count && Math.Abs(range.Min + index * step - number) <= 1e-9 * Math.Max(1, Math.Abs(number));
                }

                return true;
            default:
                return false;
        }
    }

    private static bool Same(JsonElement a, JsonElement b) =>
        a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number
            ? a.GetDouble() == b.GetDouble()
            : a.ValueKind == b.ValueKind && a.GetRawText() == b.GetRawText();
}
