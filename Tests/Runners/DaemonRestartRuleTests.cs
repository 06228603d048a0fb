using Backtesting.Grains.Runners;

namespace Backtesting.Tests.Runners;

/// <summary>A daemon that does not answer: restarting (try again) if it answered within the grace, else unavailable (fail).</summary>
public class DaemonRestartRuleTests
{
    private static readonly Uri Endpoint = new("unix:///run/test-docker.sock");
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    public static TheoryData<double?, bool> Cases() => new()
    {
        { null, false },       // never answered this silo: nothing to wait for
        { 0, true },
        { 1, true },
        { 119.999, true },
        { 120, false },        // the grace is over exactly at its end
        { 121, false },
        { 3600, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_unanswered_request_is_an_interruption_only_within_the_grace_since_the_last_answer(double? secondsSinceAnswered, bool interrupted)
    {
        var cause = new HttpRequestException("connection refused");
        var error = DockerDaemonErrors.Unanswered(Endpoint, cause, secondsSinceAnswered is { } s ? TimeSpan.FromSeconds(s) : null, Grace);
        Assert.Equal(interrupted ? typeof(RunnerInterruptedException) : typeof(RunnerUnavailableException), error.GetType());
        Assert.Same(cause, error.InnerException);
        Assert.Contains(Endpoint.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
    }
}
