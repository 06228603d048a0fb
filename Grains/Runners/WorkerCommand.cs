namespace Backtesting.Grains.Runners;

/// <summary>How to start the worker: an executable and leading arguments (e.g. dotnet and the worker's dll).</summary>
public sealed record WorkerCommand(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The worker's file name without extension: the apphost of a published worker, or the .dll beside it.</summary>
    public const string WorkerName = "Backtesting.Worker";

    /// <summary>The worker built next to this program (the silo references the Worker project), run by dotnet.</summary>
    public static WorkerCommand Default() => Dll(Path.Combine(AppContext.BaseDirectory, WorkerName + ".dll"));

    /// <summary>
    /// The command for the setting Backtesting:WorkerPath: empty means <see cref="Default"/>; a path ending in .dll
    /// is run by dotnet; any other file is run itself (a published worker's apphost, ReadyToRun-compiled by
    /// <c>publish_worker</c> in scripts/lib.sh). A relative path is taken from <paramref name="directory"/> (the
    /// current directory when the silo starts). A path that names no file fails at once, naming the setting, rather
    /// than failing every backtest later.
    /// </summary>
    public static WorkerCommand For(string? workerPath, string directory)
    {
        if (string.IsNullOrWhiteSpace(workerPath))
        {
            return Default();
        }

        var path = Path.GetFullPath(workerPath, directory);
        if (!File.Exists(path))
        {
            var what = Directory.Exists(path) ? "a folder, not the worker's file" : "no file";
            throw new FileNotFoundException(
                $"Backtesting:WorkerPath '{workerPath}' is {what}: set it to a published worker ({WorkerName}) or its {WorkerName}.dll, or leave it empty",
                path);
        }

        return path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? Dll(path) : new WorkerCommand(path, []);
    }

    private static WorkerCommand Dll(string path) => new("dotnet", [path]);
}
