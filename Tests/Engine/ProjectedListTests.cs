using Backtesting.Engine.Core;
using Backtesting.Engine.Orders;

namespace Backtesting.Tests.Engine;

public class ProjectedListTests
{
    [Fact]
    public void Reads_every_item_through_the_selector_by_index_and_in_order()
    {
        var fills = new ChunkedList<Fill>();
        const int n = 3_000; // several chunks of the source
        for (var i = 0; i < n; i++)
        {
            fills.Add(new Fill(i, i % 3, i, 1, 100 + i, 0, 0, 1));
        }

        var calls = 0;
        var view = new ProjectedList<Fill, string>(fills, f =>
        {
            calls++;
            return $"{f.OrderId}@{f.Price}";
        });

        Assert.Equal(0, calls); // nothing is made until it is read
        Assert.Equal(n, view.Count);
        Assert.Equal("1024@1124", view[1_024]);
        Assert.Equal(Enumerable.Range(0, n).Select(i => $"{i}@{100 + i}"), view);
        Assert.Equal(1 + n, calls);
        Assert.Throws<ArgumentOutOfRangeException>(() => view[n]);
    }

    [Fact]
    public void An_empty_source_is_an_empty_view()
    {
        var view = new ProjectedList<int, int>([], i => i * 2);

        Assert.Empty(view);
    }
}
