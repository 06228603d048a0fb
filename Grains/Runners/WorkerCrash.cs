namespace Backtesting.Grains.Runners;

/// <summary>
/// Reads a dead worker's stderr for a fault no retry gets past. .NET cannot catch a stack overflow: the runtime
/// prints "Stack overflow." and the frames, and aborts the process (exit code 134). A strategy that recurses without
/// end does it again from any checkpoint, so the run fails at once, naming the method, instead of being retried.
/// </summary>
public static class WorkerCrash
{
    private const string StackOverflow = "Stack overflow.";

    /// <summary>The fault's description for the backtest's error, or null when the death is not one of these.</summary>
    public static string? Fatal(int exitCode, string stderr)
    {
        if (exitCode == 0)
        {
            return null;
        }

        var start = stderr.LastIndexOf(StackOverflow, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        // The first frame printed is the innermost: the method that kept calling itself.
        var frame = stderr[start..].Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("at ", StringComparison.Ordinal));
        var where = frame is null ? "" : " in " + frame[3..];
        return $"the run overflowed its stack{where} (unbounded recursion?). .NET cannot recover from that: the worker " +
            $"process died (exit code {exitCode}), and a retry would reach the same recursion";
    }
}
