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
