using Backtesting.Grains.Protocol;

namespace Backtesting.Tests.Protocol;

/// <summary>The silo's stall and timeout rule, on a clock the test moves.</summary>
public sealed class SiloWatchdogTests
{
    private static readonly TimeSpan Stall = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(100);

    private static TimeSpan At(double seconds) => Start + TimeSpan.FromSeconds(seconds);

    [Fact]
    public void A_run_silent_for_longer_than_the_stall_limit_is_stalled_and_not_at_the_limit()
    {
        var watchdog = new SiloWatchdog(Stall, TimeSpan.Zero);
        watchdog.Started(Start);

        Assert.Null(watchdog.Check(At(120), TimeSpan.FromSeconds(120), Timeout));
        Assert.Contains("stalled", watchdog.Check(At(121), TimeSpan.FromSeconds(121), Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_line_restarts_the_stall_clock()
    {
        var watchdog = new SiloWatchdog(Stall, TimeSpan.Zero);
        watchdog.Started(Start);

        for (var second = 100; second <= 1000; second += 100)
        {
            watchdog.Line(At(second));
            Assert.Null(watchdog.Check(At(second + 119), TimeSpan.FromSeconds(second + 119), Timeout));
        }
    }

    [Fact]
    public void The_first_line_may_take_the_start_allowance_on_top_and_later_ones_not()
    {
        var watchdog = new SiloWatchdog(Stall, TimeSpan.FromSeconds(60));
        watchdog.Started(Start);

        Assert.Null(watchdog.Check(At(180), TimeSpan.FromSeconds(180), Timeout));
        Assert.NotNull(watchdog.Check(At(181), TimeSpan.FromSeconds(181), Timeout));

        watchdog.Line(At(181));
        Assert.NotNull(watchdog.Check(At(302), TimeSpan.FromSeconds(302), Timeout));
    }

    [Fact]
    public void Paused_time_never_stalls_and_resuming_restarts_the_stall_clock()
    {
        var watchdog = new SiloWatchdog(Stall, TimeSpan.Zero);
        watchdog.Started(Start);
        watchdog.Paused();

        Assert.Null(watchdog.Check(At(10_000), TimeSpan.FromSeconds(10), Timeout));

        watchdog.Resumed(At(10_000));
        Assert.Null(watchdog.Check(At(10_120), TimeSpan.FromSeconds(130), Timeout));
        Assert.NotNull(watchdog.Check(At(10_121), TimeSpan.FromSeconds(131), Timeout));
    }

    [Fact]
    public void Running_time_past_the_timeout_ends_the_run_even_while_lines_stream()
    {
        var watchdog = new SiloWatchdog(Stall, TimeSpan.Zero);
        watchdog.Started(Start);
        watchdog.Line(At(1800));

        Assert.Null(watchdog.Check(At(1800), Timeout, Timeout));
        Assert.Contains("timed out after 30 minutes", watchdog.Check(At(1801), Timeout + TimeSpan.FromSeconds(1), Timeout), StringComparison.Ordinal);
    }
}
