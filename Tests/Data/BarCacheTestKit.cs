using System.Collections.Concurrent;
using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Cache;

namespace Backtesting.Tests.Data;

/// <summary>Shared checks of the bar cache tests: bit-identical reads and build counting per cache folder.</summary>
internal static class BarCacheTestKit
{
    /// <summary>Every field of every point, doubles compared by their bits (so -0 vs 0 or NaN payloads count).</summary>
    public static void AssertIdentical(IReadOnlyList<MarketData> expected, IReadOnlyList<MarketData> actual, string what)
    {
        if (expected.Count != actual.Count)
            Assert.Fail($"{what}: {actual.Count} points, the zips give {expected.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            var same = e.Instrument == a.Instrument && e.Kind == a.Kind && e.Time == a.Time && e.EndTime == a.EndTime
                && e.LocalDay == a.LocalDay && Bits(e.Open) == Bits(a.Open) && Bits(e.High) == Bits(a.High)
                && Bits(e.Low) == Bits(a.Low) && Bits(e.Close) == Bits(a.Close) && Bits(e.Volume) == Bits(a.Volume)
                && Bits(e.Bid) == Bits(a.Bid) && Bits(e.Ask) == Bits(a.Ask) && Bits(e.BidSize) == Bits(a.BidSize)
                && Bits(e.AskSize) == Bits(a.AskSize);
            if (!same)
                Assert.Fail($"{what}: point {i} differs: zips {Describe(e)}, cache {Describe(a)}");
        }
    }

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);

    private static string Describe(MarketData p) =>
        $"#{p.Instrument} {p.Kind} {p.Time}/{p.EndTime} day {p.LocalDay} O{p.Open:R} H{p.High:R} L{p.Low:R} C{p.Close:R} V{p.Volume:R} " +
        $"B{p.Bid:R} A{p.Ask:R} {p.BidSize:R}/{p.AskSize:R}";

    public static List<MarketData> Read(IMarketDataProvider provider, Instrument instrument, DataRequest request, int index = 2) =>
        LeanReaderTests.ReadAll(provider.Open(instrument, index, request));

    /// <summary>The folder's files with their length and content: what a read-only cache must leave as it was.</summary>
    public static Dictionary<string, string> Snapshot(string folder) =>
        !Directory.Exists(folder)
            ? []
            : Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(
                f => Path.GetRelativePath(folder, f),
                f => $"{new FileInfo(f).Length}:{new FileInfo(f).LastWriteTimeUtc.Ticks}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}");
}

/// <summary>Counts the entries built under one cache folder while it lives (tests run in parallel: others are ignored).</summary>
internal sealed class BuildCounter : IDisposable
{
    private readonly string _folder;
    private readonly ConcurrentQueue<string> _built = new();

    public BuildCounter(string folder)
    {
        _folder = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        BarCache.Built += OnBuilt;
    }

    public int Count => _built.Count;

    public IReadOnlyList<string> Entries => [.. _built];

    private void OnBuilt(string path)
    {
        if (path.StartsWith(_folder, StringComparison.Ordinal))
            _built.Enqueue(path);
    }

    public void Dispose() => BarCache.Built -= OnBuilt;
}
