using Docker.DotNet.Models;

namespace Backtesting.Grains.Runners;

/// <summary>
/// The sandbox every worker container runs in, backtest or compile: the one place its settings are written.
/// It assumes the code inside is hostile and has already left the .NET sandbox (docs/docker.md, "The sandbox"):
/// a non-root user with no capabilities and no way to gain any, a read-only root, a small noexec /tmp, no network,
/// no IPC namespace shared with anything, memory, CPU, pids and file limits, an environment of four fixed
/// variables (and the runtime settings of its kind of run, <see cref="WorkerRuntimeSettings"/>), and only the market data (read-only), the attempt's own folder and, for a batch of a custom strategy, its
/// precompiled assembly (read-only) mounted.
/// </summary>
public static class DockerSandbox
{
    /// <summary>Where the container sees the attempt's output folder and the market data.</summary>
    public const string OutputMount = "/output";
    public const string DataMount = "/data";

    /// <summary>Where an optimization batch's precompiled custom strategy (compile.json and strategy.dll) is mounted, read-only.</summary>
    public const string PrecompiledMount = "/strategy";

    /// <summary>Where the bar cache is mounted, read-only, when the runner has one.</summary>
    public const string BarCacheMount = "/bar-cache";

    /// <summary>The working folder and HOME: the tmpfs, the only writable place besides /output.</summary>
    public const string TempMount = "/tmp";

    /// <summary>The container's host name: fixed, so it tells the code inside nothing (not even its container id).</summary>
    public const string HostName = "worker";

    /// <summary>Open files per process (soft and hard): the worker needs a few dozen.</summary>
    public const long OpenFilesLimit = 1024;

    /// <summary>
    /// The kernel's out-of-memory score adjustment: when the host itself runs out of memory, a worker is killed
    /// before the silo, the daemon or the database.
    /// </summary>
    public const long OomScoreAdjustment = 1000;

    /// <summary>
    /// The whole environment of a worker container (Docker adds HOSTNAME = <see cref="HostName"/>, nothing else,
    /// since PATH and HOME are set here). No host variable, connection string or secret is ever passed on.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        // No diagnostics IPC socket (and no debugger or profiler attach) inside a sandbox.
        ["DOTNET_EnableDiagnostics"] = "0",
        ["HOME"] = TempMount,
        // The worker starts no programs; PATH names only its own folder.
        ["PATH"] = "/app",
    };

    /// <summary>
    /// The variables a process in a worker container sees: <see cref="Environment"/>, the runtime settings of its kind
    /// of run (<see cref="WorkerRuntimeSettings"/>, for a <paramref name="batch"/> or a backtest) and HOSTNAME.
    /// </summary>
    public static IReadOnlyDictionary<string, string> VisibleEnvironment(bool batch) =>
        new Dictionary<string, string>(EnvironmentOf(batch)) { ["HOSTNAME"] = HostName };

    /// <summary>The environment a container is created with: <see cref="Environment"/> and the kind's runtime settings.</summary>
    private static Dictionary<string, string> EnvironmentOf(bool batch)
    {
        var all = new Dictionary<string, string>(Environment);
        foreach (var (name, value) in WorkerRuntimeSettings.For(batch))
        {
            all.Add(name, value);
        }

        return all;
    }

    /// <summary>The container for one worker command. Bind sources are paths as the daemon's host sees them.</summary>
    /// <param name="memoryBytes">The memory limit; swap is not allowed on top of it.</param>
    /// <param name="cpus">
    /// The CPU limit in cores; null: <see cref="DockerRunnerOptions.Cpus"/>. At most this host's cores (the daemon refuses
    /// a limit above its own).
    /// </param>
    /// <param name="batch">The container runs a batch of an optimization job (its runtime settings differ).</param>
    public static CreateContainerParameters Container(DockerRunnerOptions options, string name, IList<string> command,
        IDictionary<string, string> labels, long memoryBytes, string dataOnHost, string outputOnHost, double? cpus = null,
        string? precompiledOnHost = null, bool batch = false)
    {
        string[] barCache = string.IsNullOrEmpty(options.BarCacheDirectoryOnHost) ? [] : [$"{options.BarCacheDirectoryOnHost}:{BarCacheMount}:ro"];
        string[] precompiled = precompiledOnHost is null ? [] : [$"{precompiledOnHost}:{PrecompiledMount}:ro"];
        var user = ContainerUser.Parse(options.User);
        return new CreateContainerParameters
        {
            Image = options.Image,
            Name = name,
            Cmd = command,
            User = user.ToString(),
            WorkingDir = TempMount,
            Hostname = HostName,
            Env = EnvironmentOf(batch).Select(v => $"{v.Key}={v.Value}").ToList(),
            Labels = labels,
            NetworkDisabled = true,
            AttachStdin = false,
            OpenStdin = false,
            Tty = false,
            HostConfig = new HostConfig
            {
                NetworkMode = "none",
                // No /dev/shm and no IPC namespace shared with the host or another container.
                IpcMode = "none",
                Privileged = false,
                ReadonlyRootfs = true,
                // Owned by the container user: Docker would otherwise copy the image's root-owned /tmp's owner onto it.
                Tmpfs = new Dictionary<string, string>
                {
                    [TempMount] = $"rw,noexec,nosuid,nodev,size={options.TmpfsSize},uid={user.Uid},gid={user.Gid},mode=0700",
                },
                CapDrop = ["ALL"],
                // Docker's default seccomp profile, masked and read-only /proc and /sys paths stay as they are.
                SecurityOpt = ["no-new-privileges"],
                Memory = memoryBytes,
                MemorySwap = memoryBytes, // no swap: over the limit is an OOM kill, which the grain answers with more memory
                NanoCPUs = (long)((cpus is { } limit ? Math.Min(limit, System.Environment.ProcessorCount) : options.Cpus) * 1_000_000_000),
                // Per container (its cgroup): a fork bomb stops here. RLIMIT_NPROC is not used, since the kernel counts
                // it per uid across the whole host, so every worker container shares it.
                PidsLimit = options.PidsLimit,
                OomScoreAdj = OomScoreAdjustment,
                Ulimits =
                [
                    new Ulimit { Name = "nofile", Soft = OpenFilesLimit, Hard = OpenFilesLimit },
                    new Ulimit { Name = "core", Soft = 0, Hard = 0 },
                ],
                Devices = [],
                Binds =
                [
                    $"{dataOnHost}:{DataMount}:ro",
                    $"{outputOnHost}:{OutputMount}:rw",
                    .. barCache,
                    .. precompiled,
                ],
                // No AutoRemove: the exit code and the OOM flag are read by inspect before the container goes.
                AutoRemove = false,
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
            },
        };
    }
}
