using System.Text;
using Backtesting.Grains.Protocol;

namespace Backtesting.Tests.Protocol;

/// <summary>The runners' line splitter: lines across chunk boundaries, and never more than the limit held.</summary>
public sealed class BoundedLineSplitterTests
{
    [Fact]
    public void Lines_are_split_across_every_chunk_boundary_with_CR_LF_and_a_last_line_without_newline()
    {
        var bytes = Encoding.UTF8.GetBytes("first\r\nsecond é\n\nlast");
        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var lines = new List<string>();
            var splitter = new BoundedLineSplitter(64, lines.Add, _ => Assert.Fail("no line is over the limit"));

            splitter.Add(bytes.AsSpan(0, cut));
            splitter.Add(bytes.AsSpan(cut));
            splitter.Flush();

            Assert.Equal(["first", "second é", "", "last"], lines);
        }
    }

    [Fact]
    public void A_line_over_the_limit_stops_the_splitter_once_and_everything_after_it_is_dropped()
    {
        var lines = new List<string>();
        var overflows = new List<int>();
        var splitter = new BoundedLineSplitter(10, lines.Add, overflows.Add);

        splitter.Add("ok\n0123456789X\nafter\n"u8);
        splitter.Add("more\n"u8);
        splitter.Flush();

        Assert.Equal(["ok"], lines);
        Assert.Equal([10], overflows);
        Assert.True(splitter.Overflowed);
    }

    [Fact]
    public void A_line_of_exactly_the_limit_is_kept()
    {
        var lines = new List<string>();
        var splitter = new BoundedLineSplitter(10, lines.Add, _ => Assert.Fail("the limit itself is allowed"));

        splitter.Add("0123456789\n"u8);

        Assert.Equal(["0123456789"], lines);
    }

    [Fact]
    public void Output_without_newlines_overflows_after_the_limit_whatever_the_chunk_size()
    {
        foreach (var chunk in new[] { 1, 7, 64 * 1024 })
        {
            var overflowed = 0;
            var splitter = new BoundedLineSplitter(1000, _ => Assert.Fail("no line ends"), _ => overflowed++);
            var bytes = new byte[chunk];
            Array.Fill(bytes, (byte)'a');

            for (var sent = 0; sent < 5000; sent += chunk)
            {
                splitter.Add(bytes);
            }

            splitter.Flush();
            Assert.Equal(1, overflowed);
        }
    }

    [Fact]
    public void Without_an_overflow_handler_a_long_line_is_cut_at_the_limit_and_the_next_line_is_whole()
    {
        var lines = new List<string>();
        var splitter = new BoundedLineSplitter(4, lines.Add);

        splitter.Add("abcdefgh"u8);
        splitter.Add("ij\nnext\n"u8);

        Assert.Equal(["abcd", "next"], lines);
    }
}
