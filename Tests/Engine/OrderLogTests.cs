using System.Runtime.CompilerServices;
using Backtesting.Engine.Orders;

namespace Backtesting.Tests.Engine;

public class OrderLogTests
{
    [Fact]
    public void An_entry_is_68_bytes_without_references()
    {
        Assert.Equal(68, Unsafe.SizeOf<OrderEntry>());
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<OrderEntry>());
    }

    [Fact]
    public void Every_field_reads_back_as_written_for_every_type_time_in_force_role_and_status()
    {
        var log = new OrderLog();
        var cases = (
            from type in Enum.GetValues<OrderType>()
            from tif in Enum.GetValues<TimeInForce>()
            from role in Enum.GetValues<OrderRole>()
            from status in Enum.GetValues<OrderStatus>()
            select (type, tif, role, status)).ToList();
        var orders = new List<Order>();
        foreach (var (type, tif, role, status) in cases)
        {
            var n = orders.Count;
            var order = log.Add(n % 3, n % 2 == 0 ? n + 0.5 : -n - 0.25, type, n * 1.5, n * -2.5, tif, 1_000 + n, "tag" + n % 4, role);
            Assert.Equal((n + 1, OrderStatus.Working, (string?)null), (order.Id, order.Status, order.Reason));
            order.Status = status;
            order.FilledQuantity = n / 4.0;
            order.AveragePrice = 100 + n;
            order.Commission = n / 8.0;
            order.Reason = n % 5 == 0 ? null : "reason " + n % 7;
            order.ClosedAt = 2_000 + n;
            orders.Add(order);
        }

        Assert.Equal(cases.Count, log.Count);
        for (var n = 0; n < cases.Count; n++)
        {
            var (type, tif, role, status) = cases[n];
            // The handle given at submission and a fresh one read from the log see the same entry.
            foreach (var order in new[] { orders[n], log[n] })
            {
                Assert.Equal(n + 1, order.Id);
                Assert.Equal(n % 3, order.Instrument);
                Assert.Equal(n % 2 == 0 ? n + 0.5 : -n - 0.25, order.Quantity);
                Assert.Equal((type, tif, role, status), (order.Type, order.TimeInForce, order.Role, order.Status));
                Assert.Equal((n * 1.5, n * -2.5), (order.LimitPrice, order.StopPrice));
                Assert.Equal((1_000L + n, 2_000L + n), (order.SubmittedAt, order.ClosedAt));
                Assert.Equal("tag" + n % 4, order.Tag);
                Assert.Equal(n % 5 == 0 ? null : "reason " + n % 7, order.Reason);
                Assert.Equal((n / 4.0, 100.0 + n, n / 8.0), (order.FilledQuantity, order.AveragePrice, order.Commission));
            }
        }

        Assert.Equal(Enumerable.Range(1, cases.Count), log.Select(o => o.Id));
    }

    [Fact]
    public void Prices_of_zero_are_kept_with_their_sign_and_other_prices_exactly()
    {
        var log = new OrderLog();
        var prices = new[] { (0.0, 0.0), (-0.0, 0.0), (0.0, -0.0), (double.Epsilon, 0.0), (0.0, 1e300), (double.NaN, double.NegativeInfinity) };
        foreach (var (limit, stop) in prices)
        {
            log.Add(0, 1, OrderType.StopLimit, limit, stop, TimeInForce.Gtc, 0, "", OrderRole.Strategy);
        }

        for (var i = 0; i < prices.Length; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(prices[i].Item1), BitConverter.DoubleToInt64Bits(log[i].LimitPrice));
            Assert.Equal(BitConverter.DoubleToInt64Bits(prices[i].Item2), BitConverter.DoubleToInt64Bits(log[i].StopPrice));
        }
    }

    [Fact]
    public void Equal_texts_from_different_strings_read_back_equal_and_distinct_ones_stay_distinct()
    {
        var log = new OrderLog();
        var tags = Enumerable.Range(0, 3_000).Select(i => new string('x', i % 3) + (i % 50).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        foreach (var tag in tags)
        {
            // A fresh string instance each time: interning is by value, not by reference.
            var order = log.Add(0, 1, OrderType.Market, 0, 0, TimeInForce.Gtc, 0, new string(tag.AsSpan()), OrderRole.Strategy);
            order.Reason = tag.Length % 2 == 0 ? tag : null;
        }

        Assert.Equal(tags, log.Select(o => o.Tag));
        Assert.Equal(tags.Select(t => t.Length % 2 == 0 ? t : null), log.Select(o => o.Reason));
        Assert.Throws<ArgumentOutOfRangeException>(() => log[3_000]);
    }
}
