namespace Backtesting.Engine.Data;

/// <summary>Finds the market data folder (LEAN layout: equity/, forex/, market-hours/, custom/ ...): an explicit
/// path, else BACKTESTING_DATA, else <c>data/lean</c> beside the program or above the working directory (a checkout).</summary>
public static class DataRoot
{
    public const string EnvironmentVariable = "BACKTESTING_DATA";

    public static string? Locate(string? explicitPath = null)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return Directory.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : null;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "data", "lean");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
