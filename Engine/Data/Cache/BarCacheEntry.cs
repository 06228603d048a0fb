using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backtesting.Engine.Data.Cache;

/// <summary>
/// Writes one entry to a file no reader looks at (the cache's temp name): header placeholder, manifest, records
/// hashed as they go; <see cref="Complete"/> writes the real header and flushes to the disk before the caller renames.
/// </summary>
internal sealed class BarCacheEntryWriter : IDisposable
{
    private const int BlockBytes = 1 << 20;

    private readonly FileStream _stream;
    private readonly BarRecordLayout _layout;
    private readonly byte[] _manifest;
    private readonly byte[] _block = new byte[BlockBytes];
    private readonly XxHash3 _hash = new();
    private readonly int _recordSize;
    private int _filled;
    private long _lastTime = long.MinValue;

    public BarCacheEntryWriter(string path, BarRecordLayout layout, byte[] manifest)
    {
        BinaryBarFile.EnsureLittleEndian();
        _layout = layout;
        _manifest = manifest;
        _recordSize = BarCacheFormat.RecordSize(layout);
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        _stream.Write(new byte[BarCacheFormat.HeaderSize]);
        _stream.Write(manifest);
        _stream.Write(new byte[BarCacheFormat.Align8(manifest.Length) - manifest.Length]);
    }

    public long Count { get; private set; }

    public void Write(in MarketData bar)
    {
        if (bar.Kind != MarketDataKind.Bar)
            throw new InvalidOperationException("the bar cache holds bars only");
        if (bar.EndTime < _lastTime)
            throw new InvalidOperationException($"bar {Count} is out of order");
        _lastTime = bar.EndTime;
        if (_filled + _recordSize > BlockBytes)
            FlushBlock();
        var target = _block.AsSpan(_filled, _recordSize);
        if (_layout == BarRecordLayout.Trade)
        {
            // A trade entry has no room for a quote: refuse rather than lose it, so a read is always the zips' read.
            if (bar.Bid != 0 || bar.Ask != 0 || bar.BidSize != 0 || bar.AskSize != 0)
                throw new InvalidOperationException("a quote bar cannot be stored in a trade-layout entry");
            MemoryMarshal.Write(target, new BarRecord
            {
                Time = bar.Time, EndTime = bar.EndTime, LocalDay = bar.LocalDay,
                Open = bar.Open, High = bar.High, Low = bar.Low, Close = bar.Close, Volume = bar.Volume,
            });
        }
        else
        {
            MemoryMarshal.Write(target, new QuoteBarRecord
            {
                Time = bar.Time, EndTime = bar.EndTime, LocalDay = bar.LocalDay,
                Open = bar.Open, High = bar.High, Low = bar.Low, Close = bar.Close, Volume = bar.Volume,
                Bid = bar.Bid, Ask = bar.Ask, BidSize = bar.BidSize, AskSize = bar.AskSize,
            });
        }

        _filled += _recordSize;
        Count++;
    }

    /// <summary>Writes the header with the hashes and the count, and flushes the file to the disk.</summary>
    public void Complete()
    {
        FlushBlock();
        Span<byte> header = stackalloc byte[BarCacheFormat.HeaderSize];
        BarCacheFormat.WriteHeader(header, _layout, Count, _manifest.Length, XxHash3.HashToUInt64(_manifest), _hash.GetCurrentHashAsUInt64());
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush(flushToDisk: true);
    }

    private void FlushBlock()
    {
        var bytes = _block.AsSpan(0, _filled);
        _hash.Append(bytes);
        _stream.Write(bytes);
        _filled = 0;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Streams the bars of a checked entry in 1 MB blocks, limited to a range of local days found by binary search.
/// Yields exactly the points the LEAN readers yield for the same files (the instrument index stamped on each).
/// </summary>
internal sealed class BarCacheReader : IMarketDataSource
{
    private const int BlockBytes = 1 << 20;

    private readonly SafeFileHandle _handle;
    private readonly BarCacheHeader _header;
    private readonly int _instrument;
    private readonly byte[] _block = new byte[BlockBytes];
    private int _position;
    private int _filled;
    private long _next;
    private long _end;

    /// <summary>Takes ownership of a handle whose header (and data, when the caller asked) was checked.</summary>
    public BarCacheReader(SafeFileHandle handle, BarCacheHeader header, int instrument)
    {
        _handle = handle;
        _header = header;
        _instrument = instrument;
        _end = header.Count;
    }

    /// <summary>Bars still to be read.</summary>
    public long Count => _end - _next + ((_filled - _position) / _header.RecordSize);

    /// <summary>Limits reading to bars whose local day is in [start, end].</summary>
    public void Restrict(DateOnly start, DateOnly end)
    {
        _next = FirstIndexAtOrAfter(start.DayNumber);
        _end = Math.Max(_next, FirstIndexAtOrAfter(end.DayNumber + 1));
        _position = _filled = 0;
    }

    private long FirstIndexAtOrAfter(int localDay)
    {
        long lo = 0;
        var hi = _header.Count;
        Span<byte> day = stackalloc byte[sizeof(int)];
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            // LocalDay sits at byte 16 of both layouts.
            RandomAccess.Read(_handle, day, _header.DataOffset + (mid * _header.RecordSize) + 16);
            if (BitConverter.ToInt32(day) < localDay)
                lo = mid + 1;
            else
                hi = mid;
        }

        return lo;
    }

    public bool TryRead(out MarketData point)
    {
        if (_position == _filled && !FillBlock())
        {
            point = default;
            return false;
        }

        point = Decode(_block.AsSpan(_position, _header.RecordSize));
        _position += _header.RecordSize;
        return true;
    }

    public int Read(Span<MarketData> buffer)
    {
        if (_position == _filled && !FillBlock())
            return 0;
        var count = Math.Min(buffer.Length, (_filled - _position) / _header.RecordSize);
        var bytes = _block.AsSpan(_position, count * _header.RecordSize);
        if (_header.Layout == BarRecordLayout.Trade)
        {
            var records = MemoryMarshal.Cast<byte, BarRecord>(bytes);
            for (var i = 0; i < records.Length; i++)
            {
                ref readonly var r = ref records[i];
                buffer[i] = MarketData.CreateBar(_instrument, r.Time, r.EndTime, r.LocalDay, r.Open, r.High, r.Low, r.Close, r.Volume);
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
                buffer[i] = Decode(bytes.Slice(i * _header.RecordSize, _header.RecordSize));
        }

        _position += bytes.Length;
        return count;
    }

    private MarketData Decode(ReadOnlySpan<byte> bytes)
    {
        if (_header.Layout == BarRecordLayout.Trade)
        {
            var r = MemoryMarshal.Read<BarRecord>(bytes);
            return MarketData.CreateBar(_instrument, r.Time, r.EndTime, r.LocalDay, r.Open, r.High, r.Low, r.Close, r.Volume);
        }

        var q = MemoryMarshal.Read<QuoteBarRecord>(bytes);
        var point = MarketData.CreateBar(_instrument, q.Time, q.EndTime, q.LocalDay, q.Open, q.High, q.Low, q.Close, q.Volume);
        point.Bid = q.Bid;
        point.Ask = q.Ask;
        point.BidSize = q.BidSize;
        point.AskSize = q.AskSize;
        return point;
    }

    private bool FillBlock()
    {
        var records = (int)Math.Min(BlockBytes / _header.RecordSize, _end - _next);
        if (records <= 0)
            return false;
        var bytes = _block.AsSpan(0, records * _header.RecordSize);
        if (!BarCacheFormat.ReadExactly(_handle, bytes, _header.DataOffset + (_next * _header.RecordSize)))
            throw new InvalidDataException($"bar cache entry ended before bar {_next}");
        _next += records;
        _position = 0;
        _filled = bytes.Length;
        return true;
    }

    public void Dispose() => _handle.Dispose();
}
