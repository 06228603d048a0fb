using Backtesting.Engine.Data;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

public class FxRatesTests
{
    private static readonly FxRates Rates = FxRates.FromLeanFolder(TestPaths.LeanData);

    private static long Utc(int year, int month, int day, int hour) => new DateTime(year, month, day, hour, 0, 0, DateTimeKind.Utc).Ticks;

    [Fact]
    public void Eur_usd_is_the_mid_close_of_the_latest_known_bar()
    {
        // 20150312: bid close 1.06261, ask close 1.06275; known at 2015-03-13 00:00 UTC.
        Assert.True(Rates.TryGetRate("EUR", "USD", Utc(2015, 3, 13, 12), out var rate));
        Assert.Equal((1.06261 + 1.06275) / 2, rate, 1e-12);
        // Saturday: the Friday bar (20150313) is the latest known.
        Assert.True(Rates.TryGetRate("EUR", "USD", Utc(2015, 3, 14, 12), out rate));
        Assert.Equal((1.04927 + 1.04993) / 2, rate, 1e-12);
        // Exactly at a bar's EndTime, that bar is known.
        Assert.True(Rates.TryGetRate("EUR", "USD", Utc(2015, 3, 13, 0), out rate));
        Assert.Equal((1.06261 + 1.06275) / 2, rate, 1e-12);
    }

    [Fact]
    public void Inverse_and_triangulated()
    {
        var t = Utc(2015, 3, 13, 12);
        Assert.True(Rates.TryGetRate("EUR", "USD", t, out var eurUsd));
        Assert.True(Rates.TryGetRate("USD", "EUR", t, out var usdEur));
        Assert.Equal(1 / eurUsd, usdEur, 1e-12);

        Assert.True(Rates.TryGetRate("GBP", "USD", t, out var gbpUsd));
        Assert.True(Rates.TryGetRate("NZD", "USD", t, out var nzdUsd));
        Assert.True(Rates.TryGetRate("GBP", "NZD", t, out var gbpNzd));
        Assert.Equal(gbpUsd / nzdUsd, gbpNzd, 1e-12);

        Assert.True(Rates.TryGetRate("USD", "USD", t, out var one));
        Assert.Equal(1, one);
    }

    [Fact]
    public void Supports_only_connected_currencies()
    {
        Assert.True(Rates.Supports("EUR", "GBP"));
        Assert.True(Rates.Supports("NZD", "EUR"));
        Assert.False(Rates.Supports("USD", "JPY"));
        Assert.False(Rates.TryGetRate("USD", "JPY", Utc(2015, 3, 13, 12), out _));
        Assert.False(Rates.TryGetRate("EUR", "USD", Utc(2006, 1, 1, 0), out _)); // before the data
        Assert.Equal("OANDA daily mid close: EURGBP, EURUSD, GBPUSD, NZDUSD (latest bar known at the time; USD-triangulated)", Rates.Source);
    }
}
