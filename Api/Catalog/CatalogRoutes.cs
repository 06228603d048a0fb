using Backtesting.Api.Catalog.Contracts;
using Backtesting.Engine.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backtesting.Api.Catalog;

/// <summary>What a configuration may name: instruments with their data (strategies: <see cref="Strategies.StrategyRoutes"/>).</summary>
public static class CatalogRoutes
{
    public static void MapCatalogRoutes(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/instruments", Instruments)
            .RequireAuthorization().WithTags("Catalog")
            .WithSummary("Instruments (symbols, venues, currencies) and the date ranges available per resolution")
            .WithMetadata(new Backtests.ApiExample(200, """{"instruments":[{"id":"SPY.ARCA","symbol":"SPY","venue":"ARCA","assetClass":"equity","currency":"USD","market":"usa","lotSize":1,"tickSize":0.01,"ranges":[{"resolution":"daily","dataType":"bars","first":"1998-01-02","last":"2021-03-31"}]}],"venues":["ARCA"],"currencies":["USD"],"baseCurrencies":["USD","EUR","GBP","JPY","CHF"]}"""))
            .ProducesProblem(401);
    }

    public static Ok<InstrumentsResponse> Instruments(InstrumentDirectory directory) => TypedResults.Ok(directory.Response);
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
