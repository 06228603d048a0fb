using Backtesting.Engine.Protocol;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Backtesting.Grains.Runners;

/// <summary>The compile container: <c>worker compile</c> on a custom strategy's source, under a run's sandbox.</summary>
public sealed partial class DockerRunner
{
    /// <summary>Marks a compile's container: it belongs to no backtest, so the orphan reaper leaves it to its caller.</summary>
    public const string CompileLabel = "backtesting.compile";

    /// <summary>
    /// Compiles a custom strategy in a container of the worker image under exactly a run's sandbox (no network,
    /// read-only root, memory, CPU and pids limits), and returns what <c>worker compile</c> printed.
    /// </summary>
    public async Task<CompileOutput> CompileStrategyAsync(CompileRequest request, CancellationToken cancellation)
    {
        AttemptFolder.Prepare(request.Directory, _user);
        await AttemptFolder.WriteTextAsync(Path.Combine(request.Directory, WorkerFiles.StrategySource), request.Source, cancellation)
            .ConfigureAwait(false);

        var compileId = Guid.NewGuid();
        var parameters = ContainerFor(new RunRequest(compileId, 0, "{}", request.Directory, request.DataDirectory, false, TimeSpan.Zero),
            request.WorkerArguments(DockerSandbox.OutputMount + "/" + WorkerFiles.StrategySource, DockerSandbox.OutputMount));
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
                deadline.CancelAfter(request.KillAfter);
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
            throw DockerDaemonErrors.ImageMissing(_options.Image, Endpoint, e);
        }
        catch (Exception e) when (DockerDaemonErrors.IsUnreachable(e) && !cancellation.IsCancellationRequested)
        {
            throw DockerDaemonErrors.DaemonUnavailable(Endpoint, e);
        }
        finally
        {
            if (containerId is not null)
            {
                await RemoveAsync(containerId, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The worker image's id: a rebuilt image is another worker, whose compiles are its own.</summary>
    public async Task<string?> WorkerVersionAsync(CancellationToken cancellation)
    {
        try
        {
            var image = await _client.Images.InspectImageAsync(_options.Image, cancellation).ConfigureAwait(false);
            Answered();
            return "docker " + image.ID;
        }
        catch (DockerImageNotFoundException e)
        {
            throw DockerDaemonErrors.ImageMissing(_options.Image, Endpoint, e);
        }
        catch (Exception e) when (DockerDaemonErrors.IsUnreachable(e) && !cancellation.IsCancellationRequested)
        {
            throw DockerDaemonErrors.DaemonUnavailable(Endpoint, e);
        }
    }
}
