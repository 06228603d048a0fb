using Backtesting.Engine.Data;
using Backtesting.Engine.Data.Lean;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Data;

namespace Backtesting.Tests.Docker;

/// <summary>
/// The Docker runner's bar cache, without a daemon: the container mounts the cache read-only only when the setting
/// is given, and the silo's prebuild leaves valid entries for the config's instruments (custom strategies included).
/// </summary>
public sealed class DockerBarCacheTests
{
    private static IList<string> Binds(DockerRunnerOptions options) =>
        DockerSandbox.Container(options, "c", ["--help"], new Dictionary<string, string>(), 256 * 1024 * 1024, "/host/data", "/host/out")
            .HostConfig!.Binds!;

    [Fact]
    public void The_cache_is_mounted_read_only_only_when_set()
    {
        Assert.DoesNotContain(Binds(new DockerRunnerOptions()), b => b.Contains(DockerSandbox.BarCacheMount, StringComparison.Ordinal));
        var binds = Binds(new DockerRunnerOptions { BarCacheDirectoryOnHost = "/host/cache" });
        Assert.Contains($"/host/cache:{DockerSandbox.BarCacheMount}:ro", binds);
        Assert.Contains($"/host/data:{DockerSandbox.DataMount}:ro", binds);
    }

    [Theory]
    [InlineData("MovingAverageCross")]
    [InlineData("MyUploadedStrategy")]
    public void Prebuild_leaves_valid_entries_for_the_configs_instruments(string strategyClass)
    {
        using var temp = new TempFolder();
        var data = Path.Combine(temp.Path, "lean");
        var cache = Path.Combine(temp.Path, "cache");
        SyntheticLeanMinutes.Generate(TestPaths.LeanData, data, new DateOnly(2020, 3, 2), new DateOnly(2020, 3, 6), seed: 3);
        var config = $$$"""
            {"strategyClass":"{{{strategyClass}}}","startDate":"2020-03-02","endDate":"2020-03-06","instruments":["SPY"],
             "initialBalance":100000,"dataConfiguration":{"resolution":"minute","adjustment":"raw"}}
            """;
        using var builds = new BuildCounter(cache);

        Assert.Equal(1, BarCachePrebuild.Run(data, cache, config));
        Assert.Equal(1, builds.Count);

        // What the container then does: read-only, it finds the entry valid and builds nothing.
        var readOnly = new LeanDataProvider(data, new LeanDataProviderOptions(cache, BarCacheReadOnly: true));
        var zips = new LeanDataProvider(data);
        Assert.True(zips.Catalog.TryResolve("SPY", out var spy));
        var request = new DataRequest(Resolution.Minute, DataType.Bars, PriceAdjustment.Raw, new DateOnly(2020, 3, 2), new DateOnly(2020, 3, 6));
        BarCacheTestKit.AssertIdentical(BarCacheTestKit.Read(zips, spy, request), BarCacheTestKit.Read(readOnly, spy, request), "prebuilt");
        Assert.Equal(1, BarCachePrebuild.Run(data, cache, config));
        Assert.Equal(1, builds.Count);
    }

    [Fact]
    public void Prebuild_skips_what_it_cannot_cache()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, BarCachePrebuild.Run(TestPaths.LeanData, temp.Path, "not json"));
        Assert.Equal(0, BarCachePrebuild.Run(TestPaths.LeanData, temp.Path,
            """{"strategyClass":"MovingAverageCross","instruments":["SPY"],"dataConfiguration":{"resolution":"tick","dataType":"ticks"}}"""));
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }
}
