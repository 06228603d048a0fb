using System.Text.Json;

namespace Backtesting.Tests.Api;

/// <summary>What the API ships with: read from the dependency manifest the build wrote next to these tests.</summary>
public sealed class DependencyTests
{
    /// <summary>Packages that must never be in the API's dependency graph, and why.</summary>
    public static TheoryData<string, string> Banned => new()
    {
        { "System.Drawing.Common", "4.7.0 carries CVE-2021-24112 (remote code execution); the xlsx export needs no drawing library" },
        { "ClosedXML", "its newest version on the feed pins System.Drawing.Common 4.7.0" },
    };

    [Theory]
    [MemberData(nameof(Banned))]
    public void A_banned_package_is_nowhere_in_the_dependency_graph(string package, string why)
    {
        var manifest = Path.Combine(AppContext.BaseDirectory, "Backtesting.Tests.Api.deps.json");
        using var deps = JsonDocument.Parse(File.ReadAllText(manifest));
        var libraries = deps.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name.Split('/')[0]).ToList();
        Assert.Contains(libraries, l => l == "MiniExcel"); // the manifest really lists packages
        Assert.DoesNotContain(libraries, l => string.Equals(l, package, StringComparison.OrdinalIgnoreCase));
        Assert.False(string.IsNullOrEmpty(why));
    }
}
