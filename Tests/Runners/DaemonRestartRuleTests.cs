using Backtesting.Grains.Runners;

namespace Backtesting.Tests.Runners;

/// <summary>
/// A daemon that does not answer: restarting (try again) if it answered within the grace, or never answered and the silo
/// started within the grace (a silo started while its daemon restarts); else unavailable (fail).
/// </summary>
public class DaemonRestartRuleTests
{
    private static readonly Uri Endpoint = new("unix:///run/test-docker.sock");
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    /// <summary>Seconds since the daemon last answered (null: never), since the silo's runner started, and whether that is an interruption.</summary>
    public static TheoryData<double?, double, bool> Cases() => new()
    {
        // Answered before: the last answer decides, however long ago the silo started.
        { 0, 0, true },
        { 1, 3600, true },
        { 119.999, 3600, true },
        { 120, 3600, false },        // the grace is over exactly at its end
        { 121, 0, false },           // (an answer can never be older than the silo; the last answer still decides)
        { 3600, 3600, false },
        // Never answered this silo: waited for as for a restart, from the silo's start.
        { null, 0, true },
        { null, 5, true },
        { null, 119.999, true },
        { null, 120, false },
        { null, 3600, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_unanswered_request_is_an_interruption_only_within_the_grace_since_the_last_answer_or_the_silos_start(
        double? secondsSinceAnswered, double secondsSinceStarted, bool interrupted)
    {
        var cause = new HttpRequestException("connection refused");
        var error = DockerDaemonErrors.Unanswered(Endpoint, cause, secondsSinceAnswered is { } s ? TimeSpan.FromSeconds(s) : null,
            TimeSpan.FromSeconds(secondsSinceStarted), Grace);
        Assert.Equal(interrupted ? typeof(RunnerInterruptedException) : typeof(RunnerUnavailableException), error.GetType());
        Assert.Same(cause, error.InnerException);
        Assert.Contains(Endpoint.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>
/// A Docker daemon that stops takes its containers with it (issue 18: a daemon restart in the chaos run was counted as the
/// death of every run it stopped): an end nobody asked for, by a signal or by the worker stopping itself on SIGTERM, with the
/// daemon gone within the window of it, is an interruption; anything else is what it looks like.
/// </summary>
public class DaemonStopRuleTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>Every exit code the worker has, the signals, and codes around them.</summary>
    public static TheoryData<int> ExitCodesSeen()
    {
        var codes = typeof(Backtesting.Engine.Protocol.ExitCodes).GetFields().Where(f => f.IsLiteral).Select(f => (int)f.GetRawConstantValue()!);
        return new(codes.Concat([-1, 127, 128, 129, 134, 137, 139, 143, 255]).Distinct());
    }

    [Theory, MemberData(nameof(ExitCodesSeen))]
    public void Only_an_end_nobody_asked_for_by_a_signal_or_a_stop_on_sigterm_may_be_the_daemon_stopping(int exitCode)
    {
        var signalOrStop = exitCode > 128 || exitCode == Backtesting.Engine.Protocol.ExitCodes.Stopped;
        Assert.Equal(signalOrStop, DockerDaemonErrors.MayBeDaemonStop(exitCode, outOfMemory: false, stopRequested: false));
        // A kill for memory is the run's own; a stop the silo asked for is the silo's.
        Assert.False(DockerDaemonErrors.MayBeDaemonStop(exitCode, outOfMemory: true, stopRequested: false));
        Assert.False(DockerDaemonErrors.MayBeDaemonStop(exitCode, outOfMemory: false, stopRequested: true));
    }

    /// <summary>Seconds after the end the daemon stopped answering (null: it answered throughout), and whether the run went with it.</summary>
    public static TheoryData<double?, bool> DaemonLost() => new()
    {
        { 0, true },
        { 0.3, true },
        { 9.999, true },
        { 10, false },        // the window is over exactly at its end
        { 60, false },
        { null, false },
    };

    [Theory, MemberData(nameof(DaemonLost))]
    public void A_run_ended_so_went_with_its_daemon_only_when_the_daemon_went_away_within_the_window(double? seconds, bool withDaemon)
    {
        Assert.Equal(withDaemon, DockerDaemonErrors.EndedWithDaemon(seconds is { } s ? TimeSpan.FromSeconds(s) : null, Window));
        Assert.False(DockerDaemonErrors.EndedWithDaemon(seconds is { } t ? TimeSpan.FromSeconds(t) : null, TimeSpan.Zero));
    }

    /// <summary>The default window: ten seconds, the time a stopping daemon gives its containers before it kills them.</summary>
    [Fact]
    public void The_default_window_is_ten_seconds() => Assert.Equal(Window, new DockerRunnerOptions().DaemonStopWindow);
}
