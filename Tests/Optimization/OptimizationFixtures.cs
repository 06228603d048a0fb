using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Optimization;

/// <summary>Jobs over the bundled data, and ways to change one field of them.</summary>
internal static class OptimizationFixtures
{
    public static readonly LeanDataProvider Lean = new(TestPaths.LeanData);
    public static readonly DateOnly Today = new(2026, 11, 24);

    public const string BaseConfig = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"maType":"SMA"},
         "startDate":"2016-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,
         "dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
         "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}}
        """;

    /// <summary>A 10 x 8 grid of MovingAverageCross on SPY daily, maximizing Sharpe.</summary>
    public static readonly string GridJob = $$$"""
        {"name":"ma grid","baseConfig":{{{BaseConfig}}},
         "parameters":{"fastPeriod":{"min":5,"max":50,"step":5},"slowPeriod":{"min":60,"max":200,"step":20}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"},"seed":7}
        """;

    /// <summary>The job with top-level fields replaced (each value is JSON).</summary>
    public static OptimizationConfig Job(string job, params (string Key, string Json)[] changes)
    {
        var node = JsonNode.Parse(job)!.AsObject();
        foreach (var (key, json) in changes)
        {
            node[key] = JsonNode.Parse(json);
        }

        var (config, errors) = OptimizationValidator.Parse(node.ToJsonString());
        Assert.True(config is not null, string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
        return config!;
    }

    /// <summary>The job with some fields of its base config replaced (each value is JSON).</summary>
    public static OptimizationConfig WithBase(OptimizationConfig job, params (string Key, string Json)[] changes)
    {
        var node = JsonNode.Parse(JsonSerializer.Serialize(job.BaseConfig, JsonDefaults.Options))!.AsObject();
        foreach (var (key, json) in changes)
        {
            node[key] = JsonNode.Parse(json);
        }

        return job with { BaseConfig = ConfigValidator.Parse(node.ToJsonString()).Config! };
    }

    public static IReadOnlyList<ValidationError> Errors(OptimizationConfig job, OptimizationLimits? limits = null) =>
        OptimizationValidator.Validate(job, Lean, StrategyCatalog.Templates, ValidationPolicy.Service, Today, limits).Errors;

    public static OptimizationPlan Plan(OptimizationConfig job, IMarketDataProvider? data = null)
    {
        var (errors, plan) = OptimizationValidator.Validate(job, data ?? Lean, StrategyCatalog.Templates, ValidationPolicy.Service, Today);
        Assert.True(plan is not null, string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message} [{e.Rule}]")));
        return plan!;
    }

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
