using System.Text.Json;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Tests.Rules;

/// <summary>The lifecycle's one home: its states, their words and which of them are terminal.</summary>
public class LifecycleTests
{
    public static TheoryData<BacktestState> States() => new(Enum.GetValues<BacktestState>());

    [Theory, MemberData(nameof(States))]
    public void Every_state_has_its_snake_case_name_as_its_word(BacktestState state) =>
        Assert.Equal(JsonNamingPolicy.SnakeCaseLower.ConvertName(state.ToString()), Lifecycle.Word(state));

    [Fact]
    public void The_words_are_the_states_words_in_the_lifecycles_order() =>
        Assert.Equal(Enum.GetValues<BacktestState>().Select(Lifecycle.Word), LifecycleWords.All);

    [Fact]
    public void Completed_cancelled_failed_and_timed_out_are_the_terminal_states() =>
        Assert.Equal([BacktestState.Completed, BacktestState.Cancelled, BacktestState.Failed, BacktestState.TimedOut],
            Enum.GetValues<BacktestState>().Where(Lifecycle.IsTerminal));

    [Theory, MemberData(nameof(States))]
    public void A_state_is_terminal_exactly_when_its_word_is(BacktestState state) =>
        Assert.Equal(LifecycleWords.Terminal.Contains(Lifecycle.Word(state)), Lifecycle.IsTerminal(state));

    [Theory, MemberData(nameof(States))]
    public void A_terminal_state_ends_with_a_completion_word_and_no_other_state_has_one(BacktestState state)
    {
        if (!Lifecycle.IsTerminal(state))
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => Lifecycle.CompletionWord(state));
            return;
        }

        var expected = state switch
        {
            BacktestState.Completed => CompletionStatus.Completed,
            BacktestState.Failed => CompletionStatus.Failed,
            _ => CompletionStatus.Cancelled, // cancelled, and timed out: stopped with partial results
        };
        Assert.Equal(expected, Lifecycle.CompletionWord(state));
    }

    [Theory, MemberData(nameof(States))]
    public void A_terminal_state_has_no_move_and_every_other_state_has_one(BacktestState state) =>
        Assert.Equal(!Lifecycle.IsTerminal(state), Enum.GetValues<BacktestState>().Any(next => Lifecycle.CanMove(state, next)));

    [Theory, MemberData(nameof(States))]
    public void A_status_is_terminal_exactly_when_its_state_is(BacktestState state) =>
        Assert.Equal(Lifecycle.IsTerminal(state), new BacktestStatus(Guid.Empty, state, "", BacktestPriority.Normal, "",
            default, default, null, null, null, null, [], [], false, null).IsTerminal);

    [Fact]
    public void The_completion_statuses_are_the_words_of_their_end_states() =>
        Assert.Equal([LifecycleWords.Completed, LifecycleWords.Cancelled, LifecycleWords.Failed],
            [CompletionStatus.Completed, CompletionStatus.Cancelled, CompletionStatus.Failed]);
}
