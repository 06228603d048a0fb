using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Portfolio;

namespace Backtesting.Engine.Configuration;

public enum SizingMode
{
    FixedQuantity,
    FixedNotional,
    PercentEquity,
    VolatilityTarget,
}

/// <summary>
/// A validated backtest, in typed form: what the engine runs. Only <see cref="ConfigValidator"/>
/// makes one from a <see cref="BacktestConfig"/>, so an engine never sees an unchecked setting.
/// </summary>
public sealed record BacktestSpec
{
    public required BacktestConfig Config { get; init; }
    public required IReadOnlyList<Instrument> Instruments { get; init; }
    /// <summary>The benchmark instrument; may or may not be one of <see cref="Instruments"/>.</summary>
    public required Instrument Benchmark { get; init; }
    public required DateOnly Start { get; init; }
    public required DateOnly End { get; init; }
    public required double InitialBalance { get; init; }
    public required string BaseCurrency { get; init; }
    public required AccountType AccountType { get; init; }
    public required Resolution Resolution { get; init; }
    public required DataType DataType { get; init; }
    public required PriceAdjustment Adjustment { get; init; }
    public required FillModel FillModel { get; init; }
    public required SlippageModel Slippage { get; init; }
    public required CommissionModel Commission { get; init; }
    public required SizingMode Sizing { get; init; }
    public required int PeriodsPerYear { get; init; }

    public DataRequest DataRequest(int warmup) =>
        new(Resolution, DataType, Adjustment, Start, End, warmup, Config.DataConfiguration.ExtendedHours);
}
