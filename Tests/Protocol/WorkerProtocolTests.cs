using System.Reflection;
using System.Text.RegularExpressions;
using Backtesting.Engine.Protocol;

namespace Backtesting.Tests.Protocol;

/// <summary>The worker protocol's one home: every exit code is listed, documented once, and the shared file names differ.</summary>
public sealed partial class WorkerProtocolTests
{
    private static int[] DefinedCodes() => typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(int)).Select(f => (int)f.GetRawConstantValue()!).Order().ToArray();

    [Fact]
    public void ExitCodes_All_lists_every_code_the_protocol_defines_in_numeric_order() =>
        Assert.Equal(DefinedCodes(), ExitCodes.All);

    [Fact]
    public void The_worker_docs_describe_exactly_the_defined_exit_codes()
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "worker.md"));
        var section = doc[doc.IndexOf("## Exit codes", StringComparison.Ordinal)..];
        section = section[..(section.IndexOf("\n## ", 3, StringComparison.Ordinal) is var next and > 0 ? next : section.Length)];
        var documented = TableRow().Matches(section).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        Assert.Equal(DefinedCodes(), documented);
    }

    [Fact]
    public void The_shared_file_names_are_distinct_plain_names()
    {
        var names = typeof(WorkerFiles).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToArray();

        Assert.NotEmpty(names);
        Assert.Equal(names.Length, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(names, n => Assert.Equal(Path.GetFileName(n), n));
    }

    [GeneratedRegex(@"^\| (\d+) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
