using Backtesting.Engine.Configuration;

namespace Backtesting.Engine.Sizing;

/// <summary>
/// How many units an entry or a target weight gets (riskSettings.positionSizing), rounded down to whole lots. Sizing
/// only proposes a quantity: the pre-trade risk checks and the account's buying power still judge the order.
/// Prices are the instrument's last close, in its quote currency; equity and notional are in the base currency.
/// </summary>
public sealed class PositionSizer
{
    private readonly SizingMode _mode;
    private readonly PositionSizing _settings;

    public PositionSizer(SizingMode mode, PositionSizing settings)
    {
        _mode = mode;
        _settings = settings;
    }

    /// <summary>True when the mode sizes by the average true range, so the engine keeps one per instrument.</summary>
    public bool UsesAtr => _mode == SizingMode.VolatilityTarget;

    /// <summary>Bars in the average true range (volatilityTarget).</summary>
    public int AtrPeriod => _settings.AtrPeriod;

    /// <summary>
    /// The unsigned quantity for <paramref name="weight"/> times the rule, in whole lots; 0 when the rule cannot size
    /// yet (no price, or no average true range before its first full period).
    /// </summary>
    /// <param name="weight">Scales the rule's size: 1 is the rule itself.</param>
    /// <param name="price">The instrument's last close, quote currency (0 when none yet).</param>
    /// <param name="fxRate">Converts the quote currency into the base currency.</param>
    /// <param name="equity">The account's equity, base currency.</param>
    /// <param name="atr">The instrument's average true range, quote currency (0 when not ready or not kept).</param>
    /// <param name="lotSize">The instrument's lot, positive.</param>
    public double Quantity(double weight, double price, double fxRate, double equity, double atr, double lotSize)
    {
        var raw = _mode switch
        {
            SizingMode.FixedQuantity => _settings.Quantity * weight,
            SizingMode.FixedNotional => price > 0 ? _settings.Notional * weight / (price * fxRate) : 0,
            SizingMode.PercentEquity => price > 0 ? equity * _settings.Percent * weight / (price * fxRate) : 0,
            SizingMode.VolatilityTarget => atr > 0 ? equity * _settings.RiskPercent * weight / (atr * fxRate) : 0,
            _ => throw new InvalidOperationException($"Unknown sizing mode {_mode}."),
        };

        return Lots.RoundDown(raw, lotSize);
    }
}
