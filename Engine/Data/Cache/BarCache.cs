using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;

namespace Backtesting.Engine.Data.Cache;

/// <summary>What one cache entry holds and how to build it: the instrument's full history at one resolution and
/// effective adjustment, read from <paramref name="SourcePaths"/> by <paramref name="OpenSource"/>.</summary>
internal sealed record BarCacheRequest(
    string DataRoot,
    string InstrumentId,
    Resolution Resolution,
    PriceAdjustment Adjustment,
    BarRecordLayout Layout,
    IReadOnlyList<string> SourcePaths,
    string Rules,
    Func<IMarketDataSource> OpenSource);

/// <summary>
/// A folder of bar cache entries, one per instrument x resolution x effective adjustment, each the whole history of
/// the instrument as the LEAN readers yield it (before any session or date filter). An entry is used only when its
/// header, manifest and records check out and every source file it lists is unchanged (size and modification time);
/// otherwise it is rebuilt, or, read-only, the caller reads the zips. Builders take a per-entry lock file (an
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

    /// <summary>The manifest of a valid entry (built first when the cache may write), or null.</summary>
    internal BarCacheManifest? Manifest(BarCacheRequest request)
    {
        using var handle = OpenValid(request, verifyData: false, out _, out var manifest);
        return handle is null ? null : manifest;
    }

    /// <summary>A reader of a valid entry whose records were checked (built first when the cache may write), or null.</summary>
    internal BarCacheReader? Open(BarCacheRequest request, int instrument)
    {
        var handle = OpenValid(request, verifyData: true, out var header, out _);
        return handle is null ? null : new BarCacheReader(handle, header, instrument);
    }

    private SafeFileHandle? OpenValid(BarCacheRequest request, bool verifyData, out BarCacheHeader header, out BarCacheManifest? manifest)
    {
        var path = EntryPath(request.InstrumentId, request.Resolution, request.Adjustment);
        var expected = Expected(request);
        if (TryOpen(path, expected, verifyData, out header, out manifest) is { } handle)
            return handle;
        if (ReadOnly || !Build(path, request, expected, verifyData))
            return null;
        return TryOpen(path, expected, verifyData, out header, out manifest);
    }

    /// <summary>The manifest an entry built now would have, its hashes left out (they are what building computes).</summary>
    private static BarCacheManifest Expected(BarCacheRequest request)
    {
        var sources = new List<BarCacheSource>(request.SourcePaths.Count);
        foreach (var path in request.SourcePaths)
        {
            var info = new FileInfo(path);
            sources.Add(new BarCacheSource(Path.GetRelativePath(request.DataRoot, path).Replace('\\', '/'),
                info.Exists ? info.Length : -1, info.Exists ? info.LastWriteTimeUtc.Ticks : 0, ""));
        }

        return new BarCacheManifest(BarCacheFormat.Version, BarCacheManifest.CurrentBuilderVersion, request.InstrumentId,
            request.Resolution, request.Adjustment, request.Rules, sources, "");
    }

    /// <summary>The entry's handle when every check passes; any failure (missing, partial, corrupt, stale) is null.</summary>
    private static SafeFileHandle? TryOpen(string path, BarCacheManifest expected, bool verifyData, out BarCacheHeader header,
        out BarCacheManifest? manifest)
    {
        header = default;
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
                && BarCacheManifest.Parse(bytes) is { } parsed
                && parsed.Mismatch(expected) is null
                && (!verifyData || BarCacheFormat.VerifyData(handle, read)))
            {
                header = read;
                manifest = parsed;
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

    /// <summary>Builds the entry under its lock unless another builder did meanwhile; false when it could not be written.</summary>
    private bool Build(string path, BarCacheRequest request, BarCacheManifest expected, bool verifyData)
    {
        string? temp = null;
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var entryLock = AcquireLock(path + ".lock");
            if (entryLock is null)
                return false;
            using (var built = TryOpen(path, expected, verifyData, out _, out _))
            {
                if (built is not null)
                    return true;
            }

            RemoveLeftovers(path);
            // Each source is hashed once, here; runs then take their data versions from the manifest.
            var manifest = expected with
            {
                Sources = [.. expected.Sources.Select((s, i) => s with { Sha256 = FileContentHash.Of(request.SourcePaths[i]) })],
                BuildId = Guid.NewGuid().ToString("N"),
            };
            temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            using (var writer = new BarCacheEntryWriter(temp, request.Layout, manifest.ToUtf8()))
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
