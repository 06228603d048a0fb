using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;

namespace Backtesting.Engine.Data.Cache;

/// <summary>What one cache entry holds and how to build it: the instrument's full history at one resolution and
/// effective adjustment, read from <paramref name="Sources"/> by <paramref name="OpenSource"/>.</summary>
internal sealed record BarCacheRequest(
    string DataRoot,
    string InstrumentId,
    Resolution Resolution,
    PriceAdjustment Adjustment,
    BarRecordLayout Layout,
    IReadOnlyList<BarCacheSourceFile> Sources,
    string Rules,
    Func<IMarketDataSource> OpenSource);

/// <summary>A file an entry is built from and the one local day of bars it holds, or null when it shapes every day
/// (a daily or hourly zip, a factor file, the market-hours database).</summary>
/// <remarks>A class for the reason <see cref="Lean.LeanFile"/> is one: no JIT-compiled list code at start-up.</remarks>
internal sealed record BarCacheSourceFile(string Path, DateOnly? Day);

/// <summary>
/// A folder of bar cache entries, one per instrument x resolution x effective adjustment, each the whole history of
/// the instrument as the LEAN readers yield it (before any session or date filter). A read of a range of local days
/// uses an entry only when its header, manifest and block index check out, the records of the blocks the range
/// touches hash right, and every source file that shapes those days (the day files in the range and the files of
/// every day) is listed unchanged (size and modification time), with none added or removed in the range; otherwise
/// it is rebuilt, or, read-only, the caller reads the zips. What lies outside the range is checked by the read that
/// touches it. Builders take a per-entry lock file (an
/// exclusive <see cref="FileShare.None"/> open, which the runtime holds as a <c>flock</c> released with the process)
/// and write to a temp name in the same folder, flushed to the disk, then renamed over the entry: readers see the old
/// entry or the new one, never a part.
/// </summary>
public sealed class BarCache
{
    /// <summary>The entries' file extension.</summary>
    public const string EntryExtension = ".bars";

    /// <summary>How long a builder waits for another's lock before reading the zips instead (a safety net).</summary>
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(10);

    public BarCache(string directory, bool readOnly)
    {
        Directory = Path.GetFullPath(directory);
        ReadOnly = readOnly;
    }

    /// <summary>Raised with the entry's path each time an entry is built and renamed into place (tests count builds).</summary>
    internal static event Action<string>? Built;

    public string Directory { get; }

    /// <summary>Never writes: a missing or invalid entry means reading the zips.</summary>
    public bool ReadOnly { get; }

    /// <summary>The default folder: <c>bar-cache/&lt;data folder name&gt;</c> beside the data folder (<c>data/bar-cache/lean</c> for <c>data/lean</c>).</summary>
    public static string DefaultDirectory(string dataRoot)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataRoot));
        return Path.Combine(Path.GetDirectoryName(full) ?? full, "bar-cache", Path.GetFileName(full));
    }

    /// <summary>Where an entry lives: <c>&lt;instrument id&gt;/&lt;resolution&gt;-&lt;adjustment&gt;.bars</c>, lower case.</summary>
    public string EntryPath(string instrumentId, Resolution resolution, PriceAdjustment adjustment) =>
        Path.Combine(Directory, Sanitize(instrumentId), $"{resolution}-{adjustment}".ToLowerInvariant() + EntryExtension);

    /// <summary>The manifest of an entry valid for local days [<paramref name="first"/>, <paramref name="last"/>]
    /// (built first when the cache may write), listing only the sources checked for those days, or null.</summary>
    internal BarCacheManifest? Manifest(BarCacheRequest request, DateOnly first, DateOnly last)
    {
        using var handle = OpenValid(request, first, last, verifyData: false, out _, out _, out var manifest);
        return handle is null ? null : manifest;
    }

    /// <summary>A reader of the bars of local days [<paramref name="first"/>, <paramref name="last"/>] from an entry
    /// whose records there were checked (built first when the cache may write), or null.</summary>
    internal BarCacheReader? Open(BarCacheRequest request, int instrument, DateOnly first, DateOnly last)
    {
        var handle = OpenValid(request, first, last, verifyData: true, out var header, out var span, out _);
        return handle is null ? null : new BarCacheReader(handle, header, span, instrument);
    }

    private SafeFileHandle? OpenValid(BarCacheRequest request, DateOnly first, DateOnly last, bool verifyData,
        out BarCacheHeader header, out BarCacheSpan span, out BarCacheManifest? manifest)
    {
        var path = EntryPath(request.InstrumentId, request.Resolution, request.Adjustment);
        if (TryOpen(path, request, first, last, verifyData, out header, out span, out manifest) is { } handle)
            return handle;
        if (ReadOnly || !Build(path, request, first, last, verifyData))
            return null;
        return TryOpen(path, request, first, last, verifyData, out header, out span, out manifest);
    }

    /// <summary>The manifest an entry built now would have for the sources that shape local days [first, last] (all
    /// of them for the whole range), their hashes left out (they are what building computes).</summary>
    private static BarCacheManifest Expected(BarCacheRequest request, DateOnly first, DateOnly last)
    {
        var sources = new List<BarCacheSource>(request.Sources.Count);
        foreach (var (path, day) in request.Sources)
        {
            var source = new BarCacheSource(Path.GetRelativePath(request.DataRoot, path).Replace('\\', '/'), -1, 0, "", day);
            if (!source.Covers(first, last))
                continue;
            var info = new FileInfo(path);
            sources.Add(info.Exists ? source with { Size = info.Length, ModifiedUtcTicks = info.LastWriteTimeUtc.Ticks } : source);
        }

        return new BarCacheManifest(BarCacheFormat.Version, BarCacheManifest.CurrentBuilderVersion, request.InstrumentId,
            request.Resolution, request.Adjustment, request.Rules, sources, "");
    }

    /// <summary>The entry's handle when every check for local days [first, last] passes (with the span of their
    /// records when <paramref name="verifyData"/>); any failure (missing, partial, corrupt, stale) is null.</summary>
    private SafeFileHandle? TryOpen(string path, BarCacheRequest request, DateOnly first, DateOnly last, bool verifyData,
        out BarCacheHeader header, out BarCacheSpan span, out BarCacheManifest? manifest)
    {
        header = default;
        span = default;
        manifest = null;
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        try
        {
            if (BarCacheFormat.ReadHeader(handle, out _) is { } read
                && BarCacheFormat.ReadManifest(handle, read) is { } bytes
                && Parse(path, read, bytes) is { } parsed
                && Expected(request, first, last) is var expected
                && parsed.Mismatch(expected, first, last) is null)
            {
                if (verifyData)
                {
                    if (BarCacheFormat.ReadIndex(handle, read) is not { } blocks
                        || BarCacheFormat.Locate(handle, read, blocks, first.DayNumber, last.DayNumber) is not { } located)
                    {
                        handle.Dispose();
                        return null;
                    }

                    span = located;
                }

                header = read;
                manifest = parsed with { Sources = [.. parsed.Sources.Where(s => s.Covers(first, last))] };
                return handle;
            }
        }
        catch (IOException)
        {
            // A read failing half-way is a bad entry like any other.
        }

        handle.Dispose();
        return null;
    }

    /// <summary>Manifests parsed by this cache, by entry path with the hash and length of their bytes: a run opens its
    /// entry for the data version and again for the read, and a decade's manifest lists 2,517 sources.</summary>
    private readonly ConcurrentDictionary<string, (ulong Hash, int Length, BarCacheManifest Manifest)> _parsed = new(StringComparer.Ordinal);

    /// <summary>The manifest of these bytes (whose hash the header holds), parsed once per entry and content.</summary>
    private BarCacheManifest? Parse(string path, in BarCacheHeader header, byte[] bytes)
    {
        if (_parsed.TryGetValue(path, out var known) && known.Hash == header.ManifestHash && known.Length == bytes.Length)
            return known.Manifest;
        var parsed = BarCacheManifest.Parse(bytes);
        if (parsed is not null)
            _parsed[path] = (header.ManifestHash, bytes.Length, parsed);
        return parsed;
    }

    /// <summary>Builds the entry under its lock unless another builder did meanwhile; false when it could not be written.</summary>
    private bool Build(string path, BarCacheRequest request, DateOnly first, DateOnly last, bool verifyData)
    {
        string? temp = null;
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var entryLock = AcquireLock(path + ".lock");
            if (entryLock is null)
                return false;
            using (var built = TryOpen(path, request, first, last, verifyData, out _, out _, out _))
            {
                if (built is not null)
                    return true;
            }

            RemoveLeftovers(path);
            // Each source is hashed once, here; runs then take their data versions from the manifest.
            var whole = Expected(request, DateOnly.MinValue, DateOnly.MaxValue);
            var manifest = whole with
            {
                Sources = [.. whole.Sources.Select((s, i) => s with { Sha256 = FileContentHash.Of(request.Sources[i].Path) })],
                BuildId = Guid.NewGuid().ToString("N"),
            };
            temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            using (var writer = new BarCacheEntryWriter(temp, request.Layout, manifest.ToBytes()))
            using (var source = request.OpenSource())
            {
                var buffer = new MarketData[4096];
                int n;
                while ((n = source.Read(buffer)) > 0)
                {
                    for (var i = 0; i < n; i++)
                        writer.Write(buffer[i]);
                }

                writer.Complete();
            }

            File.Move(temp, path, overwrite: true);
            temp = null;
            Built?.Invoke(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException
                                      or InvalidOperationException)
        {
            // The cache is a speed-up: when it cannot be written the run reads the zips (and meets their errors there).
            return false;
        }
        finally
        {
            if (temp is not null)
                TryDelete(temp);
        }
    }

    /// <summary>Temp files of builders that died; only the lock's holder removes them.</summary>
    private static void RemoveLeftovers(string path)
    {
        foreach (var leftover in System.IO.Directory.EnumerateFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + ".*.tmp"))
            TryDelete(leftover);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next builder.
        }
    }

    [SuppressMessage("Reliability", "CA2000:Dispose objects before losing scope", Justification = "The caller owns the lock.")]
    private static FileStream? AcquireLock(string lockPath)
    {
        var deadline = Environment.TickCount64 + (long)LockTimeout.TotalMilliseconds;
        var wait = 2;
        while (true)
        {
            try
            {
                // The lock file stays: deleting it would let a waiter lock the old file while a newcomer locks a new one.
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                Thread.Sleep(wait);
                wait = Math.Min(wait * 2, 100);
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    private static string Sanitize(string id)
    {
        var chars = id.ToLowerInvariant().ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] is '.' or '-' or '_'))
                chars[i] = '_';
        }

        return new string(chars);
    }
}
