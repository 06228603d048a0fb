using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Robustness;

/// <summary>
/// A walk-forward job as a client sends it: an optimization job (<see cref="OptimizationConfig"/>, every field at the top
/// level, its base config spanning the whole analysis) plus a <c>validation</c> object, the windows' settings.
/// </summary>
public sealed record WalkForwardJob(OptimizationConfig Optimization, WalkForwardSettings Validation);

/// <summary>A validated walk-forward job: the whole span's optimization plan and its windows.</summary>
public sealed record WalkForwardJobPlan(OptimizationPlan Plan, WalkForwardSettings Settings, IReadOnlyList<WalkForwardWindow> Windows)
{
    /// <summary>Window <paramref name="window"/>'s in-sample optimization: the job over the window's in-sample dates.</summary>
    public OptimizationConfig InSampleJob(WalkForwardWindow window) => WalkForwardJobRules.InSampleJob(Plan.Config, window);

    /// <summary>The out-of-sample backtest of <paramref name="parameters"/> (a trial's) over the window's out-of-sample dates.</summary>
    public BacktestConfig OutOfSampleConfig(WalkForwardWindow window, IReadOnlyDictionary<string, JsonElement> parameters) =>
        WalkForwardJobRules.OutOfSampleConfig(Plan, window, parameters);
}

/// <summary>
/// The rules of a walk-forward job: reading it (the optimization's strict JSON plus <c>validation</c>), validating it
/// (every rule of an optimization over the whole span, so the span obeys the backtest's maximum duration; the windows'
/// rules of <see cref="WalkForwardPlanner"/>; and every window's in-sample job as an optimization of its own), and the
/// configs each window runs.
/// </summary>
public static class WalkForwardJobRules
{
    /// <summary>The body's object holding the windows' settings; the planner's errors are named under it.</summary>
    public const string ValidationField = "validation";

    /// <summary>Reads a job under the project's strict JSON rules; every error at once, each naming its field.</summary>
    public static (WalkForwardJob? Job, IReadOnlyList<ValidationError> Errors) Parse(string json)
    {
        if (StrictJson.Check(json) is { } broken)
        {
            return (null, [broken]);
        }

        JsonObject? body;
        try
        {
            body = JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException e)
        {
            return (null, [new ValidationError("$", "json", StrictJson.Describe(e))]);
        }

        if (body is null)
        {
            return (null, [new ValidationError("$", "json", "the job must be a JSON object")]);
        }

        var errors = new List<ValidationError>();
        WalkForwardSettings? settings = null;
        if (!body.Remove(ValidationField, out var node) || node is null)
        {
            errors.Add(new ValidationError(ValidationField, "required",
                "validation is required: {inSample, outOfSample, step?, anchored?}, lengths like 1y, 6m, 2w or 30d"));
        }
        else if (node is not JsonObject)
        {
            errors.Add(new ValidationError(ValidationField, "json", "validation must be a JSON object"));
        }
        else
        {
            try
            {
                settings = node.Deserialize<WalkForwardSettings>(JsonDefaults.Options);
            }
            catch (JsonException e)
            {
                errors.Add(new ValidationError(StrictJson.Field(e.Path) is "$" or "" ? ValidationField
                    : ValidationField + "." + StrictJson.Field(e.Path).TrimStart('$', '.'), "json", StrictJson.Describe(e)));
            }
        }

        var (optimization, optimizationErrors) = OptimizationValidator.Parse(body.ToJsonString());
        errors.AddRange(optimizationErrors);
        return errors.Count > 0 || optimization is null || settings is null ? (null, errors) : (new WalkForwardJob(optimization, settings), []);
    }

    /// <summary>Every rule the job breaks, or its plan. The whole span is validated as one optimization under <paramref name="policy"/>.</summary>
    public static (IReadOnlyList<ValidationError> Errors, WalkForwardJobPlan? Plan) Validate(WalkForwardJob job, IMarketDataProvider data,
        StrategyCatalog strategies, ValidationPolicy policy, DateOnly today, OptimizationLimits? limits = null,
        int maxWindows = WalkForwardPlanner.DefaultMaxWindows)
    {
        ArgumentNullException.ThrowIfNull(job);
        var errors = new List<ValidationError>();
        if (job.Validation is null)
        {
            return ([new ValidationError(ValidationField, "required", "validation must not be null")], null);
        }

        var (optimizationErrors, plan) = OptimizationValidator.Validate(job.Optimization, data, strategies, policy, today, limits);
        errors.AddRange(optimizationErrors);
        if (plan is null)
        {
            // Without valid dates the windows cannot be cut; their own rules are still reported.
            var (_, settingErrors) = WalkForwardPlanner.Plan(DateOnly.MinValue, DateOnly.MinValue, job.Validation, ValidationField, maxWindows);
            errors.AddRange(settingErrors.Where(e => e.Field != ValidationField));
            return (errors, null);
        }

        var (windows, windowErrors) = WalkForwardPlanner.Plan(plan.BaseSpec.Start, plan.BaseSpec.End, job.Validation, ValidationField, maxWindows);
        errors.AddRange(windowErrors);
        if (errors.Count > 0)
        {
            return (errors, null);
        }

        // Each window's in-sample job must stand as an optimization of its own (its dates hold data, ...).
        foreach (var window in windows)
        {
            var (windowJobErrors, _) = OptimizationValidator.Validate(InSampleJob(plan.Config, window), data, strategies, policy, today, limits);
            errors.AddRange(windowJobErrors.Select(e => e with
            {
                Field = $"{ValidationField}.windows[{window.Index.ToString(CultureInfo.InvariantCulture)}].{e.Field}",
                Message = $"window {window.Index} ({Date(window.InSampleStart)}..{Date(window.InSampleEnd)}): {e.Message}",
            }));
        }

        return errors.Count > 0 ? (errors, null) : ([], new WalkForwardJobPlan(plan, job.Validation, windows));
    }

    /// <summary>The optimization job of a window's in-sample part: the whole job with the base config's dates narrowed.</summary>
    public static OptimizationConfig InSampleJob(OptimizationConfig job, WalkForwardWindow window) => job with
    {
        Name = Label(job.Name, $"window {window.Index} in sample"),
        BaseConfig = job.BaseConfig with { StartDate = Date(window.InSampleStart), EndDate = Date(window.InSampleEnd) },
    };

    /// <summary>
    /// The out-of-sample backtest of a window: exactly the config a trial of <paramref name="parameters"/> runs (the base
    /// config with them over its strategyConfig), over the window's out-of-sample dates.
    /// </summary>
    public static BacktestConfig OutOfSampleConfig(OptimizationPlan plan, WalkForwardWindow window, IReadOnlyDictionary<string, JsonElement> parameters)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(window);
        return plan.TrialConfig(parameters) with { StartDate = Date(window.OutOfSampleStart), EndDate = Date(window.OutOfSampleEnd) };
    }

    /// <summary>
    /// A window's result from its out-of-sample backtest: the run's initial balance, daily equity, trades, exposure,
    /// traded value (the instruments' sum) and commission, as <see cref="WalkForwardAnalysis"/> stitches them.
    /// </summary>
    public static WalkForwardWindowResult WindowResult(WalkForwardWindow window, IReadOnlyDictionary<string, JsonElement> parameters,
        double? inSampleAnnualizedReturn, BacktestResult outOfSample)
    {
        ArgumentNullException.ThrowIfNull(outOfSample);
        return new WalkForwardWindowResult(window, parameters, inSampleAnnualizedReturn, outOfSample.Summary.InitialBalance, outOfSample.DailyEquity,
            outOfSample.Trades, outOfSample.Metrics.Exposure, outOfSample.PerInstrument.Sum(i => i.TradedValue), outOfSample.Metrics.TotalCommission);
    }

    internal static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A child's name: the job's, then what the child is, within the label's length.</summary>
    internal static string Label(string name, string what)
    {
        var label = string.IsNullOrEmpty(name) ? what : $"{name} · {what}";
        return label.Length <= ConfigValidator.MaxLabelLength ? label : label[..ConfigValidator.MaxLabelLength];
    }
}
