using System.Globalization;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Writer;

namespace Backtesting.Api.Exports;

/// <summary>A chart's plot area in top-down page coordinates.</summary>
internal readonly record struct PdfArea(double Left, double Top, double Width, double Height)
{
    public double Right => Left + Width;
    public double Bottom => Top + Height;

    public (double X, double Y) Map(long x, double y, long minX, long maxX, double minY, double maxY) => (
        Left + (maxX == minX ? 0 : (double)(x - minX) / (maxX - minX) * Width),
        Bottom - (y - minY) / (maxY - minY) * Height);
}

/// <summary>A page drawn in top-down coordinates (PDF's own origin is the bottom left).</summary>
internal sealed class PdfCanvas(PdfPageBuilder page, PdfDocumentBuilder.AddedFont regular, PdfDocumentBuilder.AddedFont bold)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Percent(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("P2", Invariant) : "n/a";

    public static string Number(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("F2", Invariant) : "n/a";

    public static string Money(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("N2", Invariant) : "n/a";

    /// <summary>Label/value pairs in two columns; returns the y below the table.</summary>
    public double Table(double left, double y, double width, (string Label, string Value)[] rows)
    {
        var column = width / 2;
        for (var i = 0; i < rows.Length; i++)
        {
            var x = left + (i % 2) * column;
            var rowY = y + (i / 2) * 13;
            Text(x, rowY, 9, rows[i].Label, color: (90, 90, 90));
            TextRight(x + column - 20, rowY, 9, rows[i].Value);
        }

        return y + (rows.Length + 1) / 2 * 13;
    }

    private readonly double _height = page.PageSize.Height;

    public double Width { get; } = page.PageSize.Width;

    /// <summary>Text whose top is at <paramref name="top"/>.</summary>
    public void Text(double x, double top, double size, string text, bool bold = false, (byte R, byte G, byte B)? color = null)
    {
        if (color is { } c)
        {
            page.SetTextAndFillColor(c.R, c.G, c.B);
        }

        page.AddText(text, size, new PdfPoint(x, _height - top - size), bold ? Bold : regular);
        if (color is not null)
        {
            page.SetTextAndFillColor(0, 0, 0);
        }
    }

    public void TextRight(double right, double top, double size, string text, (byte R, byte G, byte B)? color = null) =>
        Text(right - Measure(text, size), top, size, text, color: color);

    /// <summary>
    /// Text broken into lines no wider than <paramref name="width"/>: at spaces, and inside a word only when the word
    /// alone is wider than a line. Returns the height the lines took.
    /// </summary>
    public double Wrapped(double x, double top, double size, double width, string text, double lineGap)
    {
        var lines = new List<string>();
        var line = "";
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = line.Length == 0 ? word : line + " " + word;
            if (Measure(candidate, size) <= width)
            {
                line = candidate;
                continue;
            }

            if (line.Length > 0)
            {
                lines.Add(line);
            }

            line = word;
            while (Measure(line, size) > width && line.Length > 1)
            {
                var fits = 1;
                while (fits < line.Length && Measure(line[..(fits + 1)], size) <= width)
                {
                    fits++;
                }

                lines.Add(line[..fits]);
                line = line[fits..];
            }
        }

        if (line.Length > 0)
        {
            lines.Add(line);
        }

        for (var i = 0; i < lines.Count; i++)
        {
            Text(x, top + i * size * lineGap, size, lines[i]);
        }

        return Math.Max(1, lines.Count) * size * lineGap;
    }

    private double Measure(string text, double size)
    {
        var letters = page.MeasureText(text, size, new PdfPoint(0, 0), regular);
        return letters.Count > 0 ? letters[^1].EndBaseLine.X : 0;
    }

    private PdfDocumentBuilder.AddedFont Bold => bold;

    public void Stroke((byte R, byte G, byte B) color) => page.SetStrokeColor(color.R, color.G, color.B);

    public void Fill((byte R, byte G, byte B) color) => page.SetTextAndFillColor(color.R, color.G, color.B);

    public void Line((double X, double Y) from, (double X, double Y) to, double width) =>
        page.DrawLine(new PdfPoint(from.X, _height - from.Y), new PdfPoint(to.X, _height - to.Y), width);

    public void Triangle((double X, double Y) a, (double X, double Y) b, (double X, double Y) c) =>
        page.DrawTriangle(new PdfPoint(a.X, _height - a.Y), new PdfPoint(b.X, _height - b.Y), new PdfPoint(c.X, _height - c.Y), 0.1, fill: true);

    /// <summary>A filled rectangle whose top-left corner is (x, top).</summary>
    public void Rectangle(double x, double top, double width, double height) =>
        page.DrawRectangle(new PdfPoint(x, _height - top - height), width, height, 0.1, fill: true);

    public void Frame(PdfArea area)
    {
        Stroke((200, 200, 200));
        page.DrawRectangle(new PdfPoint(area.Left, _height - area.Bottom), area.Width, area.Height, 0.5, fill: false);
        Stroke((0, 0, 0));
    }
}
