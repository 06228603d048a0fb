using System.Diagnostics;

namespace Backtesting.Benchmarks;

internal static class SelfStart
{
    /// <summary>This program again: through the apphost, or through the dotnet host when started as <c>dotnet x.dll</c>.</summary>
    public static ProcessStartInfo Info()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program is running");
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SelfStart).Assembly.Location);
        }

        return start;
    }
}
