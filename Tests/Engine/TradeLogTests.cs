using System.Runtime.CompilerServices;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Results;
using static Backtesting.Tests.Engine.EngineFixtures;

namespace Backtesting.Tests.Engine;

public class TradeLogTests
{
    [Fact]
    public void An_entry_is_92_bytes_without_references()
    {
        Assert.Equal(92, Unsafe.SizeOf<TradeEntry>());
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<TradeEntry>());
    }

    [Fact]
    public void A_closed_round_trip_reads_back_as_the_same_trade_on_each_instrument_and_side()
    {
        var portfolio = new PortfolioState([Stock, EuroStock], 1_000_000, AccountType.Margin, 10);
        var closed = new List<Trade>();
        // Long then short on each instrument, a reversal in one fill, an FX rate, commissions: every way a trade closes.
        foreach (var (instrument, fx) in new[] { (0, 1.0), (1, 1.1) })
        {
            Add(portfolio.ApplyFill(instrument, 100, 10, 50, fx, 1));
            Add(portfolio.ApplyFill(instrument, 200, 5, 52, fx, 0.5));
            Add(portfolio.ApplyFill(instrument, 300, -20, 55, fx, 2)); // closes the long of 15, opens a short of 5
            Add(portfolio.ApplyFill(instrument, 400, 5, 53, fx, 0.25)); // closes the short
        }

        Assert.Equal(4, closed.Count);
        Assert.Equal(closed, portfolio.Trades); // read again from the log: equal records
        Assert.Equal(new[] { 1, 2, 3, 4 }, portfolio.Trades.Select(t => t.Id));
        Assert.Equal(new[] { Stock.Id, Stock.Id, EuroStock.Id, EuroStock.Id }, portfolio.Trades.Select(t => t.Instrument));
        Assert.Equal(new[] { TradeSide.Long, TradeSide.Short, TradeSide.Long, TradeSide.Short }, portfolio.Trades.Select(t => t.Side));
        var first = portfolio.Trades[0];
        Assert.Equal((15.0, new DateTime(100, DateTimeKind.Utc), new DateTime(300, DateTimeKind.Utc)), (first.Quantity, first.EntryTime, first.ExitTime));
        Assert.Equal(DateTimeKind.Utc, first.EntryTime.Kind);
        Assert.Equal((10 * 50 + 5 * 52) / 15.0, first.EntryPrice, 12);
        Assert.Equal(55, first.ExitPrice);
        Assert.Throws<ArgumentOutOfRangeException>(() => portfolio.Trades[4]);

        void Add(Trade? trade)
        {
            if (trade is not null)
            {
                closed.Add(trade);
            }
        }
    }
}
