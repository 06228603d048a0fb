using Backtesting.Engine.Data;
using Backtesting.Tests;

namespace Backtesting.Tests.Data;

public class BinaryBarFileTests
{
    private static readonly long Start = new DateTime(2020, 1, 2, 14, 30, 0, DateTimeKind.Utc).Ticks;

    /// <summary>Minute bars, 390 a day on consecutive days, deterministic prices.</summary>
    internal static MarketData MinuteBar(long i)
    {
        var day = new DateOnly(2020, 1, 2).DayNumber + (int)(i / 390);
        var time = Start + (i / 390 * TimeSpan.TicksPerDay) + (i % 390 * TimeSpan.TicksPerMinute);
        var price = 100 + (i % 1000 * 0.01);
        return MarketData.CreateBar(0, time, time + TimeSpan.TicksPerMinute, day, price, price + 0.05, price - 0.05, price + 0.01, 100 + (i % 7));
    }

    private static void WriteBars(string path, long count)
    {
        using var writer = BinaryBarFile.Create(path);
        for (long i = 0; i < count; i++)
            writer.Write(MinuteBar(i));
    }

    [Fact]
    public void Round_trips_every_field()
    {
        using var temp = new TempFolder();
        var path = temp.File("bars.bin");
        WriteBars(path, 40_000); // spans more than two read blocks

        Assert.Equal(40_000, BinaryBarFile.ReadCount(path));
        Assert.Equal(BinaryBarFile.HeaderSize + (40_000L * BinaryBarFile.RecordSize), new FileInfo(path).Length);
        using var reader = BinaryBarFile.OpenRead(path, instrument: 5);
        Assert.Equal(40_000, reader.Count);
        long n = 0;
        while (reader.TryRead(out var bar))
        {
            var expected = MinuteBar(n++);
            expected.Instrument = 5;
            Assert.Equal(expected, bar);
        }
        Assert.Equal(40_000, n);
    }

    [Fact]
    public void Restrict_selects_dates_with_warmup()
    {
        using var temp = new TempFolder();
        var path = temp.File("bars.bin");
        WriteBars(path, 390 * 10);

        using var reader = BinaryBarFile.OpenRead(path, 0);
        var start = new DateOnly(2020, 1, 5);
        var end = new DateOnly(2020, 1, 6);
        reader.Restrict(start, end, warmupBars: 3);

        Assert.Equal((390 * 2) + 3, reader.Count);
        var bars = LeanReaderTests.ReadAll(reader);
        Assert.Equal((390 * 2) + 3, bars.Count);
        Assert.All(bars.Take(3), b => Assert.True(b.Date < start));
        Assert.All(bars.Skip(3), b => Assert.InRange(b.Date, start, end));
    }

    [Fact]
    public void Rejects_out_of_order_bars_and_foreign_files()
    {
        using var temp = new TempFolder();
        using (var writer = BinaryBarFile.Create(temp.File("a.bin")))
        {
            writer.Write(MinuteBar(10));
            Assert.Throws<ArgumentException>(() => writer.Write(MinuteBar(9)));
        }
        Assert.Equal(1, BinaryBarFile.ReadCount(temp.File("a.bin")));

        File.WriteAllText(temp.File("b.bin"), "this is not a bar file at all, not even close");
        Assert.Throws<InvalidDataException>(() => BinaryBarFile.ReadCount(temp.File("b.bin")));
    }

    [Fact]
    public void Streaming_two_million_bars_allocates_almost_nothing()
    {
        using var temp = new TempFolder();
        var path = temp.File("big.bin");
        const long count = 2_000_000;
        WriteBars(path, count);

        var before = GC.GetAllocatedBytesForCurrentThread();
        long n = 0;
        double sum = 0;
        using (var reader = BinaryBarFile.OpenRead(path, 0))
        {
            while (reader.TryRead(out var bar))
            {
                n++;
                sum += bar.Close;
            }
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(count, n);
        Assert.True(sum > 0);
        // One 1 MB block plus small objects, for 128 MB of bars.
        Assert.True(allocated < 2_000_000, $"allocated {allocated:N0} bytes");
    }
}
