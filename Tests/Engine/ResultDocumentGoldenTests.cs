using System.Security.Cryptography;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Orders;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Worker;

namespace Backtesting.Tests.Engine;

/// <summary>
/// The whole results.json of a varied set of runs on the bundled data, pinned by its SHA-256. The engine keeps its
/// per-order, per-fill and per-trade records in whatever shape is cheapest; this test says that no such change moved a
/// single byte of any result: every template, both account types, every fill model, every slippage and commission
/// model, every sizing mode, brackets, the drawdown halt, position limits, a base currency that needs exchange rates,
/// ticks, minute bars, and a strategy that sends every order type and time in force, cancels, gets rejected and fills
/// in parts. The hashes were taken from the engine before its records were made compact (2026-12-06); a run whose
/// document changes on purpose must say why in its commit and take the new hash.
/// </summary>
public class ResultDocumentGoldenTests
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);

    private static readonly StrategyCatalog Catalog =
        StrategyCatalog.Templates.With([StrategyDescriptor.For("OrderTour", "every order type", () => new OrderTour())]);

    private static string Config(string strategy, string parameters, string instruments = "\"SPY\"", string extra = "",
        string start = "2015-01-01", string end = "2019-12-31") => $$"""
        {"strategyClass":"{{strategy}}","strategyConfig":{{parameters}},"startDate":"{{start}}","endDate":"{{end}}",
         "instruments":[{{instruments}}],"initialBalance":100000{{extra}}}
        """;

    private const string Cross = """{"fastPeriod":10,"slowPeriod":30}""";
    private const string Five = "\"SPY\",\"QQQ\",\"IWM\",\"EEM\",\"AAPL\"";

    /// <summary>Name, config, and the SHA-256 of its results.json as the engine wrote it before its records were made compact.</summary>
    public static TheoryData<string, string, string> Scenarios => new()
    {
        { "sma cross", Config("MovingAverageCross", Cross), "4c69367b1800f486fb2e17bec03fdf0a5b3c3d7ec3a2004fbe99ea172c8865ac" },
        { "ema cross short on margin", Config("MovingAverageCross", """{"fastPeriod":20,"slowPeriod":50,"maType":"EMA","allowShort":true}""",
            extra: ""","accountType":"margin","riskSettings":{"maxLeverage":2}"""), "d5b6065dbb0581cc3e1015d036be1ad516f4a53d2e2c76a6358441322d29f096" },
        { "rsi", Config("RsiMeanReversion", """{"period":14,"oversold":30,"overbought":70}"""), "d7cd44e8e05cb60d210780b3f39edfe196c6017865f858fe8f1de051aa7cb199" },
        { "bollinger", Config("BollingerBands", """{"period":20,"stdDevs":2}"""), "93cfe5390e424d7fa52144d31a860f152452ffe5eed23b1dbf25cd6f1280f8e2" },
        { "donchian", Config("DonchianBreakout", """{"entryPeriod":20,"exitPeriod":10}""", "\"IBM\""), "6f22fa2f4eeb04dd259d845c86c0368345544ee690105b35d8928d08c068f33b" },
        { "buy and hold five", Config("BuyAndHold", "{}", Five), "180f96ef392f23c6c107e59847a60ec72355f6d26b004840694c5595ab1bbea9" },
        { "rotation", Config("MomentumRotation", """{"lookback":60,"topN":2,"rebalanceDays":21}""", Five), "3325436f4c2af5219dd11eb453a5b1363c0808973ba6706eb23f2a47b2c80ea6" },
        { "same bar close, percent fees, bps slippage", Config("MovingAverageCross", Cross,
            extra: ""","executionSettings":{"fillModel":"sameBarClose","commission":{"model":"percent","rate":0.001},"slippage":{"model":"fixedBps","bps":5}}"""), "902b6f5be9a84089f7db56e3962f8fc53d6525966893454160a3192634fabb82" },
        { "fixed fee, tick slippage", Config("DonchianBreakout", """{"entryPeriod":20,"exitPeriod":10}""",
            extra: ""","executionSettings":{"commission":{"model":"fixed","amount":1.5},"slippage":{"model":"fixedTicks","ticks":2}}"""), "669854bf92b04b9419672648350cd6ca8414ba8e3012a3db09757bfa63610def" },
        { "per share fee, volume slippage, partial fills", Config("MovingAverageCross", Cross, "\"AAPL\"",
            ""","executionSettings":{"maxVolumeParticipation":0.00002,"commission":{"model":"perShare","perShare":0.005,"minimum":1,"maximumPercent":0.01},"slippage":{"model":"volumeShare","impact":0.1}}"""), "fa2260088b68c44a815c01f8e3e9cdf9485b0226a6df723b065303b2175cdd80" },
        { "fixed notional, brackets", Config("MovingAverageCross", Cross,
            extra: ""","riskSettings":{"positionSizing":{"mode":"fixedNotional","notional":20000},"stops":{"stopLossPercent":0.02,"takeProfitPercent":0.04}}"""), "92477c16f81f4a98dcd937703b4bfad822d834fd7245c24de7cd94d859bc60f2" },
        { "volatility target, stop loss only", Config("BollingerBands", """{"period":20,"stdDevs":2}""", "\"SPY\",\"IBM\"",
            ""","riskSettings":{"positionSizing":{"mode":"volatilityTarget","riskPercent":0.01,"atrPeriod":14},"stops":{"stopLossPercent":0.03}}"""), "374b40a16db83fbb2985454ed11f6dab127cf8fb961a8e1998c40026cc19ebe8" },
        { "fixed quantity, limits", Config("BuyAndHold", "{}", Five,
            ""","riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100},"limits":{"maxPositionQuantity":50,"maxOpenPositions":2}}"""), "7f1188d43161e3ec78c17f5c3987f141cdc3785c1b9a00d04c7857af5304e676" },
        { "drawdown halt", Config("MovingAverageCross", """{"fastPeriod":5,"slowPeriod":20,"allowShort":true}""", "\"AAPL\"",
            ""","accountType":"margin","riskSettings":{"maxLeverage":3,"drawdownHalt":0.05,"positionSizing":{"mode":"percentEquity","percent":2.5}}"""), "4f427f649db3bc42811acd496e567c61a4c389add9415a0467f5e5bbd78196f5" },
        { "euro account", Config("MovingAverageCross", Cross, "\"SPY\",\"IBM\"",
            ""","baseCurrency":"EUR","dataConfiguration":{"fxCarryForward":true,"warmup":30}""", end: "2018-12-31"), "410ea7bcabf97630bdad67e6c1f8d5dc2d1a7500962f8e04d98aea1158a31506" },
        { "order tour, cash", Config("OrderTour", "{}", "\"SPY\",\"IBM\"",
            ""","executionSettings":{"maxVolumeParticipation":0.000002,"commission":{"model":"percent","rate":0.0005}}""", start: "2018-01-01"), "67f2f60e6df3ecb42d167f288b0f0b4f1c8583b5d59bae33efa814438f3dc60a" },
        { "order tour, margin, same bar close", Config("OrderTour", "{}", "\"SPY\"",
            ""","accountType":"margin","executionSettings":{"fillModel":"sameBarClose"},"riskSettings":{"stops":{"stopLossPercent":0.01,"takeProfitPercent":0.01}}""", start: "2018-01-01"), "79daaf394e24ddb21b70a78d96e0c7806ecaa5ae5920384210d9b9f7cfa56b9d" },
        { "minute bars", Config("MovingAverageCross", Cross, extra: ""","dataConfiguration":{"resolution":"minute","adjustment":"raw"}""",
            start: "2013-10-07", end: "2013-10-11"), "d103b6827f7d7af44227c8c0e57e0e1872a445836ee80ddb387cef9694f0ff01" },
        { "ticks", Config("MovingAverageCross", """{"fastPeriod":50,"slowPeriod":400}""",
            extra: ""","dataConfiguration":{"resolution":"tick","dataType":"ticks","adjustment":"raw"},"executionSettings":{"fillModel":"nextTick"},"riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":10}}""",
            start: "2013-10-07", end: "2013-10-08"), "8204c55bcd3b4e95138a14eb106d3c4b6c01af5addfda2951d26b11ce4e8acbb" },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void The_results_document_is_byte_identical_to_the_pinned_one(string name, string json, string expected)
    {
        var (result, hash) = RunAndHash(json);
        Assert.True(result.Orders.Count > 0, $"{name}: no order, so the scenario pins nothing of the records");
        Assert.True(expected == hash, $"{name}: results.json hashes to {hash}, pinned {expected}");
    }

    /// <summary>The scenarios together reach every order type, status, time in force and role, partial fills, fees and slippage.</summary>
    [Fact]
    public void The_scenarios_reach_every_kind_of_record()
    {
        var orders = new List<OrderRecord>();
        var fills = new List<FillRecord>();
        var trades = new List<Trade>();
        var open = 0;
        foreach (var row in Scenarios)
        {
            var (result, _) = RunAndHash((string)row[1]);
            orders.AddRange(result.Orders);
            fills.AddRange(result.Fills);
            trades.AddRange(result.Trades);
            open += result.OpenPositions.Count;
        }

        Assert.Equal(new[] { "limit", "market", "stop", "stopLimit" }, orders.Select(o => o.Type).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "cancelled", "expired", "filled", "partiallyFilled", "rejected", "working" },
            orders.Select(o => o.Status).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "day", "gtc" }, orders.Select(o => o.TimeInForce).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "buy", "sell" }, orders.Select(o => o.Side).Distinct().Order(StringComparer.Ordinal));
        foreach (var role in new[] { OrderRole.StopLoss, OrderRole.TakeProfit, OrderRole.DrawdownHalt })
        {
            Assert.Contains(orders, o => o.Tag == role.Tag());
        }

        Assert.Contains(orders, o => o.Status == "cancelled" && o.FilledQuantity > 0); // filled in part, then cancelled
        Assert.Contains(orders, o => o.LimitPrice is not null && o.StopPrice is not null);
        Assert.Contains(orders, o => o.Reason is not null && o.Reason.StartsWith("insufficient cash", StringComparison.Ordinal));
        Assert.Contains(fills, f => f.Slippage != 0);
        Assert.Contains(fills, f => f.Commission != 0);
        Assert.True(fills.Count > orders.Count(o => o.Status == "filled"), "no order filled in more than one part");
        Assert.Contains(trades, t => t.Side == TradeSide.Short);
        Assert.Contains(trades, t => t.Side == TradeSide.Long);
        Assert.True(open > 0);
    }

    private static (BacktestResult Result, string Hash) RunAndHash(string json)
    {
        var (config, parseErrors) = ConfigValidator.Parse(json);
        Assert.Empty(parseErrors);
        var validation = ConfigValidator.Validate(config!, Data, Catalog, ValidationPolicy.Service, new DateOnly(2026, 11, 24));
        Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => $"{e.Field}: {e.Message}")));
        var result = new BacktestRun(validation.Spec!, Data, Catalog).Execute();
        var folder = Directory.CreateTempSubdirectory("golden-");
        try
        {
            var path = Path.Combine(folder.FullName, "results.json");
            // The engine's version (and the content hash made with it) name the build, not the run: left out, so a new
            // version number does not move the pins.
            ResultsWriter.Write(path, result with { EngineVersion = "pinned", ContentHash = "pinned" });
            return (result, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Sends, per instrument and in a fixed cycle of bars, every order the strategy API offers: market buys and sells
    /// with a tag of their own, limit and stop orders for the day or until cancelled, stop-limits, orders it cancels
    /// later, orders too large for the account, and exits.
    /// </summary>
    public sealed class OrderTour : Strategy
    {
        private readonly Dictionary<int, int> _bars = new();
        private readonly List<Order> _toCancel = new();
        private int _sent;

        public override void OnBar(in MarketData bar)
        {
            if (IsWarmingUp)
            {
                return;
            }

            var i = bar.Instrument;
            var n = _bars[i] = _bars.GetValueOrDefault(i) + 1;
            var close = bar.Close;
            var tag = "t" + _sent++;
            switch (n % 12)
            {
                case 0:
                    Buy(i, 300, tag);
                    break;
                case 1:
                    SubmitOrder(i, 200, OrderType.Limit, limitPrice: close * 0.995, timeInForce: TimeInForce.Day, tag: tag);
                    break;
                case 2:
                    SubmitOrder(i, -150, OrderType.Stop, stopPrice: close * 0.99, tag: tag);
                    break;
                case 3:
                    SubmitOrder(i, 100, OrderType.StopLimit, limitPrice: close * 1.02, stopPrice: close * 1.005, tag: tag);
                    break;
                case 4:
                    if (SubmitOrder(i, 100, OrderType.Limit, limitPrice: close * 0.9, tag: tag) is { } far)
                    {
                        _toCancel.Add(far);
                    }

                    break;
                case 5:
                    SubmitOrder(i, -120, OrderType.StopLimit, limitPrice: close * 0.97, stopPrice: close * 0.99, TimeInForce.Day, tag);
                    break;
                case 6:
                    foreach (var order in _toCancel)
                    {
                        Cancel(order);
                    }

                    _toCancel.Clear();
                    break;
                case 7:
                    Buy(i, 1e7, "too big");
                    break;
                case 8:
                    Sell(i, 80, tag);
                    break;
                case 9:
                    SubmitOrder(i, 50, OrderType.Limit, limitPrice: close * 1.01, timeInForce: TimeInForce.Day, tag: tag);
                    break;
                case 10:
                    if (n % 48 == 10)
                    {
                        ExitPosition(i);
                    }

                    break;
                default:
                    SubmitOrder(i, 30, OrderType.Stop, stopPrice: close * 1.5, tag: tag); // stays working
                    break;
            }
        }
    }
}
