using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Worker;

namespace Backtesting.Tests.Worker;

/// <summary>
/// The streaming results writer gives the bytes the whole-document serializer gave, for every template and for the
/// awkward runs, although the orders and fills it writes are views of the engine's records rather than lists of records.
/// </summary>
public sealed class ResultsWriterTests : IDisposable
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// The reference: what the worker wrote before, the whole document as one byte array, with the orders and fills
    /// first copied into plain lists as the packager used to hold them.
    /// </summary>
    private static byte[] ReferenceBytes(BacktestResult result) =>
        JsonSerializer.SerializeToUtf8Bytes(result with { Orders = result.Orders.ToList(), Fills = result.Fills.ToList() },
            JsonDefaults.Options);

    private byte[] WrittenBytes(BacktestResult result)
    {
        var path = _temp.File(WorkerFiles.Results);
        ResultsWriter.Write(path, result);
        return File.ReadAllBytes(path);
    }

    private static BacktestResult Run(string json, StrategyCatalog? catalog = null)
    {
        catalog ??= StrategyCatalog.Templates;
        var (config, parseErrors) = ConfigValidator.Parse(json);
        Assert.Empty(parseErrors);
        var validation = ConfigValidator.Validate(config!, Data, catalog, ValidationPolicy.Service, new DateOnly(2026, 11, 24));
        Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => $"{e.Field}: {e.Message}")));
        return new BacktestRun(validation.Spec!, Data, catalog).Execute();
    }

    private static string Config(string strategy, string parameters, string instruments, string start = "2015-01-01",
        string end = "2019-12-31", string extra = "") => $$"""
        {"strategyClass":"{{strategy}}","strategyConfig":{{parameters}},"startDate":"{{start}}","endDate":"{{end}}",
         "instruments":[{{instruments}}],"initialBalance":100000{{extra}}}
        """;

    private void AssertSameBytes(BacktestResult result)
    {
        var expected = ReferenceBytes(result);
        var written = WrittenBytes(result);
        Assert.Equal(expected.Length, written.Length);
        Assert.True(expected.AsSpan().SequenceEqual(written), "results.json differs from the whole-document serializer's bytes");
    }

    public static TheoryData<string> Templates()
    {
        var names = new TheoryData<string>();
        foreach (var descriptor in StrategyCatalog.Templates.All)
        {
            names.Add(descriptor.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_template_s_results_are_the_same_bytes(string strategy)
    {
        // Each parameter at the default the template declares; three liquid ETFs so the rotation has something to
        // rotate, and the single-instrument templates trade each of them.
        Assert.True(StrategyCatalog.Templates.TryGet(strategy, out var descriptor));
        var parameters = JsonSerializer.Serialize(descriptor.Parameters.Where(p => p.Default is not null).ToDictionary(p => p.Name, p => p.Default));
        var result = Run(Config(strategy, parameters, "\"SPY\",\"QQQ\",\"IWM\""));

        Assert.True(result.Orders.Count > 0, $"{strategy} placed no order, so the test would prove little");
        AssertSameBytes(result);
    }

    [Fact]
    public void A_run_many_blocks_long_is_the_same_bytes()
    {
        // A 2/3 moving-average cross on five years of daily bars for three instruments: thousands of orders and fills,
        // so the serializer flushes many blocks and the order and fill views are read across block boundaries.
        var result = Run(Config("MovingAverageCross", """{"fastPeriod":2,"slowPeriod":3}""", "\"SPY\",\"QQQ\",\"IWM\""));

        var bytes = WrittenBytes(result);
        Assert.True(bytes.Length > 8 * ResultsWriter.BlockBytes, $"only {bytes.Length} bytes: fewer blocks than the test means");
        Assert.True(result.Orders.Count > 500, $"only {result.Orders.Count} orders");
        AssertSameBytes(result);
    }

    [Fact]
    public void A_trade_line_is_the_serializer_s_line()
    {
        var result = Run(Config("MovingAverageCross", """{"fastPeriod":2,"slowPeriod":3}""", "\"SPY\",\"QQQ\"", "2019-01-01", "2019-12-31"));
        var stamp = new DateTime(2026, 12, 6, 20, 30, 1, 123, DateTimeKind.Utc).AddTicks(4567);
        Assert.True(result.Trades.Count > 10, $"only {result.Trades.Count} trades");

        foreach (var trades in new IReadOnlyList<Trade>[] { result.Trades, result.Trades.Take(1).ToList(), [] })
        {
            var expected = JsonSerializer.Serialize(new BacktestMessage<TradeBatchData>(MessageTypes.Trade, "bt-\u00e9\"1", stamp,
                new TradeBatchData(trades)), JsonDefaults.Options);
            Assert.Equal(expected, ResultsWriter.TradeLine("bt-\u00e9\"1", stamp, trades));
        }
    }

    /// <summary>
    /// Every kind of number a result can hold is written as the serializer writes it, the whole ones (written as integers)
    /// and the rest: the edges of the integer form (10^15 and its neighbours, 2^53, negative zero), halves, the smallest
    /// and largest doubles, NaN and the infinities, and 20,000 seeded whole and fractional values of every magnitude.
    /// </summary>
    [Fact]
    public void Every_kind_of_number_is_the_serializer_s_number()
    {
        var values = new List<double>
        {
            0, -0.0, 1, -1, 0.5, -0.5, 100, 1e14, 1e14 + 0.5, 999_999_999_999_999, -999_999_999_999_999, 1e15, -1e15, 1e15 + 2,
            1e16, 9_007_199_254_740_992, -9_007_199_254_740_992, 9_007_199_254_740_993, double.MaxValue, double.MinValue,
            double.Epsilon, -double.Epsilon, 1e-300, long.MaxValue, long.MinValue, double.NaN, double.PositiveInfinity,
            double.NegativeInfinity, Math.BitDecrement(1e15), Math.BitIncrement(-1e15), 0.1 + 0.2, 123_456.000_000_001,
        };
        for (var power = 0; power <= 17; power++)
        {
            var p = Math.Pow(10, power);
            values.AddRange([p - 1, p, p + 1, -p, Math.BitDecrement(p), Math.BitIncrement(p)]);
        }

        var random = new Random(20261207);
        for (var i = 0; i < 10_000; i++)
        {
            var magnitude = Math.Pow(10, random.Next(-3, 18));
            values.Add(Math.Round((random.NextDouble() - 0.5) * magnitude));
            values.Add((random.NextDouble() - 0.5) * magnitude);
        }

        var time = new DateTime(2020, 1, 2, 15, 30, 0, DateTimeKind.Utc);
        var trades = values.Chunk(5).Select((v, i) => new Trade
        {
            Id = i + 1,
            Instrument = "SPY.ARCA",
            Side = TradeSide.Long,
            Quantity = v[0],
            EntryTime = time,
            EntryPrice = v.ElementAtOrDefault(1),
            ExitTime = time,
            ExitPrice = v.ElementAtOrDefault(2),
            Pnl = v.ElementAtOrDefault(3),
            ReturnPct = v.ElementAtOrDefault(4),
            Commission = -v[0],
            Mae = v[0] / 3,
            Mfe = v[0] * 7,
            BarsHeld = i,
        }).ToList();

        var expected = JsonSerializer.Serialize(new BacktestMessage<TradeBatchData>(MessageTypes.Trade, "numbers", time,
            new TradeBatchData(trades)), JsonDefaults.Options);
        var written = ResultsWriter.TradeLine("numbers", time, trades);

        // Compared trade by trade first, so a failure names the number rather than a 2 MB line.
        var expectedTrades = JsonDocument.Parse(expected).RootElement.GetProperty("data").GetProperty("trades");
        var writtenTrades = JsonDocument.Parse(written).RootElement.GetProperty("data").GetProperty("trades");
        Assert.Equal(expectedTrades.GetArrayLength(), writtenTrades.GetArrayLength());
        for (var i = 0; i < trades.Count; i++)
        {
            Assert.Equal(expectedTrades[i].GetRawText(), writtenTrades[i].GetRawText());
        }

        Assert.Equal(expected, written);
    }

    [Fact]
    public void A_run_without_trades_is_the_same_bytes()
    {
        // The slow average never fills in ten days: no order, no fill, no trade, empty lists written as [].
        var result = Run(Config("MovingAverageCross", """{"fastPeriod":50,"slowPeriod":200}""", "\"SPY\"", "2019-12-01", "2019-12-10"));

        Assert.Empty(result.Orders);
        Assert.Empty(result.Fills);
        Assert.Empty(result.Trades);
        AssertSameBytes(result);
    }

    [Fact]
    public void A_run_that_ends_with_open_positions_is_the_same_bytes()
    {
        var result = Run(Config("BuyAndHold", "{}", "\"SPY\",\"IWM\"", "2018-01-01", "2018-03-31"));

        Assert.NotEmpty(result.OpenPositions);
        Assert.Empty(result.Trades);
        AssertSameBytes(result);
    }

    [Fact]
    public void Forex_runs_quoted_in_other_currencies_are_the_same_bytes()
    {
        // EURGBP is quoted in pounds and converted to dollars at each fill, so rates and their source are written.
        var result = Run(Config("MovingAverageCross", """{"fastPeriod":5,"slowPeriod":20}""", "\"EURUSD\",\"EURGBP\"",
            "2014-01-01", "2016-11-30", ""","accountType":"margin" """));

        Assert.True(result.Fills.Count > 0);
        AssertSameBytes(result);
    }

    /// <summary>Orders tagged with text outside ASCII, which the serializer escapes.</summary>
    private sealed class UnicodeTagger : Strategy
    {
        private int _bars;

        public override void OnBar(in MarketData bar)
        {
            if (IsWarmingUp)
            {
                return;
            }

            _bars++;
            if (_bars % 7 == 0)
            {
                Buy(bar.Instrument, 1, "entrée «größer» 買い ✓ \"quoted\" \\ 🚀");
            }
            else if (_bars % 7 == 3 && Position(bar.Instrument).Quantity > 0)
            {
                Sell(bar.Instrument, Position(bar.Instrument).Quantity, "sortie \u2028 \t ÿ");
            }
        }
    }

    [Fact]
    public void Unicode_and_escaped_tags_are_the_same_bytes()
    {
        var catalog = StrategyCatalog.Templates.With([StrategyDescriptor.For("UnicodeTagger", "test strategy", () => new UnicodeTagger())]);

        var result = Run(Config("UnicodeTagger", "{}", "\"SPY\"", "2017-01-01", "2017-12-31"), catalog);

        Assert.Contains(result.Orders, o => o.Tag.Contains('✓', StringComparison.Ordinal));
        Assert.Contains(result.Trades, t => t.Pnl != 0);
        AssertSameBytes(result);
    }

    [Fact]
    public void Edge_metrics_without_a_ratio_to_compute_are_the_same_bytes()
    {
        // One buy and hold over a flat week: no closed trade, so win rate, profit factor and the like stay unset.
        var result = Run(Config("BuyAndHold", "{}", "\"SPY\"", "2019-12-23", "2019-12-27"));

        Assert.Null(result.Metrics.ProfitFactor);
        AssertSameBytes(result);
    }

    [Fact]
    public void Writing_replaces_an_older_file_whole_and_leaves_no_temporary_behind()
    {
        var path = _temp.File(WorkerFiles.Results);
        File.WriteAllText(path, new string('x', 3 * ResultsWriter.BlockBytes));
        var result = Run(Config("BuyAndHold", "{}", "\"SPY\"", "2019-12-23", "2019-12-27"));

        ResultsWriter.Write(path, result);

        Assert.Equal(ReferenceBytes(result), File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_temp.Path));
        var roundTrip = JsonSerializer.Deserialize<BacktestResult>(File.ReadAllBytes(path), JsonDefaults.Options)!;
        Assert.Equal(result.Orders, roundTrip.Orders);
        Assert.Equal(result.Fills, roundTrip.Fills);
    }
}
