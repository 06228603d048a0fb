using Backtesting.Api.Exports;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Tests;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;

namespace Backtesting.Tests.Api;

/// <summary>The PDF report's layout, read back with PdfPig: every word stays on the page, and no two words overlap.</summary>
public sealed class PdfReportTests
{
    private const double Margin = 40;

    // One real run: SPY and AAPL daily, 2018-2019; the cases below only change the names it is reported under.
    private static readonly Lazy<BacktestResult> RealResult = new(() =>
    {
        var data = new LeanDataProvider(TestPaths.LeanData);
        var (config, parseErrors) = ConfigValidator.Parse("""
            {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
             "startDate":"2018-01-01","endDate":"2019-12-31","instruments":["SPY","AAPL"],"initialBalance":100000,
             "riskSettings":{"positionSizing":{"mode":"percentEquity","percent":0.45}}}
            """);
        Assert.Empty(parseErrors);
        var validation = ConfigValidator.Validate(config!, data, StrategyCatalog.Templates, ValidationPolicy.Service, new DateOnly(2026, 11, 24));
        Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => e.Message)));
        return new BacktestRun(validation.Spec!, data, StrategyCatalog.Templates).Execute();
    });

    public static TheoryData<string, string[]> InstrumentLists => new()
    {
        { "the run's own two instruments", ["SPY.ARCA", "AAPL.NASDAQ"] },
        { "fifty instruments", Enumerable.Range(1, 50).Select(i => $"SYMBOL{i:00}.NASDAQ").ToArray() },
        { "one id longer than a line", [new string('X', 300) + ".VENUE"] },
    };

    [Theory]
    [MemberData(nameof(InstrumentLists))]
    public void Every_word_stays_within_the_margins_and_no_two_words_overlap(string why, string[] instruments)
    {
        var result = RealResult.Value with { Summary = RealResult.Value.Summary with { Instruments = instruments } };
        using var pdf = PdfDocument.Open(PdfReport.Render(Guid.NewGuid(), result));
        Assert.Equal(2, pdf.NumberOfPages);
        foreach (var page in pdf.GetPages())
        {
            var words = page.GetWords().Where(w => !string.IsNullOrWhiteSpace(w.Text)).ToList();
            foreach (var word in words)
            {
                var box = word.BoundingBox;
                Assert.True(box.Left >= Margin - 0.5 && box.Right <= page.Width - Margin + 0.5 && box.Bottom >= 0 && box.Top <= page.Height,
                    $"{why}: page {page.Number}: '{Short(word)}' at {box} leaves the margins");
            }

            for (var i = 0; i < words.Count; i++)
            {
                for (var j = i + 1; j < words.Count; j++)
                {
                    Assert.False(Overlap(words[i], words[j]),
                        $"{why}: page {page.Number}: '{Short(words[i])}' {words[i].BoundingBox} overlaps '{Short(words[j])}' {words[j].BoundingBox}");
                }
            }
        }

        var first = pdf.GetPage(1).GetWords().Select(w => w.Text).ToList();
        Assert.Contains("Equity", first);
        Assert.Contains("Drawdown", first);
        Assert.Contains(instruments[^1][^6..], string.Concat(first), StringComparison.Ordinal);
    }

    private static bool Overlap(Word a, Word b)
    {
        const double Tolerance = 0.25;
        var (x, y) = (a.BoundingBox, b.BoundingBox);
        return x.Left < y.Right - Tolerance && y.Left < x.Right - Tolerance && x.Bottom < y.Top - Tolerance && y.Bottom < x.Top - Tolerance;
    }

    private static string Short(Word word) => word.Text.Length <= 24 ? word.Text : word.Text[..24] + "…";
}
