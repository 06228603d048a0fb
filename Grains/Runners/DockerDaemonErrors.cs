using System.Net.Sockets;
using Backtesting.Engine.Protocol;
using Docker.DotNet;

namespace Backtesting.Grains.Runners;

/// <summary>
/// How the Docker runner tells and words a daemon that cannot serve it, written once for runs, compiles, the silo's
/// start-up check and the orphan reaper: the daemon does not answer, or the worker image is not in it.
/// </summary>
public static class DockerDaemonErrors
{
    /// <summary>Errors that mean the daemon itself cannot be reached (as opposed to a request it refused).</summary>
    public static bool IsUnreachable(Exception e) =>
        e is HttpRequestException or SocketException or TimeoutException or IOException or OperationCanceledException
            or ObjectDisposedException
        || e.InnerException is { } inner && IsUnreachable(inner);

    /// <summary>
    /// An error the daemon answered with, or one that means it was not reached: how a container's streams and
    /// controls end when the container is gone or the daemon is lost.
    /// </summary>
    public static bool IsDaemonError(Exception e) => e is DockerApiException || IsUnreachable(e);

    /// <summary>Why the daemon could not be reached, for logs and a failed backtest's error.</summary>
    public static string Unreachable(Uri endpoint, Exception e) =>
        $"the Docker daemon at {endpoint} is unreachable: {e.GetBaseException().Message}";

    /// <summary>The daemon is not there: nothing can run until an operator starts it.</summary>
    public static RunnerUnavailableException DaemonUnavailable(Uri endpoint, Exception e) => new(Unreachable(endpoint, e), e);

    /// <summary>
    /// The daemon does not answer now. If it answered this silo <paramref name="sinceAnswered"/> ago, or never did and the
    /// silo's runner started <paramref name="sinceStarted"/> ago (a silo started while its daemon restarts), and that is
    /// within <paramref name="grace"/>, it is restarting and the run is tried again (<see cref="RunnerInterruptedException"/>);
    /// otherwise nothing can run until an operator starts it (<see cref="RunnerUnavailableException"/>).
    /// </summary>
    public static Exception Unanswered(Uri endpoint, Exception e, TimeSpan? sinceAnswered, TimeSpan sinceStarted, TimeSpan grace) =>
        (sinceAnswered ?? sinceStarted) is var since && since < grace
            ? new RunnerInterruptedException(sinceAnswered is null
                ? $"{Unreachable(endpoint, e)} (it has not answered since this silo started {since.TotalSeconds:F0} s ago: starting?)"
                : $"{Unreachable(endpoint, e)} (it answered {since.TotalSeconds:F0} s ago: restarting?)", e)
            : DaemonUnavailable(endpoint, e);

    /// <summary>
    /// Whether a container's end may be its daemon stopping, to be told by watching the daemon for a while
    /// (<see cref="EndedWithDaemon"/>): an end nobody asked for, by a signal (an exit code over 128: a stopping daemon sends
    /// SIGTERM, then SIGKILL) or by the worker stopping itself on SIGTERM (<see cref="ExitCodes.Stopped"/>); never an
    /// out-of-memory kill, nor an end the silo asked for (a cancel, a timeout, a reclaimed slot).
    /// </summary>
    public static bool MayBeDaemonStop(int exitCode, bool outOfMemory, bool stopRequested) =>
        !stopRequested && !outOfMemory && (exitCode == ExitCodes.Stopped || exitCode > 128);

    /// <summary>
    /// Whether such an end (<see cref="MayBeDaemonStop"/>) came with its daemon going away: it stopped answering
    /// <paramref name="daemonLostAfter"/> after the end (null: it kept answering), within <paramref name="window"/> (over
    /// exactly at its end). The run was then interrupted, not dead: retried, never counted as an attempt.
    /// </summary>
    public static bool EndedWithDaemon(TimeSpan? daemonLostAfter, TimeSpan window) =>
        daemonLostAfter is { } lost && lost >= TimeSpan.Zero && lost < window;

    /// <summary>The daemon answers but has no worker image: nothing can run until an operator builds it.</summary>
    public static RunnerUnavailableException ImageMissing(string image, Uri endpoint, Exception e) =>
        new($"the worker image {image} is not in the Docker daemon at {endpoint}; build it with scripts/docker.sh (build_worker_image)", e);
}
