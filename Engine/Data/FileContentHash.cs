using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Backtesting.Engine.Data;

/// <summary>
/// SHA-256 of file contents, cached per path, size and write time so each file is hashed once per
/// process. Content hashes (not times or absolute paths) keep data versions equal across clones.
/// </summary>
internal static class FileContentHash
{
    private static readonly ConcurrentDictionary<(string Path, long Length, DateTime LastWrite), string> Cache = new();

    public static string Of(string path)
    {
        var info = new FileInfo(path);
        var key = (info.FullName, info.Length, info.LastWriteTimeUtc);
        return Cache.GetOrAdd(key, static k =>
        {
            using var stream = new FileStream(k.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
    }
}
