using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backtesting.Engine.Data;

/// <summary>One bar as stored on disk: 64 little-endian bytes, 8-byte aligned after the header.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct BarRecord
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
}

/// <summary>
/// The engine's native bar format for large data and imports: a 32-byte header
/// (magic <c>BTBR</c>, version, record size, bar count) followed by fixed-size little-endian
/// records <c>time, endTime, localDay, (pad), open, high, low, close, volume</c>, times in UTC
/// ticks. Fixed-size records let readers stream big blocks straight into structs and seek to a
/// date by binary search.
/// </summary>
public static class BinaryBarFile
{
    public const int HeaderSize = 32;
    public const int RecordSize = 64;
    public const int Version = 1;

    /// <summary>"BTBR" read as a little-endian uint.</summary>
    public const uint Magic = 0x52425442;

    public static BinaryBarWriter Create(string path) => new(path);

    public static BinaryBarReader OpenRead(string path, int instrument) => new(path, instrument);

    /// <summary>Writes every bar of <paramref name="source"/> to a new file; returns the bar count.</summary>
    public static long Write(string path, IMarketDataSource source)
    {
        using var writer = Create(path);
        while (source.TryRead(out var bar))
            writer.Write(bar);
        return writer.Count;
    }

    /// <summary>The bar count from the header, after checking it.</summary>
    public static long ReadCount(string path)
    {
        using var handle = File.OpenHandle(path);
        return ReadHeader(handle, path);
    }

    internal static void EnsureLittleEndian()
    {
        // Records are mapped straight onto structs; a big-endian machine would need byte swaps.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Binary bar files are read on little-endian machines only.");
    }

    internal static void WriteHeader(Span<byte> header, long count)
    {
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], RecordSize);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], count);
    }

    internal static long ReadHeader(SafeFileHandle handle, string path)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        if (RandomAccess.Read(handle, header, 0) != HeaderSize)
            throw new InvalidDataException($"{path}: too short for a binary bar file");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
            throw new InvalidDataException($"{path}: not a binary bar file (bad magic)");
        var version = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (version != Version)
            throw new InvalidDataException($"{path}: binary bar file version {version}, expected {Version}");
        if (BinaryPrimitives.ReadInt32LittleEndian(header[8..]) != RecordSize)
            throw new InvalidDataException($"{path}: unexpected record size");
        var count = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        var length = RandomAccess.GetLength(handle);
        if (count < 0 || HeaderSize + (count * RecordSize) > length)
            throw new InvalidDataException($"{path}: header says {count} bars but the file holds {(length - HeaderSize) / RecordSize}");
        return count;
    }
}

/// <summary>
/// Writes bars in time order; the header's count is written on dispose, so a file cut short by a
/// crash reads as empty rather than as garbage.
/// </summary>
public sealed class BinaryBarWriter : IDisposable
{
    private const int BlockRecords = 16 * 1024;

    private readonly FileStream _stream;
    private readonly BarRecord[] _block = new BarRecord[BlockRecords];
    private int _filled;
    private long _lastTime = long.MinValue;
    private int _lastDay = int.MinValue;
    private bool _disposed;

    internal BinaryBarWriter(string path)
    {
        BinaryBarFile.EnsureLittleEndian();
        _stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        Span<byte> header = stackalloc byte[BinaryBarFile.HeaderSize];
        BinaryBarFile.WriteHeader(header, 0);
        _stream.Write(header);
    }

    public long Count { get; private set; }

    public void Write(in MarketData bar)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Readers seek by binary search on the local day, so order is part of the format.
        if (bar.Time < _lastTime || bar.LocalDay < _lastDay)
            throw new ArgumentException($"bar {Count} is out of order: bars must be written in time order", nameof(bar));
        _lastTime = bar.Time;
        _lastDay = bar.LocalDay;
        ref var record = ref _block[_filled++];
        record.Time = bar.Time;
        record.EndTime = bar.EndTime;
        record.LocalDay = bar.LocalDay;
        record.Reserved = 0;
        record.Open = bar.Open;
        record.High = bar.High;
        record.Low = bar.Low;
        record.Close = bar.Close;
        record.Volume = bar.Volume;
        Count++;
        if (_filled == BlockRecords)
            FlushBlock();
    }

    private void FlushBlock()
    {
        _stream.Write(MemoryMarshal.AsBytes(_block.AsSpan(0, _filled)));
        _filled = 0;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            FlushBlock();
            Span<byte> header = stackalloc byte[BinaryBarFile.HeaderSize];
            BinaryBarFile.WriteHeader(header, Count);
            _stream.Position = 0;
            _stream.Write(header);
        }
        finally
        {
            _stream.Dispose();
        }
    }
}

/// <summary>
/// Streams a binary bar file in 1 MB blocks read straight into a reused struct array. A window
/// (<see cref="Restrict"/>) limits it to a date range, found by binary search, with optional
/// warm-up bars before it.
/// </summary>
public sealed class BinaryBarReader : IMarketDataSource
{
    private const int BlockRecords = 16 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly int _instrument;
    private readonly BarRecord[] _block = new BarRecord[BlockRecords];
    private int _position;
    private int _filled;
    private long _next;
    private long _start;
    private long _end;

    internal BinaryBarReader(string path, int instrument)
    {
        BinaryBarFile.EnsureLittleEndian();
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        try
        {
            TotalCount = BinaryBarFile.ReadHeader(_handle, path);
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
        Path = path;
        _instrument = instrument;
        _end = TotalCount;
    }

    public string Path { get; }

    /// <summary>Bars in the file.</summary>
    public long TotalCount { get; }

    /// <summary>Bars this reader yields: the whole file, or the window set by <see cref="Restrict"/>.</summary>
    public long Count => _end - _start;

    /// <summary>
    /// Limits reading to bars whose local date is in [<paramref name="start"/>, <paramref name="end"/>],
    /// preceded by up to <paramref name="warmupBars"/> bars before <paramref name="start"/>.
    /// </summary>
    public void Restrict(DateOnly start, DateOnly end, int warmupBars = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupBars);
        var first = FirstIndexAtOrAfter(start.DayNumber);
        var afterLast = FirstIndexAtOrAfter(end.DayNumber + 1);
        _start = Math.Max(0, first - warmupBars);
        _end = Math.Max(_start, afterLast);
        _next = _start;
        _position = _filled = 0;
    }

    /// <summary>Index of the first bar on or after the local day (DayNumber), or the count if none.</summary>
    public long FirstIndexAtOrAfter(int localDay)
    {
        long lo = 0;
        var hi = TotalCount;
        Span<byte> day = stackalloc byte[sizeof(int)];
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            RandomAccess.Read(_handle, day, BinaryBarFile.HeaderSize + (mid * BinaryBarFile.RecordSize) + 16);
            if (BinaryPrimitives.ReadInt32LittleEndian(day) < localDay)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    /// <summary>The bar at an index of the file (ignores the window).</summary>
    public MarketData ReadAt(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, TotalCount);
        Span<BarRecord> one = stackalloc BarRecord[1];
        RandomAccess.Read(_handle, MemoryMarshal.AsBytes(one), BinaryBarFile.HeaderSize + (index * BinaryBarFile.RecordSize));
        return ToMarketData(one[0]);
    }

    public bool TryRead(out MarketData point)
    {
        if (_position == _filled && !FillBlock())
        {
            point = default;
            return false;
        }
        point = ToMarketData(_block[_position++]);
        return true;
    }

    public int Read(Span<MarketData> buffer)
    {
        if (_position == _filled && !FillBlock())
        {
            return 0;
        }

        // From the current block only: the next call refills it.
        var count = Math.Min(buffer.Length, _filled - _position);
        var records = _block.AsSpan(_position, count);
        for (var i = 0; i < records.Length; i++)
        {
            buffer[i] = ToMarketData(records[i]);
        }

        _position += count;
        return count;
    }

    private MarketData ToMarketData(in BarRecord r) =>
        MarketData.CreateBar(_instrument, r.Time, r.EndTime, r.LocalDay, r.Open, r.High, r.Low, r.Close, r.Volume);

    private bool FillBlock()
    {
        var records = (int)Math.Min(BlockRecords, _end - _next);
        if (records <= 0)
            return false;
        var bytes = MemoryMarshal.AsBytes(_block.AsSpan(0, records));
        var offset = BinaryBarFile.HeaderSize + (_next * BinaryBarFile.RecordSize);
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(_handle, bytes[read..], offset + read);
            if (n == 0)
                throw new InvalidDataException($"{Path}: file ended before bar {_next + (read / BinaryBarFile.RecordSize)}");
            read += n;
        }
        _next += records;
        _position = 0;
        _filled = records;
        return true;
    }

    public void Dispose() => _handle.Dispose();
}
