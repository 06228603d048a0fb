using System.Collections;
using System.Runtime.InteropServices;
using Backtesting.Engine.Core;

namespace Backtesting.Engine.Orders;

/// <summary>
/// Every order of a run, in order of submission (order <c>n</c> has id <c>n + 1</c>), each kept once as a compact entry
/// that its <see cref="Order"/> handle reads and updates in place. A run of hundreds of thousands of orders keeps only
/// these entries (68 bytes each, no references for the garbage collector to trace) rather than an object per order:
/// tags and reasons are kept once each in a table of texts, and limit and stop prices only for orders that have one.
/// Reading an order by index gives a fresh handle on the same entry. Not thread-safe.
/// </summary>
public sealed class OrderLog : IReadOnlyList<Order>
{
    private readonly ChunkedList<OrderEntry> _entries = new();
    private readonly ChunkedList<OrderPrices> _prices = new();
    private readonly List<string> _texts = new();
    private readonly Dictionary<string, int> _textIndex = new(StringComparer.Ordinal);
    // Most orders of a run carry the same few tags: the last one is checked by reference before the table.
    private string? _lastText;
    private int _lastTextIndex = -1;

    public int Count => _entries.Count;

    public Order this[int index]
    {
        get
        {
            var chunk = _entries.ChunkOf(index, out var slot);
            return new Order(this, chunk, slot, index + 1);
        }
    }

    /// <summary>Appends a new working order; its id is its place in the log, counted from 1.</summary>
    internal Order Add(int instrument, double quantity, OrderType type, double limitPrice, double stopPrice,
        TimeInForce timeInForce, long submittedAt, string tag, OrderRole role)
    {
        var prices = -1;
        // Bitwise, so that a price of -0.0 is kept as given.
        if (BitConverter.DoubleToInt64Bits(limitPrice) != 0 || BitConverter.DoubleToInt64Bits(stopPrice) != 0)
        {
            prices = _prices.Count;
            _prices.Add(new OrderPrices(limitPrice, stopPrice));
        }

        var tagIndex = Intern(tag);
        var chunk = _entries.AddSlot(out var slot);
        chunk[slot] = new OrderEntry
        {
            Quantity = quantity,
            SubmittedAt = submittedAt,
            Instrument = instrument,
            Tag = tagIndex,
            Reason = -1,
            Prices = prices,
            Type = (byte)type,
            TimeInForce = (byte)timeInForce,
            Role = (byte)role,
            Status = (byte)OrderStatus.Working,
        };
        return new Order(this, chunk, slot, _entries.Count);
    }

    public IEnumerator<Order> GetEnumerator()
    {
        var count = Count;
        for (var i = 0; i < count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal double LimitPrice(int prices) => prices < 0 ? 0 : _prices[prices].Limit;

    internal double StopPrice(int prices) => prices < 0 ? 0 : _prices[prices].Stop;

    internal string? Text(int index) => index < 0 ? null : _texts[index];

    /// <summary>The text's index in the table (added when new); -1 for null.</summary>
    internal int Intern(string? text)
    {
        if (text is null)
        {
            return -1;
        }

        if (ReferenceEquals(text, _lastText))
        {
            return _lastTextIndex;
        }

        if (!_textIndex.TryGetValue(text, out var index))
        {
            index = _texts.Count;
            _texts.Add(text);
            _textIndex.Add(text, index);
        }

        (_lastText, _lastTextIndex) = (text, index);
        return index;
    }

    private readonly record struct OrderPrices(double Limit, double Stop);
}

/// <summary>One order's record in its <see cref="OrderLog"/>: 68 bytes, packed, with no references.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct OrderEntry
{
    public double Quantity;
    public double FilledQuantity;
    public double AveragePrice;
    public double Commission;
    public long SubmittedAt;
    public long ClosedAt;
    public int Instrument;
    /// <summary>Index of the tag in the log's texts.</summary>
    public int Tag;
    /// <summary>Index of the reason in the log's texts, -1 for none.</summary>
    public int Reason;
    /// <summary>Index of the limit and stop prices in the log's prices, -1 when both are 0.</summary>
    public int Prices;
    public byte Type;
    public byte TimeInForce;
    public byte Role;
    public byte Status;
}
