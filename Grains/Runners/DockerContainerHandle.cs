using System.Threading.Channels;
using Backtesting.Grains.Interfaces;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Runners;

/// <summary>One container of the <see cref="DockerRunner"/>: its lines, its stats, its end, and the controls.</summary>
internal sealed partial class DockerContainerHandle : IRunHandle
{
    private readonly DockerClient _client;
    private readonly ILogger _log;
    private readonly Channel<string> _lines = RunChannels.Create();
    private readonly Channel<ResourceUsage> _resources = Channel.CreateBounded<ResourceUsage>(
        new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stats = new();
    private readonly string _short;
    private DockerLogSplitter? _logSplitter;
    private Task _logs = Task.CompletedTask;
    private Task _statsLoop = Task.CompletedTask;
    private Task<RunExit>? _exit;
    private int _removed;
    /// <summary>The silo asked this container to stop (or killed it): its end is no daemon's stop.</summary>
    private volatile bool _stopRequested;
    private readonly TimeSpan _daemonStopWindow;

    public DockerContainerHandle(DockerClient client, string containerId, string outputDirectory, bool reattached, ILogger log,
        TimeSpan daemonStopWindow)
    {
        _daemonStopWindow = daemonStopWindow;
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
        _logSplitter = new DockerLogSplitter(_lines, maxLineBytes);
        _logs = Task.Run(() => ReadLogs(since, _logSplitter));
        _statsLoop = Task.Run(ReadStats);
        _exit = Task.Run(WaitForExit);
    }

    private async Task ReadLogs(string? since, DockerLogSplitter splitter)
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
            await splitter.ReadToEndAsync(stream).ConfigureAwait(false);
        }
        catch (Exception e) when (DockerDaemonErrors.IsDaemonError(e))
        {
            LogStreamEndedEarly(_log, _short, e.Message);
        }
    }

    private async Task ReadStats()
    {
        var sampler = new DockerStatsSampler(_resources.Writer);
        try
        {
            await _client.Containers.GetContainerStatsAsync(Container, new ContainerStatsParameters { Stream = true },
                sampler, _stats.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (DockerDaemonErrors.IsDaemonError(e))
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
            var tail = _logSplitter?.StderrTail ?? "";
            if (exitCode != 0 && tail.Length > 0)
            {
                LogExitedWithStderr(_log, _short, exitCode, tail);
            }

            if (DockerDaemonErrors.MayBeDaemonStop(exitCode, state.OOMKilled, _stopRequested)
                && DockerDaemonErrors.EndedWithDaemon(await DaemonLostWithin(_daemonStopWindow).ConfigureAwait(false), _daemonStopWindow))
            {
                // The daemon stopped its containers as it went away: the run was interrupted, not dead.
                LogEndedWithDaemon(_log, _short, exitCode);
                return new RunExit(-1, false, $"container {_short} ended (exit code {exitCode}) as its Docker daemon went away", Interrupted: true);
            }

            return RunExit.Of(exitCode, tail, state.OOMKilled,
                state.OOMKilled ? $"container {_short} was killed for exceeding its memory limit" : null);
        }
        catch (DockerContainerNotFoundException)
        {
            return new RunExit(-1, false, $"container {_short} disappeared");
        }
        catch (Exception e) when (DockerDaemonErrors.IsDaemonError(e))
        {
            // Unreachable: the daemon went away under the run (a restart stops its containers), which is no death of the run.
            return new RunExit(-1, false, $"lost contact with container {_short}: {e.GetBaseException().Message}",
                Interrupted: DockerDaemonErrors.IsUnreachable(e));
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

    /// <summary>
    /// Watches the daemon for <paramref name="window"/> after the container's end: how long after it the daemon stopped
    /// answering, or null when it answered throughout.
    /// </summary>
    private async Task<TimeSpan?> DaemonLostWithin(TimeSpan window)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < window)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _client.System.PingAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (DockerDaemonErrors.IsUnreachable(e))
            {
                return watch.Elapsed;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250)).ConfigureAwait(false);
        }

        return null;
    }

    public Task PauseAsync() => _client.Containers.PauseContainerAsync(Container, CancellationToken.None);

    public Task ResumeAsync() => _client.Containers.UnpauseContainerAsync(Container, CancellationToken.None);

    public async Task StopAsync(TimeSpan grace)
    {
        _stopRequested = true;
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
            _stopRequested = true;
            try
            {
                // A paused container is thawed first: a frozen process does not die of SIGKILL until thawed.
                if ((await _client.Containers.InspectContainerAsync(Container, CancellationToken.None).ConfigureAwait(false)).State?.Paused == true)
                {
                    await _client.Containers.UnpauseContainerAsync(Container, CancellationToken.None).ConfigureAwait(false);
                }

                await _client.Containers.KillContainerAsync(Container, new ContainerKillParameters(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (DockerDaemonErrors.IsDaemonError(e))
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
        catch (Exception e) when (DockerDaemonErrors.IsDaemonError(e))
        {
            LogNotRemoved(_log, _short, e.Message);
        }

        _stats.Dispose();
    }
}
