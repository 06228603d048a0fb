namespace Backtesting.Engine.Data;

public enum DataType
{
    Bars,
    Ticks,
}

public enum PriceAdjustment
{
    /// <summary>Prices as traded.</summary>
    Raw,
    /// <summary>Split-adjusted: earlier prices divided by later splits.</summary>
    Split,
    /// <summary>Split- and dividend-adjusted (total return), from the factor files.</summary>
    SplitDividend,
}

/// <summary>What the engine asks a data provider for, for one instrument.</summary>
/// <param name="Start">First exchange-local date (inclusive).</param>
/// <param name="End">Last exchange-local date (inclusive).</param>
/// <param name="WarmupBars">Extra points before <paramref name="Start"/> for indicator warm-up.</param>
/// <param name="ExtendedHours">Equity minute and tick data: keep the pre- and post-market points too; otherwise only
/// points inside the regular session of the market calendar (early closes and late opens included) are read.</param>
public sealed record DataRequest(
    Resolution Resolution,
    DataType DataType,
    PriceAdjustment Adjustment,
    DateOnly Start,
    DateOnly End,
    int WarmupBars = 0,
    bool ExtendedHours = false);

/// <summary>The first and last local date with data at one resolution.</summary>
public sealed record DateRange(DateOnly First, DateOnly Last)
{
    public bool Covers(DateOnly start, DateOnly end) => First <= end && Last >= start;
}

/// <summary>The instruments the data folder holds and which data is available for each.</summary>
public interface IInstrumentCatalog
{
    IReadOnlyList<Instrument> Instruments { get; }

    /// <summary>Finds an instrument by <c>SYMBOL</c> (its default venue) or <c>SYMBOL.VENUE</c>.</summary>
    bool TryResolve(string symbolOrId, out Instrument instrument);

    /// <summary>The available date range per resolution and data type (bars or ticks).</summary>
    DateRange? Availability(Instrument instrument, Resolution resolution, DataType dataType);

    /// <summary>Whether any data of that kind falls between the two dates (the range can have gaps).</summary>
    bool HasData(Instrument instrument, Resolution resolution, DataType dataType, DateOnly start, DateOnly end);
}

/// <summary>Trading sessions per market, from the market-hours data.</summary>
public interface IMarketCalendar
{
    /// <summary>True when the market trades on that local date (not a weekend or holiday).</summary>
    bool IsTradingDay(string market, AssetClass assetClass, DateOnly date);

    /// <summary>The trading days in [start, end], in order.</summary>
    IEnumerable<DateOnly> TradingDays(string market, AssetClass assetClass, DateOnly start, DateOnly end);
}

/// <summary>Exchange rates for converting an instrument's quote currency into the base currency.</summary>
public interface IFxRateProvider
{
    /// <summary>
    /// Units of <paramref name="to"/> per unit of <paramref name="from"/> at the latest rate known at
    /// <paramref name="utcTicks"/>; false when no series connects the two currencies.
    /// </summary>
    bool TryGetRate(string from, string to, long utcTicks, out double rate);

    /// <summary>Whether a series connects the two currencies at all (for validation).</summary>
    bool Supports(string from, string to);

    /// <summary>
    /// The series a conversion reads, each with the dates of its bars in order (for <see cref="FxCoverage"/>); empty
    /// when no series is read, null when none connects the currencies. By default a provider whose rates never go
    /// stale (fixed rates) reads none.
    /// </summary>
    IReadOnlyList<(string Pair, IReadOnlyList<DateOnly> Dates)>? Coverage(string from, string to) => Supports(from, to) ? [] : null;

    /// <summary>Where the rates come from, stated in the results.</summary>
    string Source { get; }
}

/// <summary>Opens streams of market data: the engine's only way to reach data.</summary>
public interface IMarketDataProvider
{
    IInstrumentCatalog Catalog { get; }
    IMarketCalendar Calendar { get; }
    IFxRateProvider FxRates { get; }

    /// <summary>Opens one instrument's data; <paramref name="index"/> is stamped on every point.</summary>
    IMarketDataSource Open(Instrument instrument, int index, DataRequest request);

    /// <summary>A stable identifier of the data content (for result hashes and caches).</summary>
    string DataVersion(Instrument instrument, DataRequest request);
}
