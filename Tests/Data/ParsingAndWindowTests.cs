using System.Globalization;
using System.Text;
using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Lean;

namespace Backtesting.Tests.Data;

public class ParsingAndWindowTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("973100")]
    [InlineData("1.31927")]
    [InlineData("0.00000001")]
    [InlineData("24.568570729999998")]
    [InlineData("-12.5")]
    [InlineData("1e-5")]
    [InlineData("123456789012345678901234")]
    [InlineData("6544.99")]
    public void FastDoubleParseMatchesTheFramework(string text)
    {
        Assert.True(AsciiParser.TryParseDouble(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), value);
    }

    [Fact]
    public void Fast_double_parse_matches_the_framework_on_random_prices()
    {
        var random = new Random(42);
        for (var i = 0; i < 20_000; i++)
        {
            var text = Math.Round(random.NextDouble() * Math.Pow(10, random.Next(0, 7)), random.Next(0, 9)).ToString("R", CultureInfo.InvariantCulture);
            Assert.True(AsciiParser.TryParseDouble(Encoding.ASCII.GetBytes(text), out var value), text);
            Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), value);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    [InlineData("12a")]
    public void RejectsNonNumbers(string text) =>
        Assert.False(AsciiParser.TryParseDouble(Encoding.ASCII.GetBytes(text), out _));

    private static MarketData Point(int day, long time) => MarketData.CreateBar(0, time, time + 1, day, 1, 1, 1, 1, 1);

    private static List<MarketData> Window(IEnumerable<MarketData> points, int start, int end, int warmup) =>
        LeanReaderTests.ReadAll(new DateWindowSource(new ListSource(points),
            DateOnly.FromDayNumber(start), DateOnly.FromDayNumber(end), warmup));

    [Fact]
    public void Window_with_more_warmup_than_history_yields_all_history()
    {
        var points = Enumerable.Range(1, 10).Select(d => Point(d, d));
        Assert.Equal([1, 2, 3, 4], Window(points, 3, 4, warmup: 5).Select(p => p.LocalDay));
        Assert.Equal([2, 3, 4], Window(points, 3, 4, warmup: 1).Select(p => p.LocalDay));
        Assert.Equal([3, 4], Window(points, 3, 4, warmup: 0).Select(p => p.LocalDay));
    }

    [Fact]
    public void Window_after_the_data_yields_only_warmup()
    {
        var points = Enumerable.Range(1, 5).Select(d => Point(d, d));
        Assert.Equal([4, 5], Window(points, 8, 9, warmup: 2).Select(p => p.LocalDay));
        Assert.Empty(Window(points, 8, 9, warmup: 0));
    }

    [Fact]
    public void Merge_orders_by_end_time_first_source_first_on_ties()
    {
        var a = new[] { Point(1, 10), Point(1, 20), Point(1, 30) }.Select(p => p with { Instrument = 1 });
        var b = new[] { Point(1, 5), Point(1, 20), Point(1, 40) }.Select(p => p with { Instrument = 2 });
        var merged = LeanReaderTests.ReadAll(new MergedSource(new ListSource(a), new ListSource(b)));

        Assert.Equal([(5L, 2), (10L, 1), (20L, 1), (20L, 2), (30L, 1), (40L, 2)], merged.Select(p => (p.Time, p.Instrument)));
    }
}
