using System.Diagnostics;
using Backtesting.Grains.Runners;
using Docker.DotNet;
using Microsoft.Extensions.Logging.Abstractions;
using Backtesting.Engine;

namespace Backtesting.Tests.Docker;

/// <summary>
/// The real Docker daemon the Docker tests use: the one ./test.sh started (DOCKER_HOST), or, when a test runs on
/// its own, the project's script started from here (daemon and worker image). Under CI=true the tests never
/// skip: an unavailable daemon fails them with the reason. Elsewhere they skip, saying why.
/// </summary>
public static class DockerTestEnvironment
{
    private static readonly Lazy<(string? Host, string? Reason)> Daemon = new(Locate);

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why Docker cannot be used here, or null when it can.</summary>
    public static string? Unavailable => Daemon.Value.Reason;

    /// <summary>The daemon's address; fails the test with the reason when there is none.</summary>
    public static string Host => Daemon.Value.Host
        ?? throw new InvalidOperationException("the Docker tests need a Docker daemon: " + Daemon.Value.Reason);

    public static DockerRunnerOptions Options(Action<DockerRunnerOptions>? change = null)
    {
        var options = new DockerRunnerOptions { Endpoint = Host, MemoryBytes = 256 * ByteSize.MiB };
        change?.Invoke(options);
        return options;
    }

    public static DockerRunner Runner(string serviceId, Action<DockerRunnerOptions>? change = null) =>
        new(Options(change), serviceId, NullLogger<DockerRunner>.Instance);

    public static DockerClient Client() => DockerRunner.CreateClient(new Uri(Host), TimeSpan.FromSeconds(30));

    /// <summary>Opens a folder to the container user exactly as the runner opens an attempt's folder.</summary>
    public static void PrepareFolder(string path) => AttemptFolder.Prepare(path, ContainerUser.Parse(Options().User));

    private static readonly Lazy<string> Probe = new(BuildProbeImage);

    /// <summary>
    /// The test-only probe image: the worker image plus a static busybox at /busybox (scripts/docker.sh,
    /// build_probe_image), so a test can run any command under the runner's sandbox. Built once per test run.
    /// </summary>
    public static string ProbeImage => Probe.Value;

    private static string BuildProbeImage()
    {
        var info = new ProcessStartInfo("bash", ["-c", "source scripts/docker.sh && build_probe_image >&2 && probe_image_tag"])
        {
            WorkingDirectory = TestPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["DOCKER_HOST"] = Host;
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || string.IsNullOrWhiteSpace(output))
        {
            throw new InvalidOperationException("scripts/docker.sh could not build the sandbox probe image: " + errors.Result);
        }

        return output.Trim().Split('\n')[^1];
    }

    private static (string?, string?) Locate()
    {
        // ./test.sh exports DOCKER_HOST after starting the daemon and building the image; a test run on its own
        // does the same through the script (idempotent: it reuses a running daemon and an up-to-date image).
        var script = "source scripts/docker.sh && start_docker >&2 && build_worker_image >&2 && echo \"$DOCKER_HOST\" || " +
                     "{ echo \"$DOCKER_UNAVAILABLE_REASON\" >&2; exit 1; }";
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host && Environment.GetEnvironmentVariable("BACKTESTING_WORKER_IMAGE_READY") == "1")
        {
            return (host, null);
        }

        if (Environment.GetEnvironmentVariable("BACKTESTING_DOCKER_UNAVAILABLE") is { Length: > 0 } known)
        {
            return (null, known); // ./test.sh tried already and said why
        }

        var info = new ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = TestPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || string.IsNullOrWhiteSpace(output))
        {
            var lines = errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return (null, "scripts/docker.sh could not provide a daemon and the worker image: " + string.Join(" | ", lines.TakeLast(3)));
        }

        return (output.Trim().Split('\n')[^1], null);
    }
}

/// <summary>
/// A test that needs the Docker daemon. Outside CI it is skipped, with the reason, when no daemon can run here;
/// under CI=true it always runs (and fails with the reason).
/// </summary>
public sealed class DockerFactAttribute : FactAttribute
{
    public DockerFactAttribute()
    {
        if (!DockerTestEnvironment.InCi && DockerTestEnvironment.Unavailable is { } reason)
        {
            Skip = "DOCKER TESTS SKIPPED (no Docker daemon here; CI=true would fail instead): " + reason;
        }
    }
}

/// <summary>A data-driven test that needs the Docker daemon, skipped or run as <see cref="DockerFactAttribute"/> says.</summary>
public sealed class DockerTheoryAttribute : TheoryAttribute
{
    public DockerTheoryAttribute()
    {
        if (!DockerTestEnvironment.InCi && DockerTestEnvironment.Unavailable is { } reason)
        {
            Skip = "DOCKER TESTS SKIPPED (no Docker daemon here; CI=true would fail instead): " + reason;
        }
    }
}
