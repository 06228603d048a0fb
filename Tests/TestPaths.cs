namespace Backtesting.Tests;

/// <summary>Locates the bundled data by walking up from the test binaries to the repository.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The repository folder that holds <c>data/lean</c>.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>The bundled LEAN sample data: <c>&lt;repo&gt;/data/lean</c>.</summary>
    public static string LeanData => Path.Combine(Root.Value, "data", "lean");

    public static string Lean(params string[] parts) => Path.Combine([LeanData, .. parts]);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "data", "lean")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No folder containing data/lean above {AppContext.BaseDirectory}");
    }
}

/// <summary>A temporary folder deleted at the end of a test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backtesting-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
