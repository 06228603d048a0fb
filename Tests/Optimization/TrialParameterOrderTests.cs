using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using static Backtesting.Tests.Optimization.OptimizationFixtures;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// A trial opened as a backtest (<c>POST /optimizations/{id}/trials/{trial}/backtest</c>) starts the config
/// <see cref="OptimizationPlan.TrialConfig"/> builds from the trial's stored parameters, which come back from PostgreSQL
/// (jsonb) in jsonb's key order, not the order the trial ran them in. The parameters' order is part of the config's JSON
/// and so of its content hash: whatever order they come in, the backtest's content hash is the trial's. For every
/// template with parameters and for a custom strategy whose schema is in neither alphabetical nor jsonb order, over a
/// space written in reverse schema order and one mixing fixed and ranged parameters (one more left in the base config).
/// </summary>
public class TrialParameterOrderTests
{
    /// <summary>Its schema's order (threshold, period, band, side) is neither jsonb's (band, side, period, threshold: by
    /// length, then bytes) nor alphabetical (band, period, side, threshold).</summary>
    private const string CustomSource = """
        using System.Collections.Generic;
        using Backtesting.Engine.Data;
        using Backtesting.Engine.Indicators;
        using Backtesting.Engine.Strategies;

        public sealed class OrderProbe : Strategy
        {
            private Sma[] _sma = [];

            [Parameter("Fraction above the average to enter", Min = 0, Max = 0.5)]
            public double Threshold { get; set; } = 0.0;

            [Parameter("SMA period", Min = 2, Max = 200, Required = true)]
            public int Period { get; set; } = 20;

            [Parameter("Exit below the average by this fraction", Min = 0, Max = 0.5)]
            public double Band { get; set; } = 0.0;

            [Parameter("Which side", Allowed = ["long", "flat"])]
            public string Side { get; set; } = "long";

            public override int WarmupBars => Period;

            public override void OnStart()
            {
                _sma = new Sma[Instruments.Count];
                for (var i = 0; i < _sma.Length; i++)
                {
                    _sma[i] = new Sma(Period);
                }
            }

            public override void OnBar(in MarketData bar)
            {
                var sma = _sma[bar.Instrument];
                sma.Update(bar.Close);
                if (!sma.IsReady || IsWarmingUp || Side == "flat")
                {
                    return;
                }

                var quantity = Position(bar.Instrument).Quantity;
                if (bar.Close > sma.Value * (1 + Threshold) && quantity <= 0)
                {
                    EnterLong(bar.Instrument);
                }
                else if (bar.Close < sma.Value * (1 - Band) && quantity > 0)
                {
                    ExitPosition(bar.Instrument);
                }
            }
        }
        """;

    /// <summary>
    /// The custom strategy as the two sides see it: loaded to run (the worker's trials), and described by its schema and
    /// source hash (what the backtest grain validates and hashes a submitted config with).
    /// </summary>
    private static readonly Lazy<(StrategyCatalog Run, StrategyCatalog Admission)> WithCustom = new(() =>
    {
        var compiled = StrategyCompiler.Compile(CustomSource);
        Assert.True(compiled.Ok, string.Join("\n", compiled.Diagnostics));
        return (compiled.Load().WithTemplates(), StrategyCatalog.Templates.With([compiled.Strategy!.ToDescriptor(compiled.SourceHash)]));
    });

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in StrategyCatalog.Templates.All.Where(s => s.Parameters.Count > 1).Select(s => s.Name).Append("OrderProbe"))
        {
            data.Add(name, "reversed");
            data.Add(name, "mixed");
        }

        return data;
    }

    [Fact]
    public void Every_template_with_two_parameters_or_more_is_a_case()
    {
        // Only one with no parameters at all is left out: its strategyConfig has no order to get wrong.
        Assert.Equal(["BuyAndHold"], StrategyCatalog.Templates.All.Where(s => s.Parameters.Count < 2).Select(s => s.Name));
        // The other five templates and the custom strategy, in two shapes each.
        Assert.Equal((StrategyCatalog.Templates.All.Count - 1 + 1) * 2, Cases().Count);
        Assert.Equal(["threshold", "period", "band", "side"], WithCustom.Value.Admission.All.Single(s => s.Name == "OrderProbe").Parameters.Select(p => p.Name));
        Assert.Equal(["band", "side", "period", "threshold"], JsonbOrder(["threshold", "period", "band", "side"]));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_trial_opened_as_a_backtest_has_the_trials_content_hash_whatever_order_its_parameters_come_back_in(string strategyName, string shape)
    {
        var (catalog, admission) = WithCustom.Value;
        var strategy = admission.All.Single(s => s.Name == strategyName);
        var (space, fixedInBase) = Space(strategy, shape);
        var baseConfig = JsonNode.Parse("""
            {"startDate":"2019-01-01","endDate":"2019-12-31","instruments":["SPY","QQQ"],"initialBalance":100000,"accountType":"margin",
             "dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
             "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}}
            """)!.AsObject();
        baseConfig["strategyClass"] = strategyName;
        baseConfig["strategyConfig"] = JsonNode.Parse(fixedInBase);
        var job = Job(GridJob, ("baseConfig", baseConfig.ToJsonString()), ("parameters", space));
        var (errors, plan) = OptimizationValidator.Validate(job, Lean, admission, ValidationPolicy.Service, Today);
        Assert.True(plan is not null, string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));

        var runner = new TrialRunner(plan, new PreloadedMarketData(Lean), catalog);
        var ran = 0;
        foreach (var point in plan.CreateMethod().Propose([], [], 4))
        {
            var trial = runner.Run(point);
            if (trial.ContentHash is null)
            {
                continue; // refused by the strategy's own rule: nothing to open
            }

            // The row the store keeps and the route reads back, and the same parameters in the other orders they may take.
            var stored = JsonbOrder(trial.Parameters.Keys);
            foreach (var order in new[] { stored, trial.Parameters.Keys.Reverse().ToList(), trial.Parameters.Keys.Order(StringComparer.Ordinal).ToList() })
            {
                var json = new JsonObject(order.Select(name => KeyValuePair.Create(name, JsonNode.Parse(trial.Parameters[name].GetRawText()))));
                var read = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json.ToJsonString(), JsonDefaults.Options)!;
                var config = plan.TrialConfig(read);
                var validation = ConfigValidator.Validate(config, Lean, admission, ValidationPolicy.Service, Today);
                Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => e.Message)));
                var hash = new BacktestRun(validation.Spec!, Lean, admission).ContentHash();
                Assert.True(trial.ContentHash == hash,
                    $"trial {trial.Trial} ran {Json(plan.TrialConfig(trial.Parameters).StrategyConfig)}; opened from [{string.Join(", ", order)}] it is {Json(config.StrategyConfig)}");
            }

            ran++;
        }

        Assert.True(ran > 0, "no trial ran");
    }

    /// <summary>
    /// The space: every searched parameter with two values, its keys in reverse schema order; or (mixed) the first
    /// parameter fixed in the base config, then ranged and fixed in turn, the fixed ones written first.
    /// </summary>
    private static (string Space, string FixedInBase) Space(StrategyDescriptor strategy, string shape)
    {
        var parameters = strategy.Parameters.ToList();
        var inBase = new JsonObject();
        var ranged = new List<(string Name, JsonNode Spec)>();
        var fixedOnes = new List<(string Name, JsonNode Spec)>();
        for (var i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (shape == "mixed" && i == 0 && parameters.Count > 2)
            {
                inBase[p.Name] = Default(p);
            }
            else if (shape == "mixed" && i % 2 == 0)
            {
                fixedOnes.Add((p.Name, Default(p)));
            }
            else
            {
                ranged.Add((p.Name, Ranged(p)));
            }
        }

        var keys = shape == "mixed" ? fixedOnes.Concat(ranged) : ranged.AsEnumerable().Reverse();
        var space = new JsonObject(keys.Select(k => KeyValuePair.Create(k.Name, (JsonNode?)k.Spec)));
        Assert.NotEqual(parameters.Where(p => space.ContainsKey(p.Name)).Select(p => p.Name), space.Select(k => k.Key));
        return (space.ToJsonString(), inBase.ToJsonString());
    }

    private static JsonNode Default(ParameterSchema p) => JsonSerializer.SerializeToNode(p.Default)!;

    /// <summary>Two values per parameter: a range for integers, a list for numbers, words and switches.</summary>
    private static JsonNode Ranged(ParameterSchema p)
    {
        switch (p.Type)
        {
            case "integer":
                var i = Convert.ToInt64(p.Default, System.Globalization.CultureInfo.InvariantCulture);
                var low = i + 1 <= (p.Max ?? double.MaxValue) ? i : i - 1;
                return new JsonObject { ["min"] = low, ["max"] = low + 1, ["step"] = 1 };
            case "number":
                var d = Convert.ToDouble(p.Default, System.Globalization.CultureInfo.InvariantCulture);
                return new JsonObject { ["values"] = new JsonArray(d, Math.Min(p.Max ?? double.MaxValue, d + 0.25)) };
            case "boolean":
                return new JsonObject { ["values"] = new JsonArray(false, true) };
            default:
                return new JsonObject { ["values"] = new JsonArray([.. (p.Allowed ?? [(string)p.Default!]).Select(a => (JsonNode?)JsonValue.Create(a))]) };
        }
    }

    /// <summary>PostgreSQL's jsonb keeps an object's keys shortest first, then by their bytes.</summary>
    private static List<string> JsonbOrder(IEnumerable<string> keys) =>
        [.. keys.OrderBy(k => Encoding.UTF8.GetByteCount(k)).ThenBy(k => k, StringComparer.Ordinal)];

    private static string Json(Dictionary<string, JsonElement> strategyConfig) => JsonSerializer.Serialize(strategyConfig, JsonDefaults.Options);
}
