using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backtesting.Engine.Data.Cache;

/// <summary>How the records of a cache entry are laid out; the header names it, so an older layout is still read.</summary>
internal enum BarRecordLayout
{
    /// <summary><see cref="BarRecord"/>: time, end time, local day, OHLCV (64 bytes), as in <see cref="BinaryBarFile"/>.</summary>
    Trade = 1,
    /// <summary><see cref="QuoteBarRecord"/>: the trade fields plus the closing bid/ask and their sizes (96 bytes).</summary>
    Quote = 2,
}

/// <summary>A bar with the closing quote (forex quote bars), as stored in a <see cref="BarRecordLayout.Quote"/> entry.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct QuoteBarRecord
{
    public long Time;
    public long EndTime;
    public int LocalDay;
    public int Reserved;
    public double Open;
    public double High;
    public double Low;
    public double Close;
    public double Volume;
    public double Bid;
    public double Ask;
    public double BidSize;
    public double AskSize;
}

/// <summary>What a valid entry's header says.</summary>
internal readonly record struct BarCacheHeader(BarRecordLayout Layout, int RecordSize, long Count, int ManifestLength,
    ulong ManifestHash, ulong DataHash)
{
    /// <summary>Where the records start: after the header and the manifest, padded to 8 bytes.</summary>
    public long DataOffset => BarCacheFormat.HeaderSize + BarCacheFormat.Align8(ManifestLength);

    /// <summary>The exact length of a complete entry: anything else is a partial or padded file.</summary>
    public long FileLength => DataOffset + (Count * RecordSize);
}

/// <summary>
/// The layout of a bar cache entry, all little-endian: a 64-byte header (magic <c>BTBC</c>, format version, record
/// layout, record size, bar count, manifest length, the XxHash3 of the manifest and of the records, and the XxHash3 of
/// the header's first 56 bytes), the manifest (UTF-8 JSON, <see cref="BarCacheManifest"/>) padded to 8 bytes, then the
/// fixed-size records. Every hash is checked before a byte of the entry is believed.
/// </summary>
internal static class BarCacheFormat
{
    public const int HeaderSize = 64;

    /// <summary>Bumped when the header or the records change meaning; older versions are refused and rebuilt.</summary>
    public const int Version = 1;

    /// <summary>"BTBC" read as a little-endian uint.</summary>
    public const uint Magic = 0x43425442;

    /// <summary>The longest manifest read (a decade of minute files takes about 300 KB).</summary>
    public const int MaxManifestLength = 64 << 20;

    public static int RecordSize(BarRecordLayout layout) => layout switch
    {
        BarRecordLayout.Trade => Marshal.SizeOf<BarRecord>(),
        BarRecordLayout.Quote => Marshal.SizeOf<QuoteBarRecord>(),
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    public static long Align8(long length) => (length + 7) & ~7L;

    public static void WriteHeader(Span<byte> header, BarRecordLayout layout, long count, int manifestLength, ulong manifestHash, ulong dataHash)
    {
        header[..HeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], (int)layout);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], RecordSize(layout));
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], manifestLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], manifestHash);
        BinaryPrimitives.WriteUInt64LittleEndian(header[40..], dataHash);
        BinaryPrimitives.WriteUInt64LittleEndian(header[56..], XxHash3.HashToUInt64(header[..56]));
    }

    /// <summary>The header of an entry, or why it is refused (a reason, never an exception: a bad entry is rebuilt).</summary>
    public static BarCacheHeader? ReadHeader(SafeFileHandle handle, out string? refusal)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        var length = RandomAccess.GetLength(handle);
        if (length < HeaderSize || RandomAccess.Read(handle, header, 0) != HeaderSize)
            return Refuse("shorter than a header", out refusal);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
            return Refuse("bad magic", out refusal);
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[56..]) != XxHash3.HashToUInt64(header[..56]))
            return Refuse("header checksum mismatch", out refusal);
        var version = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (version != Version)
            return Refuse($"format version {version}, expected {Version}", out refusal);
        var layout = (BarRecordLayout)BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (layout is not (BarRecordLayout.Trade or BarRecordLayout.Quote))
            return Refuse($"unknown record layout {(int)layout}", out refusal);
        var recordSize = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        if (recordSize != RecordSize(layout))
            return Refuse("unexpected record size", out refusal);
        var count = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        var manifestLength = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        if (count < 0 || manifestLength <= 0 || manifestLength > MaxManifestLength)
            return Refuse("bad count or manifest length", out refusal);
        var parsed = new BarCacheHeader(layout, recordSize, count, manifestLength,
            BinaryPrimitives.ReadUInt64LittleEndian(header[32..]), BinaryPrimitives.ReadUInt64LittleEndian(header[40..]));
        if (parsed.FileLength != length)
            return Refuse($"length {length}, the header says {parsed.FileLength}", out refusal);
        refusal = null;
        return parsed;
    }

    /// <summary>The manifest's bytes, when their hash is the header's.</summary>
    public static byte[]? ReadManifest(SafeFileHandle handle, in BarCacheHeader header)
    {
        var bytes = new byte[header.ManifestLength];
        if (!ReadExactly(handle, bytes, HeaderSize))
            return null;
        return XxHash3.HashToUInt64(bytes) == header.ManifestHash ? bytes : null;
    }

    /// <summary>Whether the records hash to the header's data hash (reads them all once, in 1 MB blocks).</summary>
    public static bool VerifyData(SafeFileHandle handle, in BarCacheHeader header)
    {
        var hash = new XxHash3();
        var buffer = new byte[1 << 20];
        var offset = header.DataOffset;
        var remaining = header.Count * header.RecordSize;
        while (remaining > 0)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(buffer.Length, remaining));
            if (!ReadExactly(handle, chunk, offset))
                return false;
            hash.Append(chunk);
            offset += chunk.Length;
            remaining -= chunk.Length;
        }

        return hash.GetCurrentHashAsUInt64() == header.DataHash;
    }

    public static bool ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer[read..], offset + read);
            if (n == 0)
                return false;
            read += n;
        }

        return true;
    }

    private static BarCacheHeader? Refuse(string reason, out string? refusal)
    {
        refusal = reason;
        return null;
    }
}
