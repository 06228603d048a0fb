using Backtesting.Engine.Core;
using Backtesting.Engine.Orders;

namespace Backtesting.Tests.Engine;

public class ChunkedListTests
{
    [Fact]
    public void Keeps_order_across_chunks_and_reads_by_index()
    {
        var list = new ChunkedList<Fill>();
        const int n = 5_000; // 56-byte fills: 1,024 a chunk, so several chunks
        for (var i = 0; i < n; i++)
        {
            list.Add(new Fill(i, 0, i, 1, 100 + i, 0, 0, 1));
        }

        Assert.Equal(n, list.Count);
        Assert.Equal(1_023, list[1_023].OrderId);
        Assert.Equal(1_024, list[1_024].OrderId);
        Assert.Equal(n - 1, list[^1].OrderId);
        Assert.Equal(Enumerable.Range(0, n), list.Select(f => f.OrderId));
    }

    [Fact]
    public void Reference_items_and_empty_list()
    {
        var list = new ChunkedList<string>();
        Assert.Empty(list);
        for (var i = 0; i < 20_000; i++)
        {
            list.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal("8192", list[8_192]);
        var enumerated = 0;
        foreach (var item in list)
        {
            Assert.Equal(enumerated++.ToString(System.Globalization.CultureInfo.InvariantCulture), item);
        }

        Assert.Equal(20_000, enumerated);
    }

    [Fact]
    public void Rejects_indexes_outside_the_items()
    {
        var list = new ChunkedList<int>();
        list.Add(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[-1]);
    }

    [Fact]
    public void A_slot_stays_where_it_was_added_while_the_list_grows_and_is_updated_in_place()
    {
        var list = new ChunkedList<long>(); // 8,192 longs a chunk
        var slots = new List<(long[] Chunk, int Slot)>();
        for (var i = 0; i < 30_000; i++)
        {
            var chunk = list.AddSlot(out var slot);
            Assert.Equal(0, chunk[slot]); // a new slot starts as default
            chunk[slot] = i;
            slots.Add((chunk, slot));
        }

        for (var i = 0; i < slots.Count; i++)
        {
            var (chunk, slot) = slots[i];
            Assert.Same(chunk, list.ChunkOf(i, out var again));
            Assert.Equal(slot, again);
            chunk[slot] = -i; // written through the slot, read through the list
            Assert.Equal(-i, list[i]);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => list.ChunkOf(30_000, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => list.ChunkOf(-1, out _));
    }
}
