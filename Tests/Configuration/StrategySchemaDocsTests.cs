using System.Globalization;
using System.Text.RegularExpressions;
using Backtesting.Engine.Strategies;

namespace Backtesting.Tests.Configuration;

/// <summary>
/// The parameter schema is the one source: the table of templates in docs/configuration.md must say what the
/// schema says (every template, every parameter, its default, and its range where it has one).
/// </summary>
public partial class StrategySchemaDocsTests
{
    [GeneratedRegex(@"^\| `(?<name>\w+)` \| (?<params>.*) \|$", RegexOptions.Multiline)]
    private static partial Regex TemplateRow();

    [Fact]
    public void The_configuration_docs_list_every_template_parameter_with_its_schema()
    {
        var docs = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "configuration.md"));
        var rows = TemplateRow().Matches(docs).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["params"].Value);
        foreach (var template in StrategyCatalog.Templates.All)
        {
            Assert.True(rows.TryGetValue(template.Name, out var row), $"docs/configuration.md has no row for {template.Name}");
            if (template.Parameters.Count == 0)
            {
                Assert.Equal("none", row);
                continue;
            }

            foreach (var parameter in template.Parameters)
            {
                var entry = Regex.Match(row, $@"`{parameter.Name}` \((?<inside>[^)]*)\)");
                Assert.True(entry.Success, $"{template.Name}: the docs do not list {parameter.Name}");
                var inside = entry.Groups["inside"].Value;
                var shown = parameter.Default switch
                {
                    bool b => b ? "true" : "false",
                    string text when parameter.Allowed is { Count: > 0 } => string.Join(" or ", parameter.Allowed.Select(a => $"`{a}`")),
                    IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                    var other => other?.ToString() ?? "",
                };
                Assert.True(inside.StartsWith(shown, StringComparison.Ordinal), $"{template.Name}.{parameter.Name}: docs say '{inside}', schema default {shown}");
                Assert.Equal(parameter.Required, inside.Contains("required", StringComparison.Ordinal));
                if (parameter.Min is { } min && parameter.Max is { } max && parameter.Type != "boolean" && parameter.Allowed is null)
                {
                    var range = $"{min.ToString(CultureInfo.InvariantCulture)}–{max.ToString(CultureInfo.InvariantCulture)}";
                    Assert.True(inside.Contains(range, StringComparison.Ordinal), $"{template.Name}.{parameter.Name}: docs lack the range {range}");
                }
            }
        }
    }
}
