namespace Backtesting.Engine.Data;

public enum AssetClass
{
    Equity,
    Forex,
    Crypto,
    Index,
}

public enum Resolution
{
    Tick,
    Minute,
    Hour,
    Daily,
}

/// <summary>
/// A tradable instrument: the catalog's description of a symbol on a venue.
/// <see cref="Id"/> is <c>SYMBOL.VENUE</c>, e.g. <c>SPY.ARCA</c>, <c>EURUSD.OANDA</c>.
/// </summary>
public sealed record Instrument(
    string Symbol,
    string Venue,
    AssetClass AssetClass,
    string QuoteCurrency,
    double LotSize,
    double TickSize,
    string Market,
    string TimeZone)
{
    public string Id => $"{Symbol}.{Venue}";

    /// <summary>Trading periods a year used to annualize daily figures: 365 for crypto, else 252.</summary>
    public int PeriodsPerYear => AssetClass == AssetClass.Crypto ? 365 : 252;
}
