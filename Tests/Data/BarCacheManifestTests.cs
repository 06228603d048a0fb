using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Cache;

namespace Backtesting.Tests.Data;

/// <summary>The bar cache's binary manifest: every field survives the round trip, and damaged bytes of every kind are
/// refused (null, so the entry is rebuilt), never read as another manifest or thrown.</summary>
public class BarCacheManifestTests
{
    private static BarCacheManifest Sample() => new(BarCacheFormat.Version, BarCacheManifest.CurrentBuilderVersion, "SPY.ARCA",
        Resolution.Minute, PriceAdjustment.SplitDividend, "rules-fingerprint",
        [
            new BarCacheSource("equity/usa/minute/spy/20110103_trade.zip", 12_345, 634_000_000_000_000_000, new string('a', 64), new DateOnly(2011, 1, 3)),
            new BarCacheSource("equity/usa/factor_files/spy.csv", 0, -1, "", null),
            new BarCacheSource("market-hours/märkte é.json", long.MaxValue, long.MinValue, new string('f', 64), DateOnly.MaxValue),
            new BarCacheSource("equity/usa/minute/spy/00010101_trade.zip", 1, 1, "x", DateOnly.MinValue),
        ],
        "0123456789abcdef0123456789abcdef");

    [Fact]
    public void Every_field_of_every_source_survives_the_round_trip()
    {
        var manifest = Sample();
        var parsed = BarCacheManifest.Parse(manifest.ToBytes());
        Assert.NotNull(parsed);
        Assert.Equal(manifest with { Sources = [] }, parsed with { Sources = [] });
        Assert.Equal(manifest.Sources, parsed.Sources);
    }

    [Fact]
    public void A_manifest_with_no_sources_survives_the_round_trip()
    {
        var empty = Sample() with { Sources = [] };
        Assert.Empty(BarCacheManifest.Parse(empty.ToBytes())!.Sources);
    }

    [Fact]
    public void Every_truncation_and_any_trailing_byte_is_refused()
    {
        var bytes = Sample().ToBytes();
        for (var length = 0; length < bytes.Length; length++)
            Assert.Null(BarCacheManifest.Parse(bytes[..length]));
        Assert.Null(BarCacheManifest.Parse([.. bytes, 0]));
    }

    [Fact]
    public void A_negative_or_overlong_length_a_huge_count_a_bad_day_or_invalid_utf8_is_refused()
    {
        var bytes = Sample().ToBytes();
        // The instrument id's length sits at byte 8; the source count after the header strings.
        Assert.Null(BarCacheManifest.Parse(With(bytes, 8, -1)));
        Assert.Null(BarCacheManifest.Parse(With(bytes, 8, int.MaxValue)));
        var countAt = 8 + 4 + 8 + 4 + 4 + 4 + "rules-fingerprint".Length + 4 + 32;
        Assert.Equal(4, BitConverter.ToInt32(bytes, countAt));
        Assert.Null(BarCacheManifest.Parse(With(bytes, countAt, int.MaxValue)));
        Assert.Null(BarCacheManifest.Parse(With(bytes, countAt, -1)));
        // The first source's day is its last four bytes, before the second source's path length.
        var firstDayAt = countAt + 4 + 4 + "equity/usa/minute/spy/20110103_trade.zip".Length + 8 + 8 + 4 + 64;
        Assert.Equal(new DateOnly(2011, 1, 3).DayNumber, BitConverter.ToInt32(bytes, firstDayAt));
        Assert.Null(BarCacheManifest.Parse(With(bytes, firstDayAt, -2)));
        Assert.Null(BarCacheManifest.Parse(With(bytes, firstDayAt, DateOnly.MaxValue.DayNumber + 1)));
        var badText = (byte[])bytes.Clone();
        badText[12] = 0xFF; // inside "SPY.ARCA"
        Assert.Null(BarCacheManifest.Parse(badText));
    }

    private static byte[] With(byte[] bytes, int at, int value)
    {
        var copy = (byte[])bytes.Clone();
        BitConverter.GetBytes(value).CopyTo(copy, at);
        return copy;
    }
}
