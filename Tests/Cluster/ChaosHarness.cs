using System.Globalization;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// What the chaos test and the chaos benchmark (<c>Benchmarks -- chaos</c>, which compiles this file in) share beside
/// <see cref="SiloProcesses"/> and <see cref="OwnPostgres"/>: calls retried while the cluster settles after a kill, an
/// idempotent submit, the worker processes a run's silos left, and the kill-9-and-replace of a silo.
/// </summary>
internal static class ChaosHarness
{
    /// <summary>Submits; an earlier try whose answer was lost with its silo may have been accepted already.</summary>
    public static async Task Submit(IClusterClient client, Guid id, BacktestSubmission submission)
    {
        try
        {
            await client.GetGrain<IBacktestGrain>(id).Submit(submission);
        }
        catch (IllegalTransitionException e) when (e.Current != BacktestState.Created)
        {
            // Accepted by an earlier try whose answer was lost with its silo.
        }
    }

    public static Task Retry(Func<Task> call) => Retry(async () =>
    {
        await call();
        return true;
    });

    /// <summary>Calls again while the cluster is still settling after a kill (a dead silo not yet declared dead).</summary>
    public static async Task<T> Retry<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                return await call().WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (Exception e) when (e is not (IllegalTransitionException or KeyNotFoundException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>kill -9 of <paramref name="victim"/> (its process only: its workers are orphaned as by a crash), then a replacement.</summary>
    public static async Task<SiloProcess> KillAndReplace(List<SiloProcess> silos, SiloProcess victim, Func<SiloProcess> start)
    {
        victim.Process.Kill(entireProcessTree: false);
        await victim.Process.WaitForExitAsync();
        silos.Remove(victim);
        victim.Dispose();
        var replacement = start();
        silos.Add(replacement);
        return replacement;
    }

    /// <summary>Processes whose command line names the given folder: the workers this run's silos started.</summary>
    public static List<int> WorkersUnder(string folder)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(folder, StringComparison.Ordinal) && !commandLine.Contains("Backtesting.Silo", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours.
            }
        }

        return found;
    }
}
