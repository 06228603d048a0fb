namespace Backtesting.Api.Catalog.Contracts;

/// <summary>What <c>GET /api/v1/instruments</c> answers: the instruments with their data, and the venues and currencies.</summary>
public sealed record AvailableRange(string Resolution, string DataType, DateOnly First, DateOnly Last);

public sealed record InstrumentInfo(string Id, string Symbol, string Venue, string AssetClass, string Currency, string Market,
    double LotSize, double TickSize, IReadOnlyList<AvailableRange> Ranges);

public sealed record InstrumentsResponse(IReadOnlyList<InstrumentInfo> Instruments, IReadOnlyList<string> Venues,
    IReadOnlyList<string> Currencies, IReadOnlyList<string> BaseCurrencies);
