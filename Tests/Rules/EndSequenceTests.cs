using Backtesting.Grains.Supervision;

namespace Backtesting.Tests.Rules;

/// <summary>
/// The two steps of a backtest's end (announce, release) go side by side: neither waits for the other, a failure of one
/// cancels nothing of the other, and both failures are reported. A publish towards a silo that had just died once held the
/// slot of an ended run until the call's response timeout.
/// </summary>
public sealed class EndSequenceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>One step: it records that it started, then hangs, fails or ends as told.</summary>
    private sealed class Step
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Exception? Throws { get; init; }
        public bool ThrowsAtOnce { get; init; }

        public async Task Run()
        {
            Started.TrySetResult();
            if (ThrowsAtOnce)
            {
                throw Throws!;
            }

            await Gate.Task;
            Done.TrySetResult();
            if (Throws is not null)
            {
                throw Throws;
            }
        }

        public static Step Ending()
        {
            var step = new Step();
            step.Gate.SetResult();
            return step;
        }
    }

    [Fact]
    public async Task A_hanging_publish_does_not_hold_the_release()
    {
        var announce = new Step();
        var release = Step.Ending();

        var end = EndSequence.Run(announce.Run, release.Run);

        await release.Done.Task.WaitAsync(Wait);
        Assert.True(announce.Started.Task.IsCompleted);
        Assert.False(end.IsCompleted, "the sequence ends only once both steps have");
        announce.Gate.SetResult();
        Assert.Equal(new EndOutcome(null, null), await end.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_hanging_release_does_not_hold_the_publish()
    {
        var announce = Step.Ending();
        var release = new Step();

        var end = EndSequence.Run(announce.Run, release.Run);

        await announce.Done.Task.WaitAsync(Wait);
        Assert.True(release.Started.Task.IsCompleted);
        Assert.False(end.IsCompleted);
        release.Gate.SetResult();
        Assert.Equal(new EndOutcome(null, null), await end.WaitAsync(Wait));
    }

    public static TheoryData<bool> AtOnceOrAfterAWait => new() { true, false };

    [Theory]
    [MemberData(nameof(AtOnceOrAfterAWait))]
    public async Task A_failing_publish_still_releases_and_is_reported(bool atOnce)
    {
        var failure = new TimeoutException("Response did not arrive on time");
        var announce = new Step { Throws = failure, ThrowsAtOnce = atOnce };
        announce.Gate.SetResult();
        var release = Step.Ending();

        var end = await EndSequence.Run(announce.Run, release.Run).WaitAsync(Wait);

        Assert.True(release.Done.Task.IsCompleted);
        Assert.Same(failure, end.AnnounceFailure);
        Assert.Null(end.ReleaseFailure);
    }

    [Theory]
    [MemberData(nameof(AtOnceOrAfterAWait))]
    public async Task A_failing_release_is_reported_and_the_publish_still_goes_out(bool atOnce)
    {
        var failure = new InvalidOperationException("the queue's silo is unreachable");
        var announce = Step.Ending();
        var release = new Step { Throws = failure, ThrowsAtOnce = atOnce };
        release.Gate.SetResult();

        var end = await EndSequence.Run(announce.Run, release.Run).WaitAsync(Wait);

        Assert.True(announce.Done.Task.IsCompleted);
        Assert.Null(end.AnnounceFailure);
        Assert.Same(failure, end.ReleaseFailure);
    }

    [Fact]
    public async Task Both_failing_are_both_reported_whichever_ends_first()
    {
        var (announceFailure, releaseFailure) = (new TimeoutException("announce"), new InvalidOperationException("release"));
        var announce = new Step { Throws = announceFailure };
        var release = new Step { Throws = releaseFailure };

        var end = EndSequence.Run(announce.Run, release.Run);
        release.Gate.SetResult();
        await release.Done.Task.WaitAsync(Wait);
        Assert.False(end.IsCompleted);
        announce.Gate.SetResult();

        Assert.Equal(new EndOutcome(announceFailure, releaseFailure), await end.WaitAsync(Wait));
    }
}
