using Backtesting.Engine;

namespace Backtesting.Grains.Runners;

/// <summary>The Docker runner's settings (section "Backtesting:Docker" of the silo's configuration).</summary>
public sealed class DockerRunnerOptions
{
    /// <summary>The daemon's address, e.g. unix:///var/run/docker.sock; empty: DOCKER_HOST, else the default socket.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>The worker image; scripts/docker.sh builds it with this tag (the project version).</summary>
    public string Image { get; set; } = DefaultImage;

    /// <summary>The first attempt's memory limit; an attempt killed for memory is retried with twice as much.</summary>
    public long MemoryBytes { get; set; } = DefaultMemoryBytes;

    /// <summary>The most memory a retry may get: an attempt OOM-killed at this limit fails the backtest (errorType memory).</summary>
    public long MaxMemoryBytes { get; set; } = DefaultMaxMemoryBytes;

    /// <summary>CPU limit in cores (a backtest is single-threaded: one core is what it can use).</summary>
    public double Cpus { get; set; } = 1.0;

    public long PidsLimit { get; set; } = 128;

    /// <summary>The size of the container's writable /tmp (tmpfs); everything else but the output folder is read-only.</summary>
    public string TmpfsSize { get; set; } = "64m";

    /// <summary>The non-root user the worker runs as (uid:gid); the image's passwd names it "worker".</summary>
    public string User { get; set; } = "10001:10001";

    /// <summary>
    /// When the daemon cannot be reached as the silo starts, run backtests on the local process runner instead of
    /// failing them. Off by default: a sandbox that silently disappears is not a sandbox.
    /// </summary>
    public bool FallbackToProcess { get; set; }

    /// <summary>
    /// Where the daemon sees the silo's work folder, when the silo itself runs in a container (bind-mount sources
    /// are paths of the daemon's host); empty: the same path.
    /// </summary>
    public string WorkDirectoryOnHost { get; set; } = "";

    /// <summary>Where the daemon sees the market data folder; empty: the same path as the silo's.</summary>
    public string DataDirectoryOnHost { get; set; } = "";

    /// <summary>
    /// Where the daemon sees the bar cache folder (docs/data.md). When set, every container mounts it read-only and
    /// the silo builds the entries a run needs before starting its container; empty (the default): containers read
    /// the zips.
    /// </summary>
    public string BarCacheDirectoryOnHost { get; set; } = "";

    /// <summary>Where the silo itself writes that folder, when it runs in a container; empty: <see cref="BarCacheDirectoryOnHost"/>.</summary>
    public string BarCacheDirectory { get; set; } = "";

    /// <summary>How long a request to the daemon may take before it counts as unreachable.</summary>
    public TimeSpan DaemonTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A daemon that answered this silo less than this long ago, or has not answered a silo started less than this long
    /// ago (a silo started while its daemon restarts), and does not answer now is restarting: a run that cannot start is
    /// tried again shortly instead of failing (<see cref="DockerDaemonErrors.Unanswered"/>). Past it, the daemon is
    /// unavailable and the run fails with a clear error; zero fails at once.
    /// </summary>
    public TimeSpan DaemonRestartGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A container that ended by a signal nobody asked for, or whose worker stopped itself on SIGTERM, while its daemon
    /// stopped answering within this long of the end, died with its daemon (a stopping daemon stops its containers first):
    /// the run was interrupted, retried without counting as an attempt (<see cref="DockerDaemonErrors.EndedWithDaemon"/>).
    /// Such an end is reported this long after it at most, while the daemon is watched; zero never waits.
    /// </summary>
    public TimeSpan DaemonStopWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The default first memory limit: 512 MiB.</summary>
    public const long DefaultMemoryBytes = 512 * ByteSize.MiB;

    /// <summary>The default memory cap of a retry: 4 GiB.</summary>
    public const long DefaultMaxMemoryBytes = 4096 * ByteSize.MiB;

    /// <summary>backtesting-worker:&lt;project version&gt;, the tag scripts/docker.sh builds.</summary>
    public static string DefaultImage => "backtesting-worker:" + ProjectVersion;

    /// <summary>The project version (Directory.Build.props), which tags the worker image.</summary>
    public static string ProjectVersion
    {
        get
        {
            var version = typeof(DockerRunnerOptions).Assembly.GetName().Version ?? new Version(0, 0, 0);
            return $"{version.Major}.{version.Minor}.{version.Build}";
        }
    }
}
