using Backtesting.Engine.Strategies.Templates;

namespace Backtesting.Engine.Strategies;

/// <summary>The strategies a backtest may name in strategyClass: the templates, plus any registered later.</summary>
public sealed class StrategyCatalog
{
    private readonly Dictionary<string, StrategyDescriptor> _byName;

    public StrategyCatalog(IEnumerable<StrategyDescriptor> descriptors) =>
        _byName = descriptors.ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>The built-in templates.</summary>
    public static StrategyCatalog Templates { get; } = new(
    [
        StrategyDescriptor.For<MovingAverageCross>("Trend following: long when the fast moving average crosses above the slow one."),
        StrategyDescriptor.For<RsiMeanReversion>("Mean reversion: buy when RSI is oversold, exit when overbought."),
        StrategyDescriptor.For<BollingerBands>("Mean reversion: buy below the lower Bollinger band, exit at the middle band."),
        StrategyDescriptor.For<DonchianBreakout>("Breakout: buy above the previous N-bar high, exit below the previous M-bar low."),
        StrategyDescriptor.For<MomentumRotation>("Rotation: hold the top N instruments by recent return, rebalanced periodically."),
        StrategyDescriptor.For<BuyAndHold>("Buy every instrument on its first bar and hold to the end."),
    ]);

    public IReadOnlyCollection<StrategyDescriptor> All => _byName.Values;

    public bool TryGet(string name, out StrategyDescriptor descriptor) => _byName.TryGetValue(name, out descriptor!);

    /// <summary>A catalog with these extra strategies (custom uploads) next to the existing ones.</summary>
    public StrategyCatalog With(IEnumerable<StrategyDescriptor> extra) => new(_byName.Values.Concat(extra));
}
