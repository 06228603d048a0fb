using System.Text.Json;
using System.Text.RegularExpressions;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Metrics;

namespace Backtesting.Tests.Metrics;

/// <summary>
/// The dashboard explains each metric (Web/src/components/metricDefinitions.ts: label, meaning, formula): every
/// figure the engine reports has exactly one explanation there, or is listed as a figure of the run's set-up, and
/// nothing there names a figure the engine does not report.
/// </summary>
public sealed partial class MetricExplanationTests
{
    [GeneratedRegex(@"^export const METRICS: MetricDefinition\[\] = \[(?<body>.*?)^\];", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex MetricsArray();

    [GeneratedRegex(@"^export const RUN_SETUP_FIGURES = \[(?<body>[^\]]*)\];", RegexOptions.Multiline)]
    private static partial Regex SetUpArray();

    [GeneratedRegex(@"\{\s*name: '(?<name>\w+)'")]
    private static partial Regex ExplainedName();

    [GeneratedRegex(@"'(?<name>\w+)'")]
    private static partial Regex Word();

    private static readonly string Source =
        File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "Web", "src", "components", "metricDefinitions.ts"));

    /// <summary>The figures of a metrics record on the wire, by their JSON names.</summary>
    private static readonly string[] Reported =
        JsonSerializer.SerializeToElement(new PerformanceMetrics(), JsonDefaults.Options).EnumerateObject().Select(p => p.Name).ToArray();

    private static string[] Explained() => Names(MetricsArray(), ExplainedName());

    private static string[] SetUp() => Names(SetUpArray(), Word());

    private static string[] Names(Regex array, Regex name)
    {
        var match = array.Match(Source);
        Assert.True(match.Success, $"metricDefinitions.ts: {array} found nothing");
        return name.Matches(match.Groups["body"].Value).Select(m => m.Groups["name"].Value).ToArray();
    }

    [Fact]
    public void Every_figure_the_engine_reports_is_explained_once_or_is_a_set_up_figure()
    {
        Assert.True(Reported.Length >= 30, $"only {Reported.Length} figures reported");
        var named = Explained().Concat(SetUp()).ToList();
        foreach (var figure in Reported)
        {
            Assert.True(named.Count(n => n == figure) == 1, $"{figure} is named {named.Count(n => n == figure)} times in metricDefinitions.ts");
        }
    }

    [Fact]
    public void No_explanation_names_a_figure_the_engine_does_not_report()
    {
        Assert.Empty(Explained().Concat(SetUp()).Except(Reported));
    }
}
