using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;

namespace Backtesting.Api.Catalog;

public sealed record StrategyInfo(string Name, string Description, int MaxInstruments, IReadOnlyList<ParameterSchema> Parameters);

public sealed record AvailableRange(string Resolution, string DataType, DateOnly First, DateOnly Last);

public sealed record InstrumentInfo(string Id, string Symbol, string Venue, string AssetClass, string Currency, string Market,
    double LotSize, double TickSize, IReadOnlyList<AvailableRange> Ranges);

public sealed record InstrumentsResponse(IReadOnlyList<InstrumentInfo> Instruments, IReadOnlyList<string> Venues,
    IReadOnlyList<string> Currencies, IReadOnlyList<string> BaseCurrencies);

/// <summary>What a configuration may name: strategy templates with their parameter schemas, and instruments with their data.</summary>
public static class CatalogRoutes
{
    public static void MapCatalogRoutes(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/strategies", (StrategyCatalog strategies) =>
                strategies.All.OrderBy(s => s.Name, StringComparer.Ordinal)
                    .Select(s => new StrategyInfo(s.Name, s.Description, s.MaxInstruments, s.Parameters)).ToList())
            .RequireAuthorization().WithTags("Catalog")
            .WithSummary("Strategy templates with their parameter schemas (type, default, range, allowed values)")
            .Produces<List<StrategyInfo>>()
            .WithMetadata(new Backtests.ApiExample(200, """[{"name":"MovingAverageCross","description":"Trend following: long when the fast moving average crosses above the slow one.","maxInstruments":50,"parameters":[{"name":"fastPeriod","type":"integer","required":false,"default":10,"min":1,"max":500,"description":"Fast moving average period","allowed":null}]}]"""))
            .ProducesProblem(401);

        app.MapGet("/api/v1/instruments", (InstrumentDirectory directory) => directory.Response)
            .RequireAuthorization().WithTags("Catalog")
            .WithSummary("Instruments (symbols, venues, currencies) and the date ranges available per resolution")
            .Produces<InstrumentsResponse>()
            .WithMetadata(new Backtests.ApiExample(200, """{"instruments":[{"id":"SPY.ARCA","symbol":"SPY","venue":"ARCA","assetClass":"equity","currency":"USD","market":"usa","lotSize":1,"tickSize":0.01,"ranges":[{"resolution":"daily","dataType":"bars","first":"1998-01-02","last":"2021-03-31"}]}],"venues":["ARCA"],"currencies":["USD"],"baseCurrencies":["USD","EUR","GBP","JPY","CHF"]}"""))
            .ProducesProblem(401);
    }
}

/// <summary>The instrument catalog with its ranges, computed once (the data folder does not change while the API runs).</summary>
public sealed class InstrumentDirectory(IMarketDataProvider data)
{
    private readonly Lazy<InstrumentsResponse> _response = new(() => Build(data));

    public InstrumentsResponse Response => _response.Value;

    private static InstrumentsResponse Build(IMarketDataProvider data)
    {
        var catalog = data.Catalog;
        var instruments = catalog.Instruments.OrderBy(i => i.Id, StringComparer.Ordinal).Select(i =>
        {
            var ranges = new List<AvailableRange>();
            foreach (var resolution in Enum.GetValues<Resolution>())
            {
                foreach (var dataType in Enum.GetValues<DataType>())
                {
                    if (catalog.Availability(i, resolution, dataType) is { } range)
                    {
                        ranges.Add(new AvailableRange(resolution.ToString().ToLowerInvariant(), dataType.ToString().ToLowerInvariant(), range.First, range.Last));
                    }
                }
            }

            return new InstrumentInfo(i.Id, i.Symbol, i.Venue, i.AssetClass.ToString().ToLowerInvariant(), i.QuoteCurrency, i.Market,
                i.LotSize, i.TickSize, ranges);
        }).ToList();
        return new InstrumentsResponse(instruments,
            instruments.Select(i => i.Venue).Distinct().Order(StringComparer.Ordinal).ToList(),
            instruments.Select(i => i.Currency).Distinct().Order(StringComparer.Ordinal).ToList(),
            Engine.Configuration.ConfigValidator.Currencies);
    }
}
