using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using static Backtesting.Grains.Interfaces.OptimizationState;

namespace Backtesting.Tests.Rules;

/// <summary>The job's lifecycle: every pair of states against the moves written out here, the terminal states and the words.</summary>
public class OptimizationLifecycleTests
{
    private static readonly HashSet<(OptimizationState, OptimizationState)> Legal =
    [
        (Created, Queued), (Created, Cancelled), (Created, Failed),
        (Queued, Running), (Queued, Paused), (Queued, Completed), (Queued, Cancelled), (Queued, Failed),
        (Running, Paused), (Running, Completed), (Running, Cancelled), (Running, Failed),
        (Paused, Queued), (Paused, Running), (Paused, Cancelled), (Paused, Failed),
    ];

    [Fact]
    public void Exactly_the_listed_moves_are_legal()
    {
        foreach (var from in Enum.GetValues<OptimizationState>())
        {
            foreach (var to in Enum.GetValues<OptimizationState>())
            {
                Assert.True(Legal.Contains((from, to)) == OptimizationLifecycle.CanMove(from, to), $"{from} -> {to}");
            }
        }
    }

    [Fact]
    public void Completed_cancelled_and_failed_are_terminal_and_never_move()
    {
        foreach (var state in Enum.GetValues<OptimizationState>())
        {
            var terminal = state is Completed or Cancelled or Failed;
            Assert.Equal(terminal, OptimizationLifecycle.IsTerminal(state));
            Assert.Equal(terminal, !Enum.GetValues<OptimizationState>().Any(to => OptimizationLifecycle.CanMove(state, to)));
        }
    }

    [Fact]
    public void Each_state_has_the_backtest_lifecycle_word_of_the_same_name_and_is_read_back_from_it()
    {
        foreach (var state in Enum.GetValues<OptimizationState>())
        {
            var word = OptimizationLifecycle.Word(state);
            Assert.Contains(word, LifecycleWords.All);
            Assert.Equal(state.ToString().ToLowerInvariant(), word);
            Assert.Equal(state, OptimizationLifecycle.FromWord(word));
        }

        Assert.Null(OptimizationLifecycle.FromWord(LifecycleWords.Starting));
        Assert.Null(OptimizationLifecycle.FromWord(LifecycleWords.TimedOut));
        Assert.Null(OptimizationLifecycle.FromWord("Running"));
        Assert.Null(OptimizationLifecycle.FromWord(""));
    }

    [Fact]
    public void A_refused_move_names_the_action_and_the_state_word()
    {
        var e = new IllegalOptimizationMoveException(Completed, "pause");
        Assert.Equal("cannot pause an optimization that is completed", e.Message);
        Assert.Equal(Completed, e.Current);
        Assert.Equal("pause", e.Action);
    }
}
