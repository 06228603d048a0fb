namespace Backtesting.Engine.Data;

/// <summary>What a <see cref="MarketData"/> point carries.</summary>
public enum MarketDataKind : byte
{
    /// <summary>An OHLCV trade bar.</summary>
    Bar = 0,
    /// <summary>One trade: Close is the price, Volume the quantity (Open = High = Low = Close).</summary>
    TradeTick = 1,
    /// <summary>One quote: Bid/Ask with sizes; Close is the mid price.</summary>
    QuoteTick = 2,
}

/// <summary>
/// One market data point: a bar or a tick of one instrument. A single flat struct for all kinds
/// keeps the merge and the event loop free of allocations and type switches on the hot path.
/// Times are UTC <see cref="DateTime.Ticks"/>; <see cref="EndTime"/> is when the point is known
/// (a bar's close), which is what the event loop orders by.
/// </summary>
public struct MarketData
{
    /// <summary>Index of the instrument in the backtest's instrument list.</summary>
    public int Instrument;
    public MarketDataKind Kind;
    /// <summary>Start of the bar (UTC ticks); equals EndTime for ticks.</summary>
    public long Time;
    /// <summary>When the point becomes known (UTC ticks): bar close or tick time.</summary>
    public long EndTime;
    /// <summary>The exchange-local trading date as days since 0001-01-01 (DateOnly.DayNumber).</summary>
    public int LocalDay;
    public double Open;
    public double High;
    public double Low;
    public double Close;
    public double Volume;
    public double Bid;
    public double Ask;
    public double BidSize;
    public double AskSize;

    public static MarketData CreateBar(int instrument, long time, long endTime, int localDay,
        double open, double high, double low, double close, double volume) => new()
    {
        Instrument = instrument,
        Kind = MarketDataKind.Bar,
        Time = time,
        EndTime = endTime,
        LocalDay = localDay,
        Open = open,
        High = high,
        Low = low,
        Close = close,
        Volume = volume,
    };

    public static MarketData CreateTrade(int instrument, long time, int localDay, double price, double quantity) => new()
    {
        Instrument = instrument,
        Kind = MarketDataKind.TradeTick,
        Time = time,
        EndTime = time,
        LocalDay = localDay,
        Open = price,
        High = price,
        Low = price,
        Close = price,
        Volume = quantity,
    };

    public static MarketData CreateQuote(int instrument, long time, int localDay,
        double bid, double bidSize, double ask, double askSize)
    {
        var mid = bid > 0 && ask > 0 ? (bid + ask) / 2 : Math.Max(bid, ask);
        return new()
        {
            Instrument = instrument,
            Kind = MarketDataKind.QuoteTick,
            Time = time,
            EndTime = time,
            LocalDay = localDay,
            Open = mid,
            High = mid,
            Low = mid,
            Close = mid,
            Bid = bid,
            Ask = ask,
            BidSize = bidSize,
            AskSize = askSize,
        };
    }

    public readonly DateTime EndTimeUtc => new(EndTime, DateTimeKind.Utc);
    public readonly DateOnly Date => DateOnly.FromDayNumber(LocalDay);
}

/// <summary>
/// A forward-only stream of market data for one instrument, in EndTime order. Readers stream from
/// their source so memory does not grow with the number of points.
/// </summary>
public interface IMarketDataSource : IDisposable
{
    /// <summary>Reads the next point; false at the end.</summary>
    bool TryRead(out MarketData point);

    /// <summary>
    /// Reads up to <c>buffer.Length</c> points into the buffer and returns how many; 0 only at the end. The engine
    /// reads this way: sources on the hot path fill many points per call, keeping their state in registers,
    /// instead of paying a call and a reload of that state for every point.
    /// </summary>
    int Read(Span<MarketData> buffer) => ReadOneByOne(this, buffer);

    /// <summary>Fills the buffer a point at a time through <see cref="TryRead"/>: the default for sources with no faster way.</summary>
    static int ReadOneByOne(IMarketDataSource source, Span<MarketData> buffer)
    {
        var count = 0;
        while (count < buffer.Length && source.TryRead(out buffer[count]))
        {
            count++;
        }

        return count;
    }

    /// <summary>Number of points this source will yield, or -1 when unknown without reading.</summary>
    long Count { get; }
}
