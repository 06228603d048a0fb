using System.Reflection;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Worker;

namespace Backtesting.Tests.Worker;

/// <summary>
/// Every protocol line the worker prints is, byte for byte, what <c>JsonSerializer.Serialize(message, JsonDefaults.Options)</c>
/// gives for the same message: every message type of <see cref="MessageTypes"/> and <see cref="OptimizationMessageTypes"/>,
/// with NaN and the infinities, non-ASCII and escaped text, nulls and empty lists. The silo's readers parse that shape.
/// </summary>
public sealed class ProtocolLinesTests
{
    private static readonly string[] Ids = ["bt-1", "bt-\u00e9\"1</script>&\u2028\U0001F600", ""];

    private static readonly DateTime[] Stamps =
    [
        new DateTime(2026, 12, 7, 9, 30, 1, 123, DateTimeKind.Utc).AddTicks(4567),
        new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc),
        new DateTime(2026, 12, 7, 9, 30, 0, DateTimeKind.Unspecified),
    ];

    /// <summary>Doubles a serializer writes in more than one way: named literals, signed zero, extremes, long fractions.</summary>
    private static readonly double[] Awkward =
        [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.1 + 0.2, 1e-300, double.MaxValue, double.Epsilon, -123456.789];

    private static readonly string?[] Texts = ["", "plain", "caf\u00e9 \"quoted\" \\ back\nline\ttab <b>&amp;</b> \u0001 \U0001F4C8", null];

    // ---- backtest lines ----

    private static IEnumerable<BacktestProgressData> Progresses()
    {
        yield return BacktestProgressData.None;
        yield return new BacktestProgressData(new ProgressInfo(42.5, "2020-03-04T15:59:00Z", 12_345, 98_670, 1.25, 250_000),
            new StatisticsInfo(17, 1_000_123.45, -12.5, -0.0123), new PerformanceInfo(85.3, 97.5, 0.4));
        foreach (var x in Awkward)
        {
            yield return new BacktestProgressData(new ProgressInfo(x, "\u00e9t\u00e9", long.MaxValue, long.MinValue, x, x),
                new StatisticsInfo(int.MinValue, x, x, x), new PerformanceInfo(x, x, x));
        }

        foreach (var text in Texts)
        {
            yield return new BacktestProgressData(new ProgressInfo(0, text!, 0, 0, 0, 0), new StatisticsInfo(0, 0, 0, 0), new PerformanceInfo(0, 0, 0));
        }

        yield return new BacktestProgressData(null!, null!, null!);
    }

    private static IEnumerable<EquityBatchData> EquityBatches()
    {
        yield return new EquityBatchData([], [], []);
        yield return new EquityBatchData(["2020-01-02", "2020-01-03"], [100_000.12, 99_999.5], [0, -0.000005]);
        yield return new EquityBatchData(Awkward.Select(x => "\u00e9").ToArray(), Awkward, Enumerable.Reverse(Awkward).ToArray());
        yield return new EquityBatchData(Texts.ToArray()!, [1, 2, 3, 4], [0, 0, 0, 0]);
        yield return new EquityBatchData(null!, null!, null!);
    }

    private static IEnumerable<IReadOnlyList<Trade>> TradeBatches()
    {
        yield return [];
        yield return [Trade(1, "SPY", 100.5)];
        yield return Awkward.Select((x, i) => Trade(i, Texts[i % 3]!, x)).ToList();
    }

    private static Trade Trade(int id, string instrument, double x) => new()
    {
        Id = id,
        Instrument = instrument,
        Side = id % 2 == 0 ? TradeSide.Long : TradeSide.Short,
        Quantity = x,
        EntryTime = Stamps[0],
        EntryPrice = x,
        ExitTime = Stamps[1],
        ExitPrice = 101.25,
        Pnl = x,
        ReturnPct = -x,
        Commission = 0,
        Mae = x,
        Mfe = 3.5,
        BarsHeld = id,
    };

    private static IEnumerable<BacktestTimingsData> TimingsCases()
    {
        yield return new BacktestTimingsData(120.5, 40, 300.25, 12, 480);
        yield return new BacktestTimingsData(223.2, 34.6, 81.8, 29.2, 371.5, 391, 57.5, 666, 88.012);
        foreach (var x in Awkward)
        {
            yield return new BacktestTimingsData(x, x, x, x, x, long.MaxValue, x, long.MinValue, x);
        }
    }

    private static IEnumerable<BacktestCompleteData> Completions()
    {
        yield return new BacktestCompleteData(CompletionStatus.Completed, 0.371, new CompletionSummary(1907, 999_914.31, -0.0000857, -0.001),
            WorkerFiles.Results);
        yield return new BacktestCompleteData(CompletionStatus.Cancelled, 12, new CompletionSummary(0, 100_000, 0, 0), WorkerFiles.Results, true);
        foreach (var x in Awkward)
        {
            yield return new BacktestCompleteData(CompletionStatus.Failed, x, new CompletionSummary(int.MaxValue, x, x, x), "r\u00e9sultats.json");
        }

        foreach (var text in Texts)
        {
            yield return new BacktestCompleteData(text!, 1, null!, text!);
        }
    }

    private static IEnumerable<BacktestErrorData> Errors()
    {
        yield return new BacktestErrorData(ErrorTypes.Validation, "the config has 2 error(s)", new BacktestErrorDetails(null, null, null, false,
        [
            new ValidationError("strategyConfig.fastPeriod", "min", "fastPeriod must be at least 1"),
            new ValidationError("instruments[2]", "unknown", "instrument 'X\u00e9\"' is not in the catalog"),
        ]));
        yield return new BacktestErrorData(ErrorTypes.Validation, "the config has 0 error(s)", new BacktestErrorDetails(null, null, null, false, []));
        yield return new BacktestErrorData(ErrorTypes.Validation, "a null error", new BacktestErrorDetails(null, null, null, false, [null!]));
        yield return new BacktestErrorData(ErrorTypes.Data, "cannot read 2020\u00e9.zip", new BacktestErrorDetails(
            "   at Backtesting.Engine.X()\n   at \"Y\"\t<Z>", "2020-03-04T15:59:00Z", "SPY", true));
        yield return new BacktestErrorData(ErrorTypes.Timeout, "no progress", null);
        foreach (var text in Texts)
        {
            yield return new BacktestErrorData(text!, text!, new BacktestErrorDetails(text, text, text, false,
                [new ValidationError(text!, text!, text!)]));
        }

        foreach (var type in Constants(typeof(ErrorTypes)))
        {
            yield return new BacktestErrorData(type, type, new BacktestErrorDetails(null, null, null, true));
        }
    }

    // ---- optimization batch lines ----

    private static IEnumerable<OptimizationTrialData> Trials()
    {
        var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
            """{"fastPeriod":10,"slowPeriod":30.5,"maType":"SMA","flag":true,"none":null,"list":[1,"a",{"b":2}],"caf\u00e9 \"k\"":"v\u00e9","big":1e400,"exp":1E-7}""")!;
        yield return new OptimizationTrialData(0, parameters, Metrics(i => i * 0.125 - 1), 12, true, null, new string('a', 64), 1.5);
        yield return new OptimizationTrialData(7, new Dictionary<string, JsonElement>(), null, 0, false,
            "the strategy refused: slowPeriod must exceed fastPeriod (\u00e9)", null, null);
        yield return new OptimizationTrialData(-1, parameters, Metrics(_ => null), int.MaxValue, false, "", "", double.NaN);
        foreach (var x in Awkward)
        {
            yield return new OptimizationTrialData(3, parameters, Metrics(_ => x), 3, true, null, "h", x);
        }

        yield return new OptimizationTrialData(1, null!, null, 0, true, null, null, null);
    }

    /// <summary>Metrics with every property set: its doubles from <paramref name="value"/> (by position), its integers to the position.</summary>
    private static PerformanceMetrics Metrics(Func<int, double?> value)
    {
        var metrics = new PerformanceMetrics();
        var properties = typeof(PerformanceMetrics).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        Assert.True(properties.Length > 30, "PerformanceMetrics lost its properties: the test would prove little");
        for (var i = 0; i < properties.Length; i++)
        {
            var p = properties[i];
            if (p.PropertyType == typeof(double?))
            {
                p.SetValue(metrics, value(i));
            }
            else if (p.PropertyType == typeof(double))
            {
                p.SetValue(metrics, value(i) ?? 0);
            }
            else if (p.PropertyType == typeof(int))
            {
                p.SetValue(metrics, i);
            }
            else
            {
                Assert.Fail($"PerformanceMetrics.{p.Name} is a {p.PropertyType}: give the test a value for it");
            }
        }

        return metrics;
    }

    private static IEnumerable<OptimizationBatchProgressData> BatchProgresses()
    {
        yield return new OptimizationBatchProgressData(0, 0, 0, 0, 0);
        yield return new OptimizationBatchProgressData(40, 64, 8, 12.3, 2.718);
        foreach (var x in Awkward)
        {
            yield return new OptimizationBatchProgressData(int.MaxValue, int.MinValue, -1, x, x);
        }
    }

    private static IEnumerable<OptimizationBatchCompleteData> BatchCompletions()
    {
        yield return new OptimizationBatchCompleteData(64, 0, 64, 5.25, 12.2, false);
        yield return new OptimizationBatchCompleteData(3, 8, 64, 0, 0, true);
        foreach (var x in Awkward)
        {
            yield return new OptimizationBatchCompleteData(1, 2, 3, x, x, false);
        }
    }

    /// <summary>Every message type, with the lines written by <see cref="ProtocolLines"/> and by the serializer for each case.</summary>
    private static IEnumerable<(string Type, string Written, string Serialized)> Lines()
    {
        foreach (var id in Ids)
        {
            foreach (var stamp in Stamps)
            {
                foreach (var d in Progresses())
                {
                    yield return (MessageTypes.Progress, ProtocolLines.Progress(id, stamp, d), Backtest(MessageTypes.Progress, id, stamp, d));
                }

                foreach (var d in TradeBatches())
                {
                    yield return (MessageTypes.Trade, ProtocolLines.Trade(id, stamp, d), Backtest(MessageTypes.Trade, id, stamp, new TradeBatchData(d)));
                }

                foreach (var d in EquityBatches())
                {
                    yield return (MessageTypes.Equity, ProtocolLines.Equity(id, stamp, d), Backtest(MessageTypes.Equity, id, stamp, d));
                }

                foreach (var d in TimingsCases())
                {
                    yield return (MessageTypes.Timings, ProtocolLines.Timings(id, stamp, d), Backtest(MessageTypes.Timings, id, stamp, d));
                }

                foreach (var d in Completions())
                {
                    yield return (MessageTypes.Complete, ProtocolLines.Complete(id, stamp, d), Backtest(MessageTypes.Complete, id, stamp, d));
                }

                foreach (var d in Errors())
                {
                    yield return (MessageTypes.Error, ProtocolLines.Error(id, stamp, d), Backtest(MessageTypes.Error, id, stamp, d));
                }

                foreach (var batch in new[] { 0, 17, int.MaxValue })
                {
                    foreach (var d in Trials())
                    {
                        yield return (OptimizationMessageTypes.Trial, ProtocolLines.Trial(id, batch, stamp, d),
                            Optimization(OptimizationMessageTypes.Trial, id, batch, stamp, d));
                    }

                    foreach (var d in BatchProgresses())
                    {
                        yield return (OptimizationMessageTypes.BatchProgress, ProtocolLines.BatchProgress(id, batch, stamp, d),
                            Optimization(OptimizationMessageTypes.BatchProgress, id, batch, stamp, d));
                    }

                    foreach (var d in BatchCompletions())
                    {
                        yield return (OptimizationMessageTypes.BatchComplete, ProtocolLines.BatchComplete(id, batch, stamp, d),
                            Optimization(OptimizationMessageTypes.BatchComplete, id, batch, stamp, d));
                    }

                    foreach (var d in Errors())
                    {
                        yield return (OptimizationMessageTypes.BatchError, ProtocolLines.BatchError(id, batch, stamp, d),
                            Optimization(OptimizationMessageTypes.BatchError, id, batch, stamp, d));
                    }
                }
            }
        }
    }

    private static string Backtest<T>(string type, string id, DateTime stamp, T data) =>
        JsonSerializer.Serialize(new BacktestMessage<T>(type, id, stamp, data), JsonDefaults.Options);

    private static string Optimization<T>(string type, string id, int batch, DateTime stamp, T data) =>
        JsonSerializer.Serialize(new OptimizationMessage<T>(type, id, batch, stamp, data), JsonDefaults.Options);

    private static IEnumerable<string> Constants(Type type) => type.GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Every_line_is_the_serializer_s_bytes()
    {
        var count = 0;
        foreach (var (type, written, serialized) in Lines())
        {
            Assert.True(serialized == written, $"{type}:\n  serializer {serialized}\n  written    {written}");
            count++;
        }

        Assert.True(count > 1000, $"only {count} lines compared");
    }

    [Fact]
    public void Every_message_type_the_protocol_names_is_written_here()
    {
        var covered = Lines().Select(l => l.Type).ToHashSet();

        Assert.Equal(Constants(typeof(MessageTypes)).Concat(Constants(typeof(OptimizationMessageTypes))).Order(), covered.Order());
    }

    [Fact]
    public void The_awkward_values_are_in_the_lines_as_the_project_s_number_handling_writes_them()
    {
        // Not only equal to the serializer: the named literals are there, so the cases above test what they mean to.
        var line = ProtocolLines.Equity("bt", Stamps[0], new EquityBatchData(["a", "b", "c"], [double.NaN, double.PositiveInfinity, double.NegativeInfinity], [0, 0, 0]));

        Assert.Contains("\"equity\":[\"NaN\",\"Infinity\",\"-Infinity\"]", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\u00e9", ProtocolLines.Error(Ids[1], Stamps[0], Errors().First()), StringComparison.Ordinal);
    }
}
