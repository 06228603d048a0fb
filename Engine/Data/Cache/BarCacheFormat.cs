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
    int RecordsPerBlock, ulong ManifestHash, ulong IndexHash)
{
    /// <summary>Where the records start: after the header and the manifest, padded to 8 bytes.</summary>
    public long DataOffset => BarCacheFormat.HeaderSize + BarCacheFormat.Align8(ManifestLength);

    /// <summary>How many blocks the records are cut into (the last one may be short).</summary>
    public long BlockCount => (Count + RecordsPerBlock - 1) / RecordsPerBlock;

    /// <summary>Where the block index starts: right after the records.</summary>
    public long IndexOffset => DataOffset + (Count * RecordSize);

    /// <summary>The exact length of a complete entry: anything else is a partial or padded file.</summary>
    public long FileLength => IndexOffset + (BlockCount * BarCacheFormat.IndexEntrySize);
}

/// <summary>One block of records as the index lists it: the local days of its first and last record and the XxHash3
/// of its bytes.</summary>
internal readonly record struct BarCacheBlock(int FirstDay, int LastDay, ulong Hash);

/// <summary>The records of an entry whose local days fall in a range, with the blocks that hold them (all checked).</summary>
internal readonly record struct BarCacheSpan(long First, long End);

/// <summary>
/// The layout of a bar cache entry, all little-endian: a 64-byte header (magic <c>BTBC</c>, format version, record
/// layout, record size, bar count, manifest length, records per block, the XxHash3 of the manifest and of the block
/// index, and the XxHash3 of the header's first 56 bytes), the manifest (binary, <see cref="BarCacheManifest.ToBytes"/>)
/// padded to 8 bytes, the fixed-size records, then the block index: for every <see cref="RecordsPerBlock"/> records,
/// the local days of the block's first and last record and the XxHash3 of its bytes. A read checks the header, the
/// manifest and the index, and the records of only the blocks it reads.
/// </summary>
internal static class BarCacheFormat
{
    public const int HeaderSize = 64;

    /// <summary>Bumped when the header or the records change meaning; older versions are refused and rebuilt.
    /// Version 1 had one hash over all the records; version 2 has the block index; version 3 a binary manifest (2's was JSON).</summary>
    public const int Version = 3;

    /// <summary>Records per checked block: 64 KB of trade bars, about a day of extended-hours minutes; a read checks
    /// at most one block before and one after its days.</summary>
    public const int RecordsPerBlock = 1024;

    /// <summary>Bytes per block index entry: first day, last day, hash.</summary>
    public const int IndexEntrySize = 16;

    /// <summary>"BTBC" read as a little-endian uint.</summary>
    public const uint Magic = 0x43425442;

    /// <summary>The longest manifest read (a decade of minute files takes about 400 KB).</summary>
    public const int MaxManifestLength = 64 << 20;

    public static int RecordSize(BarRecordLayout layout) => layout switch
    {
        BarRecordLayout.Trade => Marshal.SizeOf<BarRecord>(),
        BarRecordLayout.Quote => Marshal.SizeOf<QuoteBarRecord>(),
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    public static long Align8(long length) => (length + 7) & ~7L;

    public static void WriteHeader(Span<byte> header, BarRecordLayout layout, long count, int manifestLength, ulong manifestHash, ulong indexHash)
    {
        header[..HeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], (int)layout);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], RecordSize(layout));
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], manifestLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], RecordsPerBlock);
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], manifestHash);
        BinaryPrimitives.WriteUInt64LittleEndian(header[40..], indexHash);
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
        var recordsPerBlock = BinaryPrimitives.ReadInt32LittleEndian(header[28..]);
        if (count < 0 || manifestLength <= 0 || manifestLength > MaxManifestLength || recordsPerBlock <= 0)
            return Refuse("bad count, manifest length or block size", out refusal);
        var parsed = new BarCacheHeader(layout, recordSize, count, manifestLength, recordsPerBlock,
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

    /// <summary>The block index, when its hash is the header's and its days are in order.</summary>
    public static BarCacheBlock[]? ReadIndex(SafeFileHandle handle, in BarCacheHeader header)
    {
        var bytes = new byte[header.BlockCount * IndexEntrySize];
        if (!ReadExactly(handle, bytes, header.IndexOffset) || XxHash3.HashToUInt64(bytes) != header.IndexHash)
            return null;
        var blocks = new BarCacheBlock[header.BlockCount];
        for (var i = 0; i < blocks.Length; i++)
        {
            var entry = bytes.AsSpan(i * IndexEntrySize, IndexEntrySize);
            blocks[i] = new BarCacheBlock(BinaryPrimitives.ReadInt32LittleEndian(entry), BinaryPrimitives.ReadInt32LittleEndian(entry[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]));
            if (blocks[i].LastDay < blocks[i].FirstDay || (i > 0 && blocks[i].FirstDay < blocks[i - 1].LastDay))
                return null;
        }

        return blocks;
    }

    /// <summary>
    /// The records whose local day is in [<paramref name="firstDay"/>, <paramref name="lastDay"/>], found from the
    /// index and the records of the blocks that can hold them, whose hashes are checked first; null when one does not match.
    /// </summary>
    public static BarCacheSpan? Locate(SafeFileHandle handle, in BarCacheHeader header, BarCacheBlock[] blocks, int firstDay, int lastDay)
    {
        // The first block that reaches the range and the first that starts after it: only the blocks between are read.
        var from = 0;
        while (from < blocks.Length && blocks[from].LastDay < firstDay)
            from++;
        var to = from;
        while (to < blocks.Length && blocks[to].FirstDay <= lastDay)
            to++;
        var span = new BarCacheSpan(Math.Min((long)from * header.RecordsPerBlock, header.Count), Math.Min((long)to * header.RecordsPerBlock, header.Count));
        var buffer = new byte[header.RecordsPerBlock * header.RecordSize];
        for (var b = from; b < to; b++)
        {
            var first = (long)b * header.RecordsPerBlock;
            var block = buffer.AsSpan(0, (int)(Math.Min(header.RecordsPerBlock, header.Count - first) * header.RecordSize));
            if (!ReadExactly(handle, block, header.DataOffset + (first * header.RecordSize)) || XxHash3.HashToUInt64(block) != blocks[b].Hash)
                return null;
            // The checked records are in order of local day (the builder refuses others): the range starts in the
            // first block read and ends in the last one.
            if (b == from)
                span = span with { First = first + FirstAtOrAfter(block, header.RecordSize, firstDay) };
            if (b == to - 1)
                span = span with { End = first + FirstAtOrAfter(block, header.RecordSize, lastDay + 1L) };
        }

        return span;
    }

    /// <summary>The index of the first record of <paramref name="records"/> whose local day is at least <paramref name="day"/>.</summary>
    private static long FirstAtOrAfter(ReadOnlySpan<byte> records, int recordSize, long day)
    {
        long lo = 0;
        long hi = records.Length / recordSize;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            // LocalDay sits at byte 16 of both layouts.
            if (BinaryPrimitives.ReadInt32LittleEndian(records[(int)((mid * recordSize) + 16)..]) < day)
                lo = mid + 1;
            else
                hi = mid;
        }

        return lo;
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
