using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Engine;

/// <summary>Hand-made bars and specs for engine tests, so expected figures can be worked out on paper.</summary>
internal static class EngineFixtures
{
    public static readonly Instrument Stock = new("TEST", "NYSE", AssetClass.Equity, "USD", 1, 0.01, "usa", "America/New_York");
    public static readonly Instrument Other = new("OTHER", "NYSE", AssetClass.Equity, "USD", 1, 0.01, "usa", "America/New_York");
    public static readonly Instrument EuroStock = new("EUSTK", "XETR", AssetClass.Equity, "EUR", 1, 0.01, "xetra", "UTC");

    public static readonly DateOnly Day0 = new(2020, 1, 6);

    /// <summary>Daily bars on consecutive days from <see cref="Day0"/>: (open, high, low, close, volume).</summary>
    public static MarketData[] Daily(params (double O, double H, double L, double C, double V)[] bars)
    {
        var points = new MarketData[bars.Length];
        for (var i = 0; i < bars.Length; i++)
        {
            var day = Day0.AddDays(i);
            var start = day.ToDateTime(new TimeOnly(14, 30), DateTimeKind.Utc).Ticks;
            var end = day.ToDateTime(new TimeOnly(21, 0), DateTimeKind.Utc).Ticks;
            var (o, h, l, c, v) = bars[i];
            points[i] = MarketData.CreateBar(0, start, end, day.DayNumber, o, h, l, c, v);
        }

        return points;
    }

    /// <summary>Bars whose open, high, low and close are all the given closes.</summary>
    public static MarketData[] Closes(params double[] closes) =>
        Daily(closes.Select(c => (c, c, c, c, 1_000_000.0)).ToArray());

    public static BacktestSpec Spec(
        IReadOnlyList<Instrument>? instruments = null,
        Func<BacktestConfig, BacktestConfig>? configure = null,
        FillModel fillModel = FillModel.NextBarOpen,
        CommissionModel? commission = null,
        SlippageModel? slippage = null,
        SizingMode sizing = SizingMode.FixedQuantity,
        AccountType account = AccountType.Cash,
        string baseCurrency = "USD",
        double balance = 10_000,
        int days = 30)
    {
        var list = instruments ?? [Stock];
        var config = new BacktestConfig
        {
            StrategyClass = "Scripted",
            StartDate = Day0.ToString("yyyy-MM-dd"),
            EndDate = Day0.AddDays(days).ToString("yyyy-MM-dd"),
            Instruments = list.Select(i => i.Symbol).ToList(),
            InitialBalance = balance,
            BaseCurrency = baseCurrency,
        };
        config = configure?.Invoke(config) ?? config;
        return new BacktestSpec
        {
            Config = config,
            Instruments = list,
            Benchmark = list[0],
            Start = Day0,
            End = Day0.AddDays(days),
            InitialBalance = balance,
            BaseCurrency = baseCurrency,
            AccountType = account,
            Resolution = Resolution.Daily,
            DataType = DataType.Bars,
            Adjustment = PriceAdjustment.Raw,
            FillModel = fillModel,
            Slippage = slippage ?? SlippageModel.None,
            Commission = commission ?? CommissionModel.None,
            Sizing = sizing,
            PeriodsPerYear = 252,
        };
    }

    public static EngineOutcome Run(BacktestSpec spec, Strategy strategy, params MarketData[][] perInstrument) =>
        Run(spec, strategy, new FixedFxRates(new Dictionary<(string, string), double>()), perInstrument);

    public static EngineOutcome Run(BacktestSpec spec, Strategy strategy, IFxRateProvider fx, params MarketData[][] perInstrument)
    {
        var sources = perInstrument.Select((points, i) => (IMarketDataSource)new InMemorySource(points, i)).ToList();
        using var merged = new MarketDataMerger(sources);
        var engine = new BacktestEngine(spec, strategy, merged, fx);
        return engine.Run();
    }
}

/// <summary>Constant exchange rates: enough to test the conversion arithmetic around the rate source.</summary>
internal sealed class FixedFxRates(Dictionary<(string From, string To), double> rates) : IFxRateProvider
{
    public string Source => "fixed test rates";

    public bool Supports(string from, string to) => from == to || rates.ContainsKey((from, to));

    public bool TryGetRate(string from, string to, long utcTicks, out double rate)
    {
        if (from == to)
        {
            rate = 1;
            return true;
        }

        return rates.TryGetValue((from, to), out rate);
    }
}

/// <summary>A strategy driven by a script: on bar N (0-based, per instrument) run an action.</summary>
internal sealed class ScriptedStrategy : Strategy
{
    private readonly Dictionary<int, Action<ScriptedStrategy, int>> _script;
    private readonly int[] _seen = new int[8];

    public ScriptedStrategy(Dictionary<int, Action<ScriptedStrategy, int>> script) => _script = script;

    public List<Backtesting.Engine.Orders.Fill> Fills { get; } = new();

    public override void OnBar(in MarketData bar)
    {
        var n = _seen[bar.Instrument]++;
        if (bar.Instrument == 0 && _script.TryGetValue(n, out var action))
        {
            action(this, bar.Instrument);
        }
    }

    public override void OnFill(in Backtesting.Engine.Orders.Fill fill) => Fills.Add(fill);

    public bool DoCancel(Backtesting.Engine.Orders.Order order) => Cancel(order);
    public Backtesting.Engine.Orders.Order? DoBuy(int i, double q) => Buy(i, q);
    public Backtesting.Engine.Orders.Order? DoSell(int i, double q) => Sell(i, q);
    public Backtesting.Engine.Orders.Order? DoEnterLong(int i, double weight = 1) => EnterLong(i, weight);
    public Backtesting.Engine.Orders.Order? DoExit(int i) => ExitPosition(i);
    public Backtesting.Engine.Orders.Order? DoSubmit(int i, double q, Backtesting.Engine.Orders.OrderType type, double limit = 0, double stop = 0,
        Backtesting.Engine.Orders.TimeInForce tif = Backtesting.Engine.Orders.TimeInForce.Gtc) => SubmitOrder(i, q, type, limit, stop, tif);
}
