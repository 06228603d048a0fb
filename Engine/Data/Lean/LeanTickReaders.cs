namespace Backtesting.Engine.Data.Lean;

/// <summary>
/// Trade ticks from per-day zips: <c>ms,price,quantity,exchange,sale_condition,suspicious</c>.
/// Ticks flagged suspicious are dropped.
/// </summary>
internal sealed class LeanTradeTickReader(IReadOnlyList<LeanFile> files, int instrument, double priceScale, ExchangeClock clock,
    PriceAdjuster adjuster) : LeanDayFileSource(files, instrument, priceScale, clock, adjuster)
{

    protected override bool TryParse(ReadOnlySpan<byte> line, out MarketData point)
    {
        var fields = new CsvFields(line);
        var milliseconds = fields.NextLong();
        var price = fields.NextDouble() / PriceScale * Adjuster.PriceMultiplier;
        var quantity = fields.NextDouble() / Adjuster.VolumeDivisor;
        fields.Skip(); // exchange
        fields.Skip(); // sale condition
        if (IsSuspicious(fields.Next()))
        {
            point = default;
            return false;
        }
        var time = UtcTicks(milliseconds);
        point = MarketData.CreateTrade(0, time, Day, price, quantity);
        return true;
    }

    internal static bool IsSuspicious(ReadOnlySpan<byte> flag) => flag.Length == 1 && flag[0] == (byte)'1';
}

/// <summary>
/// Quote ticks from per-day zips: <c>ms,bid,bid size,ask,ask size,exchange,condition,suspicious</c>.
/// LEAN writes one side per tick (the other is 0), so the last known other side is carried
/// forward: every point then has a usable bid, ask and mid once both sides have been seen.
/// </summary>
internal sealed class LeanQuoteTickReader(IReadOnlyList<LeanFile> files, int instrument, double priceScale, ExchangeClock clock,
    PriceAdjuster adjuster) : LeanDayFileSource(files, instrument, priceScale, clock, adjuster)
{
    private double _bid;
    private double _bidSize;
    private double _ask;
    private double _askSize;

    protected override void BeginFile(LeanFile file)
    {
        base.BeginFile(file);
        // Quotes do not carry over a night.
        _bid = _bidSize = _ask = _askSize = 0;
    }

    protected override bool TryParse(ReadOnlySpan<byte> line, out MarketData point)
    {
        var fields = new CsvFields(line);
        var milliseconds = fields.NextLong();
        var bid = fields.NextDoubleOrZero() / PriceScale * Adjuster.PriceMultiplier;
        var bidSize = fields.NextDoubleOrZero() / Adjuster.VolumeDivisor;
        var ask = fields.NextDoubleOrZero() / PriceScale * Adjuster.PriceMultiplier;
        var askSize = fields.NextDoubleOrZero() / Adjuster.VolumeDivisor;
        fields.Skip(); // exchange
        fields.Skip(); // condition
        if (LeanTradeTickReader.IsSuspicious(fields.Next()))
        {
            point = default;
            return false;
        }
        if (bid > 0)
        {
            _bid = bid;
            _bidSize = bidSize;
        }
        if (ask > 0)
        {
            _ask = ask;
            _askSize = askSize;
        }
        var time = UtcTicks(milliseconds);
        point = MarketData.CreateQuote(0, time, Day, _bid, _bidSize, _ask, _askSize);
        return true;
    }
}
