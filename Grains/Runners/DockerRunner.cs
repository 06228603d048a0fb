using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Backtesting.Grains.Interfaces;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Runners;

/// <summary>
/// Runs each attempt of a backtest in its own container of the worker image, sandboxed: no network, a read-only
/// root file system with a small tmpfs /tmp, a non-root user, no capabilities, no new privileges, and memory,
/// CPU and pids limits. The config and market data are mounted read-only, the attempt's output folder
/// read-write. Progress comes from the container's log stream; resource usage from its stats stream.
/// </summary>
public sealed class DockerRunner : IBacktestRunner, IDisposable
{
    public const string BacktestLabel = "backtesting.backtest-id";
    public const string AttemptLabel = "backtesting.attempt";
    public const string ServiceLabel = "backtesting.service-id";

    /// <summary>Where the container sees the attempt's output folder and the market data.</summary>
    public const string OutputMount = DockerSandbox.OutputMount;
    public const string DataMount = DockerSandbox.DataMount;

    private readonly DockerClient _client;
    private readonly DockerRunnerOptions _options;
    private readonly ContainerUser _user;
    private readonly ILogger _log;

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

    internal DockerClient Client => _client;

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
            return null;
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            return $"the Docker daemon at {Endpoint} is unreachable: {e.GetBaseException().Message}";
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

            var parameters = ContainerFor(request, RunChannels.WorkerArguments(request, OutputMount, DataMount));
            var created = await _client.Containers.CreateContainerAsync(parameters, cancellation).ConfigureAwait(false);
            var handle = new Handle(_client, created.ID, request.OutputDirectory, reattached: false, _log);
            await _client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellation).ConfigureAwait(false);
            handle.Follow(since: null, request.MaxLineBytes);
            return handle;
        }
        catch (DockerImageNotFoundException e)
        {
            throw new RunnerUnavailableException(
                $"the worker image {_options.Image} is not in the Docker daemon at {Endpoint}; build it with scripts/docker.sh (build_worker_image)", e);
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            throw new RunnerUnavailableException($"the Docker daemon at {Endpoint} is unreachable: {e.GetBaseException().Message}", e);
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
            },
            request.MemoryLimitBytes ?? _options.MemoryBytes,
            OnHost(request.DataDirectory, _options.DataDirectoryOnHost, null),
            OnHost(request.OutputDirectory, _options.WorkDirectoryOnHost, WorkDirectory));

    /// <summary>Marks a compile's container: it belongs to no backtest, so the orphan reaper leaves it to its caller.</summary>
    public const string CompileLabel = "backtesting.compile";

    /// <summary>
    /// Compiles a custom strategy in a container of the worker image under exactly a run's sandbox (no network,
    /// read-only root, memory, CPU and pids limits), and returns what <c>worker compile</c> printed.
    /// </summary>
    public async Task<CompileOutput> CompileStrategyAsync(CompileRequest request, CancellationToken cancellation)
    {
        AttemptFolder.Prepare(request.Directory, _user);
        await AttemptFolder.WriteTextAsync(Path.Combine(request.Directory, RunChannels.StrategySourceFile), request.Source, cancellation)
            .ConfigureAwait(false);

        var compileId = Guid.NewGuid();
        var parameters = ContainerFor(new RunRequest(compileId, 0, "{}", request.Directory, request.DataDirectory, false, TimeSpan.Zero),
            request.WorkerArguments(OutputMount + "/" + RunChannels.StrategySourceFile));
        parameters.Name = $"compile-{compileId:N}";
        parameters.Labels = new Dictionary<string, string> { [ServiceLabel] = ServiceId, [CompileLabel] = compileId.ToString() };
        string? containerId = null;
        try
        {
            containerId = (await _client.Containers.CreateContainerAsync(parameters, cancellation).ConfigureAwait(false)).ID;
            await _client.Containers.StartContainerAsync(containerId, new ContainerStartParameters(), cancellation).ConfigureAwait(false);
            var killed = false;
            long exitCode;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                deadline.CancelAfter(request.Timeout + CompileRequest.KillSlack);
                try
                {
                    exitCode = (await _client.Containers.WaitContainerAsync(containerId, deadline.Token).ConfigureAwait(false)).StatusCode;
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    // The worker's own timeout did not end it: kill it, and report a timeout.
                    killed = true;
                    exitCode = -1;
                    await _client.Containers.KillContainerAsync(containerId, new ContainerKillParameters(), CancellationToken.None)
                        .ConfigureAwait(false);
                }
            }

            using var logs = await _client.Containers.GetContainerLogsAsync(containerId,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, cancellation).ConfigureAwait(false);
            var (stdout, stderr) = await logs.ReadOutputToEndAsync(cancellation).ConfigureAwait(false);
            return new CompileOutput((int)exitCode, stdout, stderr, killed);
        }
        catch (DockerImageNotFoundException e)
        {
            throw new RunnerUnavailableException(
                $"the worker image {_options.Image} is not in the Docker daemon at {Endpoint}; build it with scripts/docker.sh (build_worker_image)", e);
        }
        catch (Exception e) when (IsUnreachable(e) && !cancellation.IsCancellationRequested)
        {
            throw new RunnerUnavailableException($"the Docker daemon at {Endpoint} is unreachable: {e.GetBaseException().Message}", e);
        }
        finally
        {
            if (containerId is not null)
            {
                await RemoveAsync(containerId, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The silo's work folder (set by the silo setup), to translate paths for a daemon that sees another file system.</summary>
    public string? WorkDirectory { get; set; }

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
        Handle? reattached = null;
        foreach (var container in await ListAsync(request.BacktestId, cancellation).ConfigureAwait(false))
        {
            if (reattached is null && container.State is "running" or "paused")
            {
                var output = container.Mounts?.FirstOrDefault(m => m.Destination == OutputMount)?.Source;
                if (output is not null)
                {
                    if (container.State == "paused")
                    {
                        await _client.Containers.UnpauseContainerAsync(container.ID, cancellation).ConfigureAwait(false);
                    }

                    var fromAttempt = container.Labels.TryGetValue(AttemptLabel, out var a) ? a : "?";
                    if (_log.IsEnabled(LogLevel.Information))
                    {
                        _log.LogInformation("Backtest {Id}: reattaching to container {Container}, still running from attempt {Attempt}",
                            request.BacktestId, container.ID, fromAttempt);
                    }

                    reattached = new Handle(_client, container.ID, FromHost(output), reattached: true, _log);
                    // Only what the worker writes from now on: earlier lines were published by the silo that died.
                    reattached.Follow(since: DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), request.MaxLineBytes);
                    continue;
                }
            }

            await RemoveAsync(container.ID, cancellation).ConfigureAwait(false);
        }

        return reattached;
    }

    /// <summary>Errors that mean the daemon itself cannot be reached (as opposed to a request it refused).</summary>
    public static bool IsUnreachable(Exception e) =>
        e is HttpRequestException or SocketException or TimeoutException or IOException or OperationCanceledException
            or ObjectDisposedException
        || e.InnerException is { } inner && IsUnreachable(inner);

    public void Dispose() => _client.Dispose();

    /// <summary>One container: its lines, its stats, its end, and the controls.</summary>
    private sealed class Handle : IRunHandle
    {
        private const int StderrTailChars = 8192;

        private readonly DockerClient _client;
        private readonly ILogger _log;
        private readonly Channel<string> _lines = RunChannels.Create();
        private readonly Channel<ResourceUsage> _resources = Channel.CreateBounded<ResourceUsage>(
            new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
        private readonly CancellationTokenSource _stats = new();
        private readonly StringBuilder _stderrTail = new();
        private Task _logs = Task.CompletedTask;
        private Task _statsLoop = Task.CompletedTask;
        private Task<RunExit>? _exit;
        private int _removed;
        private readonly string _short;

        public Handle(DockerClient client, string containerId, string outputDirectory, bool reattached, ILogger log)
        {
            _client = client;
            _log = log;
            Container = containerId;
            _short = containerId[..Math.Min(12, containerId.Length)];
            ReattachedOutputDirectory = reattached ? outputDirectory : null;
        }

        public ChannelReader<string> Lines => _lines.Reader;

        public Task<RunExit> Exit => _exit ?? throw new InvalidOperationException("not following yet");

        public int? ProcessId => null;

        public string Container { get; }

        public ChannelReader<ResourceUsage> Resources => _resources.Reader;

        public string? ReattachedOutputDirectory { get; }

        /// <summary>Starts reading the log and stats streams and waiting for the end.</summary>
        public void Follow(string? since, int maxLineBytes)
        {
            _logs = Task.Run(() => ReadLogs(since, maxLineBytes));
            _statsLoop = Task.Run(ReadStats);
            _exit = Task.Run(WaitForExit);
        }

        private async Task ReadLogs(string? since, int maxLineBytes)
        {
            try
            {
                using var stream = await _client.Containers.GetContainerLogsAsync(Container, new ContainerLogsParameters
                {
                    Follow = true,
                    ShowStdout = true,
                    ShowStderr = true,
                    Since = since,
                }, CancellationToken.None).ConfigureAwait(false);
                // Without a TTY, stdout and stderr arrive multiplexed in framed chunks; a chunk can end mid-line.
                var buffer = new byte[64 * 1024];
                var stdout = RunChannels.Splitter(_lines, maxLineBytes);
                var stderr = new Protocol.BoundedLineSplitter(StderrTailChars, AppendStderr); // a longer stderr line is cut
                while (true)
                {
                    var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).ConfigureAwait(false);
                    if (read.EOF)
                    {
                        break;
                    }

                    (read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout).Add(buffer.AsSpan(0, read.Count));
                }

                stdout.Flush();
                stderr.Flush();
            }
            catch (Exception e) when (e is DockerApiException || IsUnreachable(e))
            {
                _log.LogWarning("Container {Container}: its log stream ended early: {Error}", _short, e.Message);
            }
        }

        private void AppendStderr(string line)
        {
            lock (_stderrTail)
            {
                _stderrTail.AppendLine(line);
                if (_stderrTail.Length > StderrTailChars)
                {
                    _stderrTail.Remove(0, _stderrTail.Length - StderrTailChars);
                }
            }
        }

        /// <summary>The end of the worker's stderr (the human summary or a crash message), for logs and errors.</summary>
        public string StderrTail
        {
            get
            {
                lock (_stderrTail)
                {
                    return _stderrTail.ToString();
                }
            }
        }

        private async Task ReadStats()
        {
            var sampler = new StatsSampler(_resources.Writer);
            try
            {
                await _client.Containers.GetContainerStatsAsync(Container, new ContainerStatsParameters { Stream = true },
                    sampler, _stats.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DockerApiException || IsUnreachable(e))
            {
                // The stats stream ends with the container, or is cut when the handle is disposed.
            }
        }

        private async Task<RunExit> WaitForExit()
        {
            try
            {
                await _client.Containers.WaitContainerAsync(Container, CancellationToken.None).ConfigureAwait(false);
                await _logs.ConfigureAwait(false);
                var inspect = await _client.Containers.InspectContainerAsync(Container, CancellationToken.None).ConfigureAwait(false);
                var state = inspect.State ?? throw new DockerContainerNotFoundException(System.Net.HttpStatusCode.NotFound, "no state");
                var exitCode = (int)state.ExitCode;
                var tail = StderrTail;
                if (exitCode != 0 && tail.Length > 0 && _log.IsEnabled(LogLevel.Information))
                {
                    _log.LogInformation("Container {Container} exited with {Code}; its stderr ends with: {Tail}", _short, exitCode, tail);
                }

                return RunExit.Of(exitCode, tail, state.OOMKilled,
                    state.OOMKilled ? $"container {_short} was killed for exceeding its memory limit" : null);
            }
            catch (DockerContainerNotFoundException)
            {
                return new RunExit(-1, false, $"container {_short} disappeared");
            }
            catch (Exception e) when (e is DockerApiException || IsUnreachable(e))
            {
                return new RunExit(-1, false, $"lost contact with container {_short}: {e.GetBaseException().Message}");
            }
            finally
            {
                await _logs.ConfigureAwait(false);
                _lines.Writer.TryComplete();
                await _stats.CancelAsync().ConfigureAwait(false);
                await _statsLoop.ConfigureAwait(false);
                _resources.Writer.TryComplete();
            }
        }

        public Task PauseAsync() => _client.Containers.PauseContainerAsync(Container, CancellationToken.None);

        public Task ResumeAsync() => _client.Containers.UnpauseContainerAsync(Container, CancellationToken.None);

        public async Task StopAsync(TimeSpan grace)
        {
            try
            {
                var state = (await _client.Containers.InspectContainerAsync(Container, CancellationToken.None).ConfigureAwait(false)).State;
                if (state is null)
                {
                    return;
                }

                if (state.Paused)
                {
                    // A frozen worker cannot act on SIGTERM: thaw it so it can write its partial results.
                    await _client.Containers.UnpauseContainerAsync(Container, CancellationToken.None).ConfigureAwait(false);
                }

                if (state.Running || state.Paused)
                {
                    // SIGTERM, then SIGKILL after the grace period.
                    await _client.Containers.StopContainerAsync(Container, new ContainerStopParameters
                    {
                        WaitBeforeKillSeconds = (uint)Math.Max(1, Math.Ceiling(grace.TotalSeconds)),
                    }, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (DockerContainerNotFoundException)
            {
                // Gone already: Exit reports it.
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _removed, 1) == 1)
            {
                return;
            }

            if (_exit is not null && !_exit.IsCompleted)
            {
                try
                {
                    // A paused container is thawed first: a frozen process does not die of SIGKILL until thawed.
                    if ((await _client.Containers.InspectContainerAsync(Container, CancellationToken.None).ConfigureAwait(false)).State?.Paused == true)
                    {
                        await _client.Containers.UnpauseContainerAsync(Container, CancellationToken.None).ConfigureAwait(false);
                    }

                    await _client.Containers.KillContainerAsync(Container, new ContainerKillParameters(), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is DockerApiException || IsUnreachable(e))
                {
                    // Already stopped or gone.
                }
            }

            if (_exit is not null)
            {
                await _exit.ConfigureAwait(false);
            }

            try
            {
                await _client.Containers.RemoveContainerAsync(Container, new ContainerRemoveParameters { Force = true }, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is DockerApiException || IsUnreachable(e))
            {
                _log.LogWarning("Container {Container} could not be removed: {Error}", _short, e.Message);
            }

            _stats.Dispose();
        }
    }

    /// <summary>
    /// Turns Docker's stats samples into <see cref="ResourceUsage"/> on a channel. Runs on the library's threads:
    /// it touches nothing but its own fields and the channel.
    /// </summary>
    private sealed class StatsSampler(ChannelWriter<ResourceUsage> output) : IProgress<ContainerStatsResponse>
    {
        private ulong _lastIoBytes;
        private DateTime _lastAt;

        public void Report(ContainerStatsResponse value)
        {
            if (value.Read == default || value.CPUStats?.CPUUsage is null)
            {
                return; // a stopped container's last sample is empty
            }

            var cpu = 0.0;
            if (value.PreCPUStats?.CPUUsage is { } before && value.CPUStats.SystemUsage is { } system
                && value.PreCPUStats.SystemUsage is { } systemBefore && system > systemBefore)
            {
                var cores = value.CPUStats.OnlineCPUs is { } online and > 0 ? online : (uint)(value.CPUStats.CPUUsage.PercpuUsage?.Count ?? 1);
                // Share of the whole machine's CPU time, scaled to "percent of one core" like the worker reports it.
                cpu = (double)(value.CPUStats.CPUUsage.TotalUsage - before.TotalUsage) / (system - systemBefore) * cores * 100;
            }

            var memory = value.MemoryStats;
            var cache = memory?.Stats is { } stats
                ? stats.TryGetValue("total_inactive_file", out var v1) ? v1 : stats.TryGetValue("inactive_file", out var v2) ? v2 : 0
                : 0;
            var used = (memory?.Usage ?? 0) > cache ? memory!.Usage!.Value - cache : memory?.Usage ?? 0;
            ulong read = 0, written = 0;
            foreach (var entry in value.BlkioStats?.IoServiceBytesRecursive ?? [])
            {
                if (string.Equals(entry.Op, "read", StringComparison.OrdinalIgnoreCase))
                {
                    read += entry.Value;
                }
                else if (string.Equals(entry.Op, "write", StringComparison.OrdinalIgnoreCase))
                {
                    written += entry.Value;
                }
            }

            var io = read + written;
            var rate = _lastAt != default && value.Read > _lastAt && io >= _lastIoBytes
                ? (io - _lastIoBytes) / 1048576.0 / (value.Read - _lastAt).TotalSeconds
                : 0;
            _lastIoBytes = io;
            _lastAt = value.Read;
            output.TryWrite(new ResourceUsage(value.Read.ToUniversalTime(), Math.Round(cpu, 1), Math.Round(used / 1048576.0, 1),
                Math.Round((memory?.Limit ?? 0) / 1048576.0, 1), Math.Round(read / 1048576.0, 2), Math.Round(written / 1048576.0, 2),
                Math.Round(rate, 2), (int)(value.PidsStats?.Current ?? 0)));
        }
    }
}
