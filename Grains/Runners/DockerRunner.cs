using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Runners;

/// <summary>
/// Runs each attempt of a backtest in its own container of the worker image, under <see cref="DockerSandbox"/>: no
/// network, a read-only root with a small tmpfs /tmp, a non-root user, no capabilities, no new privileges, and
/// memory, CPU and pids limits. The market data is mounted read-only, the attempt's folder (config and output)
/// read-write. One <see cref="DockerContainerHandle"/> follows each container: progress comes from its log stream
/// (<see cref="DockerLogSplitter"/>), resource usage from its stats stream (<see cref="DockerStatsSampler"/>).
/// Compiling a custom strategy runs in the same sandbox (<c>DockerRunner.Compile.cs</c>).
/// </summary>
public sealed partial class DockerRunner : IBacktestRunner, IDisposable
{
    public const string BacktestLabel = "backtesting.backtest-id";
    public const string AttemptLabel = "backtesting.attempt";
    public const string ServiceLabel = "backtesting.service-id";
    /// <summary>What a container runs: <see cref="BatchKind"/> for an optimization batch; a backtest's carries none.</summary>
    public const string KindLabel = "backtesting.kind";
    public const string BatchKind = "optimization-batch";

    private readonly DockerClient _client;
    private readonly DockerRunnerOptions _options;
    private readonly ContainerUser _user;
    private readonly ILogger _log;
    /// <summary>When the daemon last answered this runner (<see cref="Environment.TickCount64"/>; 0: never).</summary>
    private long _answeredAt;
    /// <summary>When this runner was created, with its silo (<see cref="Environment.TickCount64"/>).</summary>
    private readonly long _startedAt = Environment.TickCount64;

    public DockerRunner(DockerRunnerOptions options, string serviceId, ILogger<DockerRunner> log)
    {
        _options = options;
        _user = ContainerUser.Parse(options.User);
        ServiceId = serviceId;
        _log = log;
        Endpoint = ResolveEndpoint(options);
        _client = CreateClient(Endpoint, options.DaemonTimeout);
    }

    public string Kind => "docker";

    /// <summary>The cluster's service id: containers of this service carry it, others are never touched.</summary>
    public string ServiceId { get; }

    public Uri Endpoint { get; }

    /// <summary>The silo's work folder (set by the silo setup), to translate paths for a daemon that sees another file system.</summary>
    public string? WorkDirectory { get; set; }

    public static Uri ResolveEndpoint(DockerRunnerOptions options)
    {
        var configured = !string.IsNullOrEmpty(options.Endpoint) ? options.Endpoint
            : Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } fromEnvironment ? fromEnvironment
            : "unix:///var/run/docker.sock";
        return new Uri(configured);
    }

    public static DockerClient CreateClient(Uri endpoint, TimeSpan timeout) =>
        new DockerClientBuilder().WithEndpoint(endpoint).WithTimeout(timeout).Build();

    /// <summary>Whether the daemon answers; the reason when it does not.</summary>
    public async Task<string?> CheckDaemonAsync(CancellationToken cancellation = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(_options.DaemonTimeout);
            await _client.System.PingAsync(timeout.Token).ConfigureAwait(false);
            Answered();
            return null;
        }
        catch (Exception e) when (DockerDaemonErrors.IsUnreachable(e))
        {
            return DockerDaemonErrors.Unreachable(Endpoint, e);
        }
    }

    public async Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
    {
        try
        {
            if (await ReattachAsync(request, cancellation).ConfigureAwait(false) is { } reattached)
            {
                return reattached;
            }

            // The worker runs as a non-root user that owns nothing on the host but the attempt's folder.
            AttemptFolder.Prepare(request.OutputDirectory, _user);
            RunChannels.PrepareOutput(request);

            var arguments = RunChannels.WorkerArguments(request, DockerSandbox.OutputMount, DockerSandbox.DataMount);
            if (string.IsNullOrEmpty(_options.BarCacheDirectoryOnHost))
            {
                arguments.AddRange(["--bar-cache", "off"]);
            }
            else
            {
                var cache = string.IsNullOrEmpty(_options.BarCacheDirectory) ? _options.BarCacheDirectoryOnHost : _options.BarCacheDirectory;
                await Task.Run(() => BarCachePrebuild.Run(request.DataDirectory, cache, request.ConfigJson), cancellation).ConfigureAwait(false);
                arguments.AddRange(["--bar-cache", DockerSandbox.BarCacheMount, "--bar-cache-read-only"]);
            }

            var parameters = ContainerFor(request, arguments);
            var created = await _client.Containers.CreateContainerAsync(parameters, cancellation).ConfigureAwait(false);
            var handle = new DockerContainerHandle(_client, created.ID, request.OutputDirectory, reattached: false, _log,
                _options.DaemonStopWindow);
            await _client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellation).ConfigureAwait(false);
            Answered();
            handle.Follow(since: null, request.MaxLineBytes);
            return handle;
        }
        catch (DockerImageNotFoundException e)
        {
            Answered();
            throw DockerDaemonErrors.ImageMissing(_options.Image, Endpoint, e);
        }
        catch (Exception e) when (DockerDaemonErrors.IsUnreachable(e))
        {
            throw DockerDaemonErrors.Unanswered(Endpoint, e, SinceAnswered, TimeSpan.FromMilliseconds(Environment.TickCount64 - _startedAt),
                _options.DaemonRestartGrace);
        }
    }

    private void Answered() => Interlocked.Exchange(ref _answeredAt, Environment.TickCount64);

    /// <summary>How long ago the daemon last answered; null when it never did.</summary>
    private TimeSpan? SinceAnswered
    {
        get
        {
            var at = Interlocked.Read(ref _answeredAt);
            return at > 0 ? TimeSpan.FromMilliseconds(Environment.TickCount64 - at) : null;
        }
    }

    /// <summary>
    /// The container one attempt runs in. Public so that tests and diagnostics can run a different command under
    /// exactly the same sandbox.
    /// </summary>
    public CreateContainerParameters ContainerFor(RunRequest request, IList<string> command) =>
        DockerSandbox.Container(_options,
            $"backtest-{request.BacktestId:N}-{request.Attempt}-{Guid.NewGuid().ToString("N")[..6]}",
            command,
            new Dictionary<string, string>
            {
                [BacktestLabel] = request.BacktestId.ToString(),
                [AttemptLabel] = request.Attempt.ToString(CultureInfo.InvariantCulture),
                [ServiceLabel] = ServiceId,
                [KindLabel] = request.BatchJson is null ? "backtest" : BatchKind,
            },
            request.MemoryLimitBytes ?? _options.MemoryBytes,
            OnHost(request.DataDirectory, _options.DataDirectoryOnHost, null),
            OnHost(request.OutputDirectory, _options.WorkDirectoryOnHost, WorkDirectory),
            request.Cpus,
            // The precompiled strategy the silo wrote into the attempt folder, mounted read-only on its own.
            request.StrategyAssembly is null ? null
                : OnHost(Path.Combine(request.OutputDirectory, Engine.Protocol.WorkerFiles.PrecompiledStrategy), _options.WorkDirectoryOnHost, WorkDirectory),
            batch: request.BatchJson is not null);

    private static string OnHost(string path, string hostRoot, string? siloRoot)
    {
        if (string.IsNullOrEmpty(hostRoot))
        {
            return path;
        }

        if (siloRoot is null)
        {
            return hostRoot; // the data folder is mounted as a whole
        }

        var relative = Path.GetRelativePath(siloRoot, path);
        return Path.Combine(hostRoot, relative);
    }

    private string FromHost(string hostPath)
    {
        if (string.IsNullOrEmpty(_options.WorkDirectoryOnHost) || WorkDirectory is null)
        {
            return hostPath;
        }

        return Path.Combine(WorkDirectory, Path.GetRelativePath(_options.WorkDirectoryOnHost, hostPath));
    }

    /// <summary>Every container of this service (running or not), optionally of one backtest.</summary>
    public Task<IList<ContainerListResponse>> ListAsync(Guid? backtestId, CancellationToken cancellation)
    {
        var labels = new Dictionary<string, bool> { [$"{ServiceLabel}={ServiceId}"] = true };
        if (backtestId is { } id)
        {
            labels[$"{BacktestLabel}={id}"] = true;
        }

        return _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels },
        }, cancellation);
    }

    public async Task RemoveAsync(string containerId, CancellationToken cancellation)
    {
        try
        {
            await _client.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true }, cancellation)
                .ConfigureAwait(false);
        }
        catch (DockerContainerNotFoundException)
        {
            // Already gone.
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Removal already in progress.
        }
    }

    /// <summary>
    /// A new attempt of a backtest whose previous container still runs (its silo died, the container did not):
    /// take that run over rather than start a second one. Leftover stopped containers of the backtest are removed.
    /// </summary>
    private async Task<IRunHandle?> ReattachAsync(RunRequest request, CancellationToken cancellation)
    {
        DockerContainerHandle? reattached = null;
        foreach (var container in await ListAsync(request.BacktestId, cancellation).ConfigureAwait(false))
        {
            if (reattached is null && container.State is "running" or "paused")
            {
                var output = container.Mounts?.FirstOrDefault(m => m.Destination == DockerSandbox.OutputMount)?.Source;
                if (output is not null)
                {
                    if (container.State == "paused")
                    {
                        await _client.Containers.UnpauseContainerAsync(container.ID, cancellation).ConfigureAwait(false);
                    }

                    var fromAttempt = container.Labels.TryGetValue(AttemptLabel, out var a) ? a : "?";
                    LogReattaching(_log, request.BacktestId, container.ID, fromAttempt);
                    reattached = new DockerContainerHandle(_client, container.ID, FromHost(output), reattached: true, _log,
                        _options.DaemonStopWindow);
                    // Only what the worker writes from now on: earlier lines were published by the silo that died.
                    reattached.Follow(since: DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), request.MaxLineBytes);
                    continue;
                }
            }

            await RemoveAsync(container.ID, cancellation).ConfigureAwait(false);
        }

        return reattached;
    }

    public void Dispose() => _client.Dispose();
}
