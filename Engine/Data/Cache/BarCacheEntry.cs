using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backtesting.Engine.Data.Cache;

/// <summary>
/// Writes one entry to a file no reader looks at (the cache's temp name): header placeholder, manifest, records in
/// blocks of <see cref="BarCacheFormat.RecordsPerBlock"/>, each hashed as it is written, then the block index;
/// <see cref="Complete"/> writes the real header and flushes to the disk before the caller renames.
/// </summary>
internal sealed class BarCacheEntryWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly BarRecordLayout _layout;
    private readonly byte[] _manifest;
    private readonly byte[] _block;
    private readonly List<BarCacheBlock> _index = [];
    private readonly int _recordSize;
    private int _filled;
    private long _lastTime = long.MinValue;
    private int _lastDay = int.MinValue;
    private int _blockFirstDay;

    public BarCacheEntryWriter(string path, BarRecordLayout layout, byte[] manifest)
    {
        BinaryBarFile.EnsureLittleEndian();
        _layout = layout;
        _manifest = manifest;
        _recordSize = BarCacheFormat.RecordSize(layout);
        _block = new byte[BarCacheFormat.RecordsPerBlock * _recordSize];
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
        // Reads find their days by binary search over the local day: a series whose days go back cannot be cached.
        if (bar.LocalDay < _lastDay)
            throw new InvalidOperationException($"bar {Count} goes back to an earlier local day");
        _lastTime = bar.EndTime;
        _lastDay = bar.LocalDay;
        if (_filled == 0)
            _blockFirstDay = bar.LocalDay;
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
        if (_filled == _block.Length)
            FlushBlock();
    }

    /// <summary>Writes the last block, the index and the header with its hashes and the count, and flushes the file to the disk.</summary>
    public void Complete()
    {
        FlushBlock();
        var index = new byte[_index.Count * BarCacheFormat.IndexEntrySize];
        for (var i = 0; i < _index.Count; i++)
        {
            var entry = index.AsSpan(i * BarCacheFormat.IndexEntrySize);
            BinaryPrimitives.WriteInt32LittleEndian(entry, _index[i].FirstDay);
            BinaryPrimitives.WriteInt32LittleEndian(entry[4..], _index[i].LastDay);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], _index[i].Hash);
        }

        _stream.Write(index);
        Span<byte> header = stackalloc byte[BarCacheFormat.HeaderSize];
        BarCacheFormat.WriteHeader(header, _layout, Count, _manifest.Length, XxHash3.HashToUInt64(_manifest), XxHash3.HashToUInt64(index));
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush(flushToDisk: true);
    }

    private void FlushBlock()
    {
        if (_filled == 0)
            return;
        var bytes = _block.AsSpan(0, _filled);
        _index.Add(new BarCacheBlock(_blockFirstDay, _lastDay, XxHash3.HashToUInt64(bytes)));
        _stream.Write(bytes);
        _filled = 0;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Streams the bars of a checked span of an entry (the records of a range of local days) in 1 MB blocks.
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

    /// <summary>Takes ownership of a handle whose header and the blocks of <paramref name="span"/> were checked.</summary>
    public BarCacheReader(SafeFileHandle handle, BarCacheHeader header, BarCacheSpan span, int instrument)
    {
        _handle = handle;
        _header = header;
        _instrument = instrument;
        _next = span.First;
        _end = span.End;
    }

    /// <summary>Bars still to be read.</summary>
    public long Count => _end - _next + ((_filled - _position) / _header.RecordSize);

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
