using Backtesting.Engine.Configuration;

namespace Backtesting.Engine.Execution;

public enum FillModel
{
    /// <summary>Orders placed on a bar's close act from the next bar: market orders fill at its open.</summary>
    NextBarOpen,
    /// <summary>Market orders placed on a bar's close fill at that close.</summary>
    SameBarClose,
    /// <summary>Tick data: market orders fill at the next tick (trades at their price, quotes at bid/ask).</summary>
    NextTick,
}

/// <summary>Price slippage applied to market fills and triggered stops; limit fills get none.</summary>
public abstract record SlippageModel
{
    /// <summary>The worse fill price for an order of <paramref name="quantity"/> (signed) at <paramref name="price"/>.</summary>
    public abstract double Apply(double price, double quantity, double barVolume, double tickSize);

    public static readonly SlippageModel None = new NoSlippage();

    public static SlippageModel From(SlippageSettings settings) => settings.Model switch
    {
        "none" => None,
        "fixedBps" => new FixedBpsSlippage(settings.Bps),
        "fixedTicks" => new FixedTicksSlippage(settings.Ticks),
        "volumeShare" => new VolumeShareSlippage(settings.Impact),
        _ => throw new ArgumentException($"executionSettings.slippage.model: unknown model '{settings.Model}'"),
    };
}

public sealed record NoSlippage : SlippageModel
{
    public override double Apply(double price, double quantity, double barVolume, double tickSize) => price;
}

/// <summary>Buys pay price × (1 + bps/10,000); sells receive price × (1 − bps/10,000).</summary>
public sealed record FixedBpsSlippage(double Bps) : SlippageModel
{
    public override double Apply(double price, double quantity, double barVolume, double tickSize) =>
        price * (1 + Math.Sign(quantity) * Bps / 10_000);
}

/// <summary>Buys pay price + ticks × tick size; sells receive price − ticks × tick size.</summary>
public sealed record FixedTicksSlippage(double Ticks) : SlippageModel
{
    public override double Apply(double price, double quantity, double barVolume, double tickSize) =>
        price + Math.Sign(quantity) * Ticks * tickSize;
}

/// <summary>
/// Impact grows with the square of the order's share of the bar's volume:
/// price × (1 ± impact × (|quantity| / volume)²). With no volume the share counts as 1.
/// </summary>
public sealed record VolumeShareSlippage(double Impact) : SlippageModel
{
    public override double Apply(double price, double quantity, double barVolume, double tickSize)
    {
        var share = barVolume > 0 ? Math.Min(1, Math.Abs(quantity) / barVolume) : 1;
        return price * (1 + Math.Sign(quantity) * Impact * share * share);
    }
}

/// <summary>
/// Commission of an order, in the instrument's quote currency. The engine asks for the commission of an
/// order's cumulative filled quantity and value and charges the difference on each fill, so per-order
/// minimums and maximums hold across partial fills.
/// </summary>
public abstract record CommissionModel
{
    public abstract double ForOrder(double filledQuantity, double filledValue);

    public static readonly CommissionModel None = new NoCommission();

    public static CommissionModel From(CommissionSettings settings) => settings.Model switch
    {
        "none" => None,
        "percent" => new PercentCommission(settings.Rate),
        "fixed" => new FixedCommission(settings.Amount),
        "perShare" => new PerShareCommission(settings.PerShare, settings.Minimum, settings.MaximumPercent),
        _ => throw new ArgumentException($"executionSettings.commission.model: unknown model '{settings.Model}'"),
    };
}

public sealed record NoCommission : CommissionModel
{
    public override double ForOrder(double filledQuantity, double filledValue) => 0;
}

/// <summary>rate × |traded value| on every fill.</summary>
public sealed record PercentCommission(double Rate) : CommissionModel
{
    public override double ForOrder(double filledQuantity, double filledValue) => Rate * Math.Abs(filledValue);
}

/// <summary>A fixed amount per order, charged with its first fill.</summary>
public sealed record FixedCommission(double Amount) : CommissionModel
{
    public override double ForOrder(double filledQuantity, double filledValue) => filledQuantity == 0 ? 0 : Amount;
}

/// <summary>
/// perShare × |quantity|, at least <paramref name="Minimum"/> per order, at most
/// <paramref name="MaximumPercent"/> × traded value (when set). The cap wins over the minimum.
/// </summary>
public sealed record PerShareCommission(double PerShare, double Minimum, double MaximumPercent) : CommissionModel
{
    public override double ForOrder(double filledQuantity, double filledValue)
    {
        if (filledQuantity == 0)
        {
            return 0;
        }

        var fee = Math.Max(Minimum, PerShare * Math.Abs(filledQuantity));
        return MaximumPercent > 0 ? Math.Min(fee, MaximumPercent * Math.Abs(filledValue)) : fee;
    }
}
