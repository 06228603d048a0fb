using Backtesting.Engine.Configuration;
using Backtesting.Engine.Sizing;

namespace Backtesting.Tests.Sizing;

/// <summary>Every sizing mode riskSettings.positionSizing offers, and the rounding to whole lots they share.</summary>
public class PositionSizerTests
{
    private static readonly PositionSizing Settings = new() { Quantity = 100, Notional = 10_000, Percent = 0.5, RiskPercent = 0.01, AtrPeriod = 14 };

    /// <summary>The modes this class has a spec for; the config must offer exactly these.</summary>
    private static readonly SizingMode[] Specified =
        [SizingMode.FixedQuantity, SizingMode.FixedNotional, SizingMode.PercentEquity, SizingMode.VolatilityTarget];

    private static double Size(SizingMode mode, double weight = 1, double price = 100, double fxRate = 1, double equity = 10_000,
        double atr = 0, double lotSize = 1) =>
        new PositionSizer(mode, Settings).Quantity(weight, price, fxRate, equity, atr, lotSize);

    [Fact]
    public void Every_sizing_mode_the_config_offers_has_a_spec_here() =>
        Assert.Equal(Specified, ConfigValidator.SizingModes.Select(m => Enum.Parse<SizingMode>(m, ignoreCase: true)));

    [Fact]
    public void Fixed_quantity_gives_the_configured_quantity_times_the_weight_whatever_the_price_or_equity() =>
        Assert.Equal((100, 50, 50), (Size(SizingMode.FixedQuantity), Size(SizingMode.FixedQuantity, weight: 0.5), Size(SizingMode.FixedQuantity, weight: 0.5, price: 7, equity: 1)));

    [Fact]
    public void Fixed_notional_spends_the_notional_at_the_last_close_converted_into_the_base_currency() =>
        Assert.Equal((100, 50, 25), (Size(SizingMode.FixedNotional), Size(SizingMode.FixedNotional, fxRate: 2), Size(SizingMode.FixedNotional, weight: 0.5, fxRate: 2)));

    [Fact]
    public void Percent_equity_spends_that_fraction_of_equity_at_the_last_close_converted_into_the_base_currency() =>
        Assert.Equal((50, 100, 25), (Size(SizingMode.PercentEquity), Size(SizingMode.PercentEquity, equity: 20_000), Size(SizingMode.PercentEquity, fxRate: 2)));

    [Fact]
    public void Volatility_target_risks_that_fraction_of_equity_per_average_true_range() =>
        Assert.Equal((50, 25, 100), (Size(SizingMode.VolatilityTarget, atr: 2), Size(SizingMode.VolatilityTarget, atr: 2, fxRate: 2), Size(SizingMode.VolatilityTarget, atr: 2, weight: 2)));

    [Fact]
    public void Volatility_target_sizes_nothing_until_the_average_true_range_is_known() =>
        Assert.Equal(0, Size(SizingMode.VolatilityTarget, atr: 0));

    [Fact]
    public void The_price_based_modes_size_nothing_before_the_first_price() =>
        Assert.Equal((0, 0), (Size(SizingMode.FixedNotional, price: 0), Size(SizingMode.PercentEquity, price: 0)));

    [Fact]
    public void Only_volatility_target_keeps_an_average_true_range() =>
        Assert.Equal(new[] { SizingMode.VolatilityTarget }, Specified.Where(m => new PositionSizer(m, Settings).UsesAtr));

    [Fact]
    public void Every_mode_rounds_down_to_whole_lots() =>
        Assert.All(Specified, mode => Assert.Equal(90, Size(mode, weight: 0.99, equity: 20_000, atr: 2, lotSize: 10)));

    [Fact]
    public void A_quotient_a_binary_hair_below_a_whole_lot_counts_as_that_lot() =>
        Assert.Equal(0.3, new PositionSizer(SizingMode.FixedQuantity, Settings with { Quantity = 0.3 }).Quantity(1, 100, 1, 10_000, 0, 0.1), 12);
}
