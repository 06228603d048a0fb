using Backtesting.Engine.Metrics;

namespace Backtesting.Tests.Metrics;

public sealed class DrawdownTrackerTests
{
    private static readonly DateTime Start = new(2024, 1, 2, 9, 30, 0, DateTimeKind.Utc);

    [Fact]
    public void Tracks_depth_and_duration_per_bar()
    {
        var dd = new DrawdownTracker(100, Start);
        Assert.Equal(0.0, dd.Update(Start.AddHours(1), 120));        // new peak 120 at +1h
        Assert.Equal(-0.25, dd.Update(Start.AddHours(2), 90));       // 90/120 − 1
        Assert.Equal(TimeSpan.FromHours(1), dd.CurrentDuration);
        Assert.Equal(-1.0 / 12, dd.Update(Start.AddHours(5), 110), 1e-15); // 110/120 − 1, still under water
        Assert.Equal(-0.25, dd.MaxDrawdown);
        Assert.Equal(0.0, dd.Update(Start.AddHours(7), 120));        // regained exactly: lasted 7h − 1h = 6h
        Assert.Equal(TimeSpan.FromHours(6), dd.MaxDuration);
        Assert.Equal(TimeSpan.Zero, dd.CurrentDuration);
        Assert.Equal(Start.AddHours(7), dd.PeakTime);
        dd.Update(Start.AddHours(8), 119);                           // short new dip
        Assert.Equal(TimeSpan.FromHours(6), dd.MaxDuration);
        Assert.Equal(-0.25, dd.MaxDrawdown);
        Assert.Equal(120.0, dd.Peak);
    }

    [Fact]
    public void The_initial_equity_is_the_first_peak()
    {
        var dd = new DrawdownTracker(100, Start);
        dd.Update(Start.AddDays(1), 80);
        dd.Update(Start.AddDays(3), 95);
        Assert.Equal(-0.2, dd.MaxDrawdown, 1e-15);
        Assert.Equal(TimeSpan.FromDays(3), dd.MaxDuration);         // open drawdown counts to the last update
        Assert.Equal(-0.05, dd.CurrentDrawdown, 1e-15);
    }

    [Fact]
    public void An_open_drawdown_longer_than_a_recovered_one_wins()
    {
        var dd = new DrawdownTracker(100, Start);
        dd.Update(Start.AddDays(1), 90);
        dd.Update(Start.AddDays(2), 101);   // recovered after 2 days
        dd.Update(Start.AddDays(3), 99);
        dd.Update(Start.AddDays(10), 100);  // still below 101, 8 days since the peak
        Assert.Equal(TimeSpan.FromDays(8), dd.MaxDuration);
        Assert.Equal(-0.1, dd.MaxDrawdown, 1e-15);
    }

    [Fact]
    public void Rejects_time_going_backwards_and_non_finite_equity()
    {
        var dd = new DrawdownTracker(100, Start);
        dd.Update(Start.AddDays(1), 100);
        Assert.Throws<ArgumentException>(() => dd.Update(Start, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => dd.Update(Start.AddDays(2), double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DrawdownTracker(0, Start));
    }
}
