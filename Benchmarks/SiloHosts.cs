using System.Globalization;
using Backtesting.Tests.Cluster;

namespace Backtesting.Benchmarks;

/// <summary>
/// The silos of the scale benchmark: the real host (Silo/Program.cs, the built Backtesting.Silo.dll) started by the chaos
/// harness's <see cref="SiloProcesses.Launch"/> (Tests/Cluster, compiled in), each on a loopback address of its own
/// (127.0.0.2, 127.0.0.3, ...) as separate hosts would be, with the benchmark's settings and the host's defaults otherwise.
/// </summary>
internal static class SiloHosts
{
    /// <summary>The address of the <paramref name="index"/>-th silo (from 0): 127.0.0.2 on, never 127.0.0.1, always in 127.0.0.0/8.</summary>
    public static string Address(int index) => index is >= 0 and < 250
        ? string.Create(CultureInfo.InvariantCulture, $"127.0.0.{index + 2}")
        : throw new ArgumentOutOfRangeException(nameof(index), "at most 250 silos on the loopback range");

    /// <summary>
    /// The Silo's dll as the build left it beside this program's: Silo/bin/&lt;configuration&gt;/&lt;framework&gt;/ (run from
    /// its own folder, with its own dependencies).
    /// </summary>
    public static string SiloDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var dll = Path.Combine(RepositoryRoot.Find(), "Silo", "bin", configuration, framework, "Backtesting.Silo.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the Silo first (dotnet build Silo -c {configuration})", dll);
    }

    public static SiloProcess Start(int index, string connectionString, string clusterId, string logFolder, IReadOnlyDictionary<string, string> settings) =>
        SiloProcesses.Launch(SiloDll(), Address(index), connectionString, clusterId, logFolder, settings);
}
