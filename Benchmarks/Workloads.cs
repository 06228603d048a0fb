using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Strategies.Templates;

namespace Backtesting.Benchmarks;

/// <summary>
/// The workloads the benchmarks share: synthetic instruments, a hand-built spec of the seed-style moving-average
/// cross (fast 10, slow 30, fixed quantity 100, percent commission 0.001, next-bar-open fills) and the engine run.
/// </summary>
public static class Workloads
{
    /// <summary>First session of every synthetic series (a Monday).</summary>
    public static readonly DateOnly FirstDay = new(2000, 1, 3);

    public const int MinuteBarsPerDay = 390;
    public const int TradingDaysPerYear = 252;

    /// <summary>Shares every order of the cross buys (fixed-quantity sizing).</summary>
    public const int FixedQuantity = 100;

    /// <summary>
    /// Starting cash of the synthetic runs: large enough that commissions never exhaust it, so the strategy keeps
    /// trading (about one round trip every 50 bars) instead of having every later entry refused.
    /// </summary>
    public const double InitialBalance = 10_000_000;

    /// <summary>Seed of instrument i: distinct, fixed walks, so every run sees the same bars.</summary>
    public static ulong Seed(int instrument) => 20_240_101UL + ((ulong)instrument * 7_919UL);

    public static Instrument SyntheticInstrument(int index) =>
        new($"SYN{index}", "SYNTH", AssetClass.Equity, "USD", 1, 0.01, "usa", "UTC");

    public static SyntheticBarSource MinuteBars(int instrument, long count) =>
        new(instrument, count, Seed(instrument), FirstDay);

    /// <summary>The last session of <paramref name="bars"/> minute bars from <see cref="FirstDay"/>.</summary>
    public static DateOnly LastDay(long bars)
    {
        var sessions = (bars + MinuteBarsPerDay - 1) / MinuteBarsPerDay;
        // Five sessions a week: whole weeks plus the remaining weekdays.
        var weeks = (sessions - 1) / 5;
        var rest = (int)((sessions - 1) % 5);
        return FirstDay.AddDays((int)(weeks * 7) + rest);
    }

    /// <summary>The spec of the moving-average cross over minute bars of the given instruments.</summary>
    public static BacktestSpec MaCrossSpec(IReadOnlyList<Instrument> instruments, DateOnly start, DateOnly end, double initialBalance)
    {
        var config = new BacktestConfig
        {
            StrategyClass = "MovingAverageCross",
            StartDate = start.ToString("yyyy-MM-dd"),
            EndDate = end.ToString("yyyy-MM-dd"),
            Instruments = instruments.Select(i => i.Symbol).ToList(),
            InitialBalance = initialBalance,
            BaseCurrency = "USD",
            DataConfiguration = new DataConfiguration { Resolution = "minute", Adjustment = "raw" },
            ExecutionSettings = new ExecutionSettings
            {
                FillModel = "nextBarOpen",
                Commission = new CommissionSettings { Model = "percent", Rate = 0.001 },
            },
            RiskSettings = new RiskSettings { PositionSizing = new PositionSizing { Mode = "fixedQuantity", Quantity = FixedQuantity } },
        };
        return new BacktestSpec
        {
            Config = config,
            Instruments = instruments,
            Benchmark = instruments[0],
            Start = start,
            End = end,
            InitialBalance = initialBalance,
            BaseCurrency = "USD",
            AccountType = AccountType.Cash,
            Resolution = Resolution.Minute,
            DataType = DataType.Bars,
            Adjustment = PriceAdjustment.Raw,
            FillModel = FillModel.NextBarOpen,
            Slippage = SlippageModel.None,
            Commission = CommissionModel.From(config.ExecutionSettings.Commission),
            Sizing = SizingMode.FixedQuantity,
            PeriodsPerYear = 252,
        };
    }

    public static MovingAverageCross MaCross() => new() { FastPeriod = 10, SlowPeriod = 30, MaType = "SMA" };

    /// <summary>Runs the cross over the sources, merged as <see cref="BacktestRun"/> merges them.</summary>
    public static EngineOutcome RunMaCross(BacktestSpec spec, IReadOnlyList<IMarketDataSource> sources, IBacktestObserver? observer = null)
    {
        using var merged = new MarketDataMerger(sources);
        var engine = new BacktestEngine(spec, MaCross(), merged, BaseCurrencyOnly.Instance, observer: observer);
        return engine.Run();
    }
}

/// <summary>Every synthetic instrument is quoted in the base currency, so no rate is ever needed.</summary>
public sealed class BaseCurrencyOnly : IFxRateProvider
{
    public static readonly BaseCurrencyOnly Instance = new();

    public string Source => "none: every instrument is quoted in the base currency";

    public bool Supports(string from, string to) => from == to;

    public bool TryGetRate(string from, string to, long utcTicks, out double rate)
    {
        rate = 1;
        return from == to;
    }
}
