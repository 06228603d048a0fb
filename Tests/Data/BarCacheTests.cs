using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Cache;
using Backtesting.Engine.Data.Lean;

namespace Backtesting.Tests.Data;

/// <summary>
/// The bar cache's life on a small synthetic data folder (a week of minute bars and SPY's factor file): built once and
/// reused, rebuilt after every kind of source change and every kind of damage, never written when read-only, built
/// once by racing builders; every read equals the zips' read of the same folder.
/// </summary>
public sealed class BarCacheTests : IDisposable
{
    private static readonly DateOnly First = new(2020, 1, 2);
    private static readonly DateOnly Last = new(2020, 1, 10);

    private readonly TempFolder _folder = new();
    private readonly string _root;
    private readonly string _cache;
    private readonly BuildCounter _builds;

    public BarCacheTests()
    {
        _root = Path.Combine(_folder.Path, "lean");
        _cache = Path.Combine(_folder.Path, "cache");
        SyntheticLeanMinutes.Generate(TestPaths.LeanData, _root, First, Last, seed: 7);
        var factors = Path.Combine(_root, "equity", "usa", "factor_files");
        Directory.CreateDirectory(factors);
        File.Copy(TestPaths.Lean("equity", "usa", "factor_files", "spy.csv"), Path.Combine(factors, "spy.csv"));
        _builds = new BuildCounter(_cache);
    }

    public void Dispose()
    {
        _builds.Dispose();
        _folder.Dispose();
    }

    private static DataRequest Minutes(PriceAdjustment adjustment = PriceAdjustment.Raw) =>
        new(Resolution.Minute, DataType.Bars, adjustment, First.AddDays(-5), Last.AddDays(5), ExtendedHours: true);

    private LeanDataProvider Cached(bool readOnly = false) => new(_root, new LeanDataProviderOptions(_cache, readOnly));

    private string Entry(PriceAdjustment adjustment = PriceAdjustment.Raw) =>
        Cached().BarCache!.EntryPath("SPY.ARCA", Resolution.Minute, adjustment);

    private string MinuteFile(DateOnly date) => Path.Combine(_root, "equity", "usa", "minute", "spy", $"{date:yyyyMMdd}_trade.zip");

    /// <summary>A fresh provider of each kind (so the catalog lists the folder again): the cache's read must equal the zips'.</summary>
    private List<MarketData> AssertReadEqualsZips(PriceAdjustment adjustment = PriceAdjustment.Raw, bool readOnly = false)
    {
        var zips = new LeanDataProvider(_root);
        var cached = Cached(readOnly);
        Assert.True(zips.Catalog.TryResolve("SPY", out var spy));
        var expected = BarCacheTestKit.Read(zips, spy, Minutes(adjustment));
        BarCacheTestKit.AssertIdentical(expected, BarCacheTestKit.Read(cached, spy, Minutes(adjustment)), $"{adjustment}");
        Assert.Equal(zips.DataVersion(spy, Minutes(adjustment)), cached.DataVersion(spy, Minutes(adjustment)));
        return expected;
    }

    [Fact]
    public void Built_once_then_reused_and_equal_to_the_zips()
    {
        var bars = AssertReadEqualsZips();
        Assert.Equal(7 * SyntheticLeanMinutes.BarsPerSession, bars.Count);
        Assert.Equal(1, _builds.Count);
        Assert.True(File.Exists(Entry()));
        AssertReadEqualsZips();
        Assert.Equal(1, _builds.Count);
        // Each effective adjustment is its own entry.
        AssertReadEqualsZips(PriceAdjustment.SplitDividend);
        Assert.Equal(2, _builds.Count);
    }

    public static TheoryData<string> SourceChanges() =>
        ["size", "mtime", "content same size", "file added", "file removed", "factor file", "market hours"];

    [Theory]
    [MemberData(nameof(SourceChanges))]
    public void A_changed_source_rebuilds(string change)
    {
        var day = new DateOnly(2020, 1, 7);
        // Stored uncompressed, a day's zip changes size exactly when its CSV does.
        RewriteDay(MinuteFile(day), csv => csv);
        var adjustment = change == "factor file" ? PriceAdjustment.SplitDividend : PriceAdjustment.Raw;
        var before = AssertReadEqualsZips(adjustment);
        Assert.Equal(1, _builds.Count);
        var file = MinuteFile(day);
        var oldSize = new FileInfo(file).Length;
        var oldTime = File.GetLastWriteTimeUtc(file);
        switch (change)
        {
            case "size":
                RewriteDay(file, csv => csv.Replace(",", ",1", StringComparison.Ordinal));
                Assert.NotEqual(oldSize, new FileInfo(file).Length);
                break;
            case "mtime":
                File.SetLastWriteTimeUtc(file, oldTime.AddHours(1));
                break;
            case "content same size":
                // Every price digit 1 becomes 2: same length, other bars; the file is written later, as any edit is.
                RewriteDay(file, csv => string.Join('\n', csv.Split('\n').Select(l => l.Length == 0 ? l :
                    l[..(l.IndexOf(',', StringComparison.Ordinal) + 1)] + l[(l.IndexOf(',', StringComparison.Ordinal) + 1)..].Replace('1', '2'))));
                File.SetLastWriteTimeUtc(file, oldTime.AddSeconds(2));
                Assert.Equal(oldSize, new FileInfo(file).Length);
                break;
            case "file added":
                File.Copy(file, MinuteFile(Last.AddDays(3)));
                break;
            case "file removed":
                File.Delete(MinuteFile(First));
                break;
            case "factor file":
                var factors = Path.Combine(_root, "equity", "usa", "factor_files", "spy.csv");
                File.WriteAllLines(factors, File.ReadAllLines(factors).Select(l => l.Replace("0.9", "0.8", StringComparison.Ordinal)));
                break;
            case "market hours":
                File.AppendAllText(Path.Combine(_root, "market-hours", "market-hours-database.json"), "\n");
                break;
        }

        var after = AssertReadEqualsZips(adjustment);
        Assert.Equal(2, _builds.Count);
        if (change is "size" or "content same size" or "file added" or "file removed" or "factor file")
            Assert.NotEqual(before.Select(b => (b.Time, b.Close)), after.Select(b => (b.Time, b.Close)));
        AssertReadEqualsZips(adjustment);
        Assert.Equal(2, _builds.Count);
    }

    public static TheoryData<string> Damages() =>
    [
        "truncated", "flipped data byte", "flipped first data byte", "flipped index byte", "flipped header byte",
        "flipped manifest byte", "wrong version", "format version 1", "empty file", "garbage", "leftover temp file", "stale lock",
    ];

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_damaged_entry_is_refused_and_rebuilt(string damage)
    {
        AssertReadEqualsZips();
        var entry = Entry();
        Damage(entry, damage);

        // Read-only, the damaged entry is refused, the zips are read, and nothing is written.
        var snapshot = BarCacheTestKit.Snapshot(_cache);
        AssertReadEqualsZips(readOnly: true);
        Assert.Equal(snapshot, BarCacheTestKit.Snapshot(_cache));
        Assert.Equal(1, _builds.Count);

        AssertReadEqualsZips();
        const int rebuilt = 2;
        Assert.Equal(rebuilt, _builds.Count);
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(entry)!, "*.tmp"));
        AssertReadEqualsZips();
        Assert.Equal(rebuilt, _builds.Count);
    }

    private static BarCacheHeader HeaderOf(string entry)
    {
        using var handle = File.OpenHandle(entry);
        var header = BarCacheFormat.ReadHeader(handle, out var refusal);
        Assert.True(header.HasValue, refusal);
        return header.Value;
    }

    /// <summary>Flips a bit of the close of record <paramref name="record"/> (counted from the end when negative).</summary>
    private static void FlipRecord(string entry, long record)
    {
        var header = HeaderOf(entry);
        var bytes = File.ReadAllBytes(entry);
        var index = record < 0 ? header.Count + record : record;
        bytes[header.DataOffset + (index * header.RecordSize) + 48] ^= 0x01;
        File.WriteAllBytes(entry, bytes);
    }

    private static void Damage(string entry, string damage)
    {
        var bytes = File.ReadAllBytes(entry);
        switch (damage)
        {
            case "truncated":
                File.WriteAllBytes(entry, bytes[..^10]);
                break;
            case "flipped data byte":
                FlipRecord(entry, -1);
                break;
            case "flipped first data byte":
                FlipRecord(entry, 0);
                break;
            case "flipped index byte":
                bytes[HeaderOf(entry).IndexOffset + 9] ^= 0x01;
                File.WriteAllBytes(entry, bytes);
                break;
            case "format version 1":
                // An entry as the first format wrote it is refused by its version and rebuilt in the current one.
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 1);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(56), System.IO.Hashing.XxHash3.HashToUInt64(bytes.AsSpan(0, 56)));
                File.WriteAllBytes(entry, bytes);
                break;
            case "flipped header byte":
                bytes[17] ^= 0x01;
                File.WriteAllBytes(entry, bytes);
                break;
            case "flipped manifest byte":
                bytes[BarCacheFormat.HeaderSize + 30] ^= 0x01;
                File.WriteAllBytes(entry, bytes);
                break;
            case "wrong version":
                // A well-formed header of another format version (its own checksum right): refused by the version.
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), BarCacheFormat.Version + 1);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(56), System.IO.Hashing.XxHash3.HashToUInt64(bytes.AsSpan(0, 56)));
                File.WriteAllBytes(entry, bytes);
                break;
            case "empty file":
                File.WriteAllBytes(entry, []);
                break;
            case "garbage":
                File.WriteAllBytes(entry, Encoding.ASCII.GetBytes(new string('x', bytes.Length)));
                break;
            case "leftover temp file":
                // A builder died after writing part of its temp file: readers never look at it, the next builder removes it.
                File.WriteAllBytes(entry + ".999999.0123456789abcdef0123456789abcdef.tmp", bytes[..(bytes.Length / 2)]);
                File.Delete(entry);
                break;
            case "stale lock":
                // A lock file left by a dead builder holds no lock: the lock is the open file, released with its process.
                File.WriteAllText(entry + ".lock", "12345");
                File.Delete(entry);
                break;
        }
    }

    private static DataRequest Days(DateOnly start, DateOnly end) =>
        new(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, start, end, ExtendedHours: true);

    /// <summary>A read of local days [start, end] through a fresh cached provider equals the zips' (bars and data version).</summary>
    private void AssertDaysEqualZips(DateOnly start, DateOnly end, bool readOnly = false)
    {
        var zips = new LeanDataProvider(_root);
        var cached = Cached(readOnly);
        Assert.True(zips.Catalog.TryResolve("SPY", out var spy));
        var expected = BarCacheTestKit.Read(zips, spy, Days(start, end));
        Assert.NotEmpty(expected);
        BarCacheTestKit.AssertIdentical(expected, BarCacheTestKit.Read(cached, spy, Days(start, end)), $"{start}..{end}");
        Assert.Equal(zips.DataVersion(spy, Days(start, end)), cached.DataVersion(spy, Days(start, end)));
    }

    public static TheoryData<string> ChangesAfterTheRange() => ["flipped data byte", "mtime", "size", "file added", "file removed"];

    /// <summary>
    /// A change that only touches days after the range read is not checked by that read, which is served from the
    /// entry (it does not rebuild), and is caught by the first read that reaches those days, which rebuilds.
    /// </summary>
    [Theory]
    [MemberData(nameof(ChangesAfterTheRange))]
    public void A_change_after_the_range_read_is_caught_by_the_read_that_reaches_it(string change)
    {
        var early = (First, new DateOnly(2020, 1, 3));
        var late = (new DateOnly(2020, 1, 9), Last.AddDays(5));
        AssertReadEqualsZips();
        Assert.Equal(1, _builds.Count);
        var entry = Entry();
        // The early days' records lie in other blocks than the last day's: the test means what it says.
        using (var handle = File.OpenHandle(entry))
        {
            var blocks = BarCacheFormat.ReadIndex(handle, HeaderOf(entry));
            Assert.NotNull(blocks);
            Assert.True(blocks.Length >= 2);
            Assert.True(blocks[0].LastDay < Last.DayNumber && blocks[^1].FirstDay > early.Item2.DayNumber);
        }

        var file = MinuteFile(Last);
        switch (change)
        {
            case "flipped data byte":
                FlipRecord(entry, -1);
                break;
            case "mtime":
                File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddHours(1));
                break;
            case "size":
                RewriteDay(file, csv => csv.Replace(",", ",1", StringComparison.Ordinal));
                break;
            case "file added":
                File.Copy(file, MinuteFile(Last.AddDays(3)));
                break;
            case "file removed":
                File.Delete(file);
                break;
        }

        AssertDaysEqualZips(early.First, early.Item2);
        AssertDaysEqualZips(early.First, early.Item2, readOnly: true);
        Assert.Equal(1, _builds.Count);

        AssertDaysEqualZips(late.Item1, late.Item2);
        Assert.Equal(2, _builds.Count);
        AssertReadEqualsZips();
        AssertDaysEqualZips(late.Item1, late.Item2);
        Assert.Equal(2, _builds.Count);
    }

    public static TheoryData<string> ChangesInTheRange() => ["flipped first data byte", "mtime", "file added"];

    /// <summary>Damage to the records, or a change of a day file, inside the range read is caught by that read:
    /// read-only it reads the zips and writes nothing, otherwise it rebuilds.</summary>
    [Theory]
    [MemberData(nameof(ChangesInTheRange))]
    public void A_change_in_the_range_read_is_caught_and_rebuilt(string change)
    {
        var (start, end) = (First, new DateOnly(2020, 1, 3));
        AssertReadEqualsZips();
        var entry = Entry();
        var file = MinuteFile(start);
        switch (change)
        {
            case "flipped first data byte":
                FlipRecord(entry, 0);
                break;
            case "mtime":
                File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddHours(1));
                break;
            case "file added":
                // A day inside the range that was not there (a weekend file): the range's file list changed.
                File.Copy(file, MinuteFile(new DateOnly(2020, 1, 4)));
                break;
        }

        var snapshot = BarCacheTestKit.Snapshot(_cache);
        AssertDaysEqualZips(start, change == "file added" ? start.AddDays(3) : end, readOnly: true);
        Assert.Equal(snapshot, BarCacheTestKit.Snapshot(_cache));
        Assert.Equal(1, _builds.Count);
        AssertDaysEqualZips(start, change == "file added" ? start.AddDays(3) : end);
        Assert.Equal(2, _builds.Count);
        AssertReadEqualsZips();
        Assert.Equal(2, _builds.Count);
    }

    [Fact]
    public void Read_only_never_writes_and_falls_back_to_the_zips()
    {
        AssertReadEqualsZips(PriceAdjustment.Split, readOnly: true);
        Assert.False(Directory.Exists(_cache));
        Assert.Equal(0, _builds.Count);

        AssertReadEqualsZips();
        var snapshot = BarCacheTestKit.Snapshot(_cache);
        // A changed source: the stale entry is neither used nor replaced.
        File.SetLastWriteTimeUtc(MinuteFile(First), File.GetLastWriteTimeUtc(MinuteFile(First)).AddHours(1));
        AssertReadEqualsZips(readOnly: true);
        AssertReadEqualsZips(PriceAdjustment.SplitDividend, readOnly: true);
        Assert.Equal(snapshot, BarCacheTestKit.Snapshot(_cache));
        Assert.Equal(1, _builds.Count);
    }

    [Fact]
    public void Racing_builders_build_once_and_read_the_same()
    {
        const int Builders = 6;
        var zips = new LeanDataProvider(_root);
        Assert.True(zips.Catalog.TryResolve("SPY", out var spy));
        var expected = BarCacheTestKit.Read(zips, spy, Minutes());
        using var start = new Barrier(Builders);
        var reads = new List<MarketData>[Builders];
        var threads = Enumerable.Range(0, Builders).Select(i => new Thread(() =>
        {
            var provider = Cached();
            start.SignalAndWait();
            reads[i] = BarCacheTestKit.Read(provider, spy, Minutes());
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(5)), "a builder hung"));
        Assert.Equal(1, _builds.Count);
        foreach (var read in reads)
            BarCacheTestKit.AssertIdentical(expected, read, "racing reader");
    }

    [Fact]
    public void Synthetic_minutes_are_read_back_and_deterministic_per_seed()
    {
        var zips = new LeanDataProvider(_root);
        Assert.True(zips.Catalog.TryResolve("SPY", out var spy));
        var sessions = SyntheticLeanMinutes.Sessions(TestPaths.Lean("equity", "usa", "daily", "spy.zip"))
            .Where(d => d >= First && d <= Last).ToList();
        var bars = BarCacheTestKit.Read(zips, spy, Minutes());
        Assert.Equal(sessions.Count * SyntheticLeanMinutes.BarsPerSession, bars.Count);
        Assert.Equal(sessions, bars.Select(b => b.Date).Distinct());
        Assert.Equal(100.0, bars[0].Open);
        foreach (var bar in bars)
        {
            Assert.True(bar.Low <= Math.Min(bar.Open, bar.Close) && bar.High >= Math.Max(bar.Open, bar.Close) && bar.Low > 0);
            // Whole 1/10,000 dollars.
            Assert.Equal(Math.Round(bar.Close * 10_000), bar.Close * 10_000, 6);
        }

        // The regular session is exactly the 390 bars of each day.
        var regular = BarCacheTestKit.Read(zips, spy, Minutes() with { ExtendedHours = false });
        Assert.Equal(bars.Count, regular.Count);

        using var other = new TempFolder();
        var again = SyntheticLeanMinutes.Generate(TestPaths.LeanData, Path.Combine(other.Path, "same"), First, Last, seed: 7);
        var different = SyntheticLeanMinutes.Generate(TestPaths.LeanData, Path.Combine(other.Path, "other"), First, Last, seed: 8);
        Assert.Equal(sessions.Count, again.Days);
        foreach (var session in sessions)
        {
            var name = Path.Combine("equity", "usa", "minute", "spy", $"{session:yyyyMMdd}_trade.zip");
            Assert.Equal(File.ReadAllBytes(Path.Combine(_root, name)), File.ReadAllBytes(Path.Combine(again.DataRoot, name)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(_root, name)), File.ReadAllBytes(Path.Combine(different.DataRoot, name)));
        }
    }

    /// <summary>Rewrites a day's zip with its CSV transformed, stored uncompressed.</summary>
    private static void RewriteDay(string path, Func<string, string> transform)
    {
        string name, csv;
        using (var zip = ZipFile.OpenRead(path))
        {
            name = zip.Entries[0].FullName;
            using var reader = new StreamReader(zip.Entries[0].Open());
            csv = reader.ReadToEnd();
        }

        var time = File.GetLastWriteTimeUtc(path);
        using (var file = new FileStream(path, FileMode.Create))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
            entry.LastWriteTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
            using var stream = entry.Open();
            stream.Write(Encoding.ASCII.GetBytes(transform(csv)));
        }

        File.SetLastWriteTimeUtc(path, time);
    }
}
