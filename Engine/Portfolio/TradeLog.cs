using System.Collections;
using System.Runtime.InteropServices;
using Backtesting.Engine.Core;
using Backtesting.Engine.Results;

namespace Backtesting.Engine.Portfolio;

/// <summary>
/// The closed round trips of a run, in order of closing (trade <c>n</c> has id <c>n + 1</c>), each kept as a compact
/// entry (92 bytes, no references) rather than a <see cref="Trade"/> object: the instrument by index, the times in
/// ticks. Reading a trade gives a <see cref="Trade"/> made from its entry, equal (as a record) every time it is read.
/// Not thread-safe.
/// </summary>
internal sealed class TradeLog : IReadOnlyList<Trade>
{
    private readonly ChunkedList<TradeEntry> _entries = new();
    private readonly Position[] _positions;

    public TradeLog(Position[] positions) => _positions = positions;

    public int Count => _entries.Count;

    public Trade this[int index]
    {
        get
        {
            var chunk = _entries.ChunkOf(index, out var slot);
            ref readonly var e = ref chunk[slot];
            return new Trade
            {
                Id = index + 1,
                Instrument = _positions[e.Instrument].InstrumentId,
                Side = e.Side,
                Quantity = e.Quantity,
                EntryTime = new DateTime(e.EntryTime, DateTimeKind.Utc),
                EntryPrice = e.EntryPrice,
                ExitTime = new DateTime(e.ExitTime, DateTimeKind.Utc),
                ExitPrice = e.ExitPrice,
                Pnl = e.Pnl,
                ReturnPct = e.ReturnPct,
                Commission = e.Commission,
                Mae = e.Mae,
                Mfe = e.Mfe,
                BarsHeld = e.BarsHeld,
            };
        }
    }

    /// <summary>Appends a closed round trip; returns its index.</summary>
    public int Add(in TradeEntry entry)
    {
        _entries.Add(entry);
        return _entries.Count - 1;
    }

    public IEnumerator<Trade> GetEnumerator()
    {
        var count = Count;
        for (var i = 0; i < count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>One closed round trip in a <see cref="TradeLog"/>: the figures of its <see cref="Trade"/>, packed.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct TradeEntry
{
    public long EntryTime;
    public long ExitTime;
    public double Quantity;
    public double EntryPrice;
    public double ExitPrice;
    public double Pnl;
    public double ReturnPct;
    public double Commission;
    public double Mae;
    public double Mfe;
    public int Instrument;
    public int BarsHeld;
    public TradeSide Side;
}
