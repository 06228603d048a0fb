using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Supervision;

namespace Backtesting.Tests.Rules;

/// <summary>
/// What an ended backtest announces, in every state, deleted or not, with and without a summary and an error: the recovery
/// of an ended backtest announces it again (issue 18: a silo killed between storing the end and announcing it left every
/// subscriber without a completion).
/// </summary>
public class EndAnnouncementTests
{
    private const string Url = "/api/v1/nautilus/backtest/results/x";
    private static readonly CompletionSummary Summary = new(7, 118_734.2, 0.1873, 0.121);
    private static readonly BacktestErrorData Error = new(ErrorTypes.Execution, "the worker failed", null);

    public static TheoryData<BacktestState> EveryState() => new(Enum.GetValues<BacktestState>());

    [Theory, MemberData(nameof(EveryState))]
    public void Every_ended_backtest_announces_its_end_with_its_word_and_nothing_else_announces_one(BacktestState state)
    {
        foreach (var summary in new[] { null, Summary })
        {
            foreach (var error in new[] { null, Error })
            {
                Assert.Null(EndAnnouncement.Of(state, deleted: true, TimeSpan.FromSeconds(3), summary, error, Url));
                var end = EndAnnouncement.Of(state, deleted: false, TimeSpan.FromSeconds(3), summary, error, Url);
                if (!Lifecycle.IsTerminal(state))
                {
                    Assert.Null(end);
                    continue;
                }

                Assert.NotNull(end);
                Assert.Equal(Lifecycle.CompletionWord(state), end.Complete.Status);
                Assert.Equal(3, end.Complete.ExecutionTime);
                Assert.Equal(summary ?? EndAnnouncement.EmptySummary, end.Complete.Summary);
                Assert.Equal(Url, end.Complete.ResultsUrl);
                // Results kept by a run that did not complete are partial ones; a completed run's are whole.
                Assert.Equal(state != BacktestState.Completed && summary is not null, end.Complete.Partial);
                // The error goes out again only where the end published one.
                Assert.Equal(state is BacktestState.Failed or BacktestState.TimedOut ? error : null, end.Error);
            }
        }
    }

    /// <summary>The recovery of an ended backtest settles its end, and settling includes announcing it: the step is the same for every end.</summary>
    [Theory, MemberData(nameof(EveryState))]
    public void The_recovery_of_every_ended_backtest_settles_and_so_announces_its_end(BacktestState state)
    {
        if (Lifecycle.IsTerminal(state))
        {
            Assert.Equal(RecoveryStep.SettleEnd, RecoveryRule.Next(state, deleted: false, hasRun: false));
            Assert.NotNull(EndAnnouncement.Of(state, deleted: false, TimeSpan.Zero, null, null, Url));
        }
    }
}
