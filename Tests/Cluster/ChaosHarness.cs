using System.Diagnostics;
using System.Globalization;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// What the chaos test and the chaos benchmark (<c>Benchmarks -- chaos</c>, which compiles this file in) share beside
/// <see cref="SiloProcesses"/>, <see cref="OwnPostgres"/> and <see cref="ChaosInvariants"/>: calls retried while the cluster
/// settles after a kill, an idempotent submit, the worker processes a run's silos left, the kill-9-and-replace of a silo, and
/// the Docker daemon's restart.
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

    /// <summary>
    /// Submits an optimization job; an earlier try whose answer did not come in time (a silo killed, a loaded host) may have
    /// been accepted already, and the job has moved on from Created since.
    /// </summary>
    public static async Task SubmitJob(IClusterClient client, Guid id, OptimizationSubmission submission)
    {
        try
        {
            await client.GetGrain<IOptimizationGrain>(id).Submit(submission);
        }
        catch (IllegalOptimizationMoveException e) when (e.Current != OptimizationState.Created)
        {
            // Accepted by an earlier try whose answer was lost or late.
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

    /// <summary>Runs the docker command line (against DOCKER_HOST) and returns its output.</summary>
    public static async Task<string> Docker(params string[] arguments)
    {
        var info = new ProcessStartInfo("docker", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await output;
    }

    /// <summary>
    /// Restarts the Docker daemon this checkout started (scripts/docker.sh: stop_docker, then, once its process is gone,
    /// start_docker on the same socket), running the script from <paramref name="root"/>.
    /// </summary>
    public static async Task RestartDocker(string root)
    {
        var pidFile = DockerPidFile(root);
        var pid = File.Exists(pidFile) ? (await File.ReadAllTextAsync(pidFile)).Trim() : "";
        await Bash(root, "source scripts/docker.sh && stop_docker >&2");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (pid.Length > 0 && Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        await StartDocker(root);
    }

    /// <summary>Starts this checkout's Docker daemon (scripts/docker.sh's start_docker: nothing to do when it answers).</summary>
    public static Task StartDocker(string root) => Bash(root, "source scripts/docker.sh && start_docker >&2");

    /// <summary>Where scripts/docker.sh keeps the pid of the daemon it started for the checkout at <paramref name="root"/>.</summary>
    public static string DockerPidFile(string root) => Path.Combine(root, ".state", "docker", "dockerd.pid");

    private static async Task Bash(string root, string script)
    {
        var info = new ProcessStartInfo("bash", ["-c", script]) { WorkingDirectory = root };
        using var process = Process.Start(info)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{script}' exited {process.ExitCode}");
        }
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
