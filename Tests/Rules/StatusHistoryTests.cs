using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Backtesting.Tests.Rules;

/// <summary>
/// A backtest's status history keeps one entry per distinct (state, detail) with a count and the last time (issue 18: a
/// backtest retried after every kill of its silo grew its grain state by an entry per move, on every write).
/// </summary>
public class StatusHistoryTests
{
    private static readonly DateTime T0 = new(2026, 12, 7, 5, 0, 0, DateTimeKind.Utc);
    private const string Restarted = "restarted after its silo was lost";

    /// <summary>The moves of a backtest whose silo was killed <paramref name="kills"/> times, then completed.</summary>
    private static List<(BacktestState State, string? Detail)> Moves(int kills)
    {
        var moves = new List<(BacktestState, string?)>
        {
            (BacktestState.Created, null), (BacktestState.Queued, null), (BacktestState.Starting, "attempt 1 on the docker runner"),
            (BacktestState.Running, null),
        };
        for (var kill = 0; kill < kills; kill++)
        {
            moves.Add(kill % 5 == 4 ? (BacktestState.Queued, "its slot expired while the run was lost; queued again") : (BacktestState.Starting, Restarted));
            if (kill % 5 == 4)
            {
                moves.Add((BacktestState.Starting, null));
            }

            moves.Add((BacktestState.Running, null));
        }

        moves.Add((BacktestState.Completed, null));
        return moves;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(50)]
    [InlineData(1000)]
    public void A_backtest_retried_many_times_keeps_one_entry_per_state_and_detail_with_its_count_and_times(int kills)
    {
        var moves = Moves(kills);
        var history = new List<StateChange>();
        for (var i = 0; i < moves.Count; i++)
        {
            StatusHistory.Add(history, moves[i].State, T0.AddSeconds(i), moves[i].Detail);
        }

        var distinct = moves.Distinct().ToList();
        Assert.Equal(distinct.Count, history.Count);
        Assert.True(history.Count <= 8, $"{history.Count} entries after {kills} kills");
        foreach (var (state, detail) in distinct)
        {
            var entry = Assert.Single(history, h => h.State == state && h.Detail == detail);
            var indices = Enumerable.Range(0, moves.Count).Where(i => moves[i] == (state, detail)).ToList();
            Assert.Equal(indices.Count, entry.Times);
            Assert.Equal(T0.AddSeconds(indices[0]), entry.At);
            Assert.Equal(T0.AddSeconds(indices[^1]), entry.LastAt);
        }

        // In the order the changes were last made; the last is the current state.
        Assert.Equal(history.OrderBy(h => h.LastAt), history);
        Assert.Equal(BacktestState.Completed, history[^1].State);
        Assert.Equal(moves.Count, history.Sum(h => h.Times));
    }

    [Fact]
    public void A_terminal_change_is_never_taken_for_a_repeat()
    {
        var history = new List<StateChange>();
        StatusHistory.Add(history, BacktestState.Failed, T0, "boom");
        StatusHistory.Add(history, BacktestState.Failed, T0.AddSeconds(1), "boom");
        Assert.Equal(2, history.Count);
        Assert.All(history, h => Assert.Equal(1, h.Times));
    }

    [Fact]
    public void Repeats_in_a_history_stored_before_they_were_counted_merge_at_their_next_repeat()
    {
        var history = new List<StateChange>
        {
            new(BacktestState.Running, T0, null), new(BacktestState.Starting, T0.AddSeconds(1), Restarted),
            new(BacktestState.Running, T0.AddSeconds(2), null),
        };
        StatusHistory.Add(history, BacktestState.Starting, T0.AddSeconds(3), Restarted);
        StatusHistory.Add(history, BacktestState.Running, T0.AddSeconds(4), null);

        Assert.Equal(2, history.Count);
        Assert.Equal((BacktestState.Starting, 2, T0.AddSeconds(1), T0.AddSeconds(3)), (history[0].State, history[0].Times, history[0].At, history[0].LastAt));
        Assert.Equal((BacktestState.Running, 3, T0, T0.AddSeconds(4)), (history[1].State, history[1].Times, history[1].At, history[1].LastAt));
    }

    /// <summary>
    /// The grain state keeps the count and the last time through storage's serializer (new field ids; a change stored before
    /// repeats were counted has neither, which reads as no repeat: <see cref="StateChange.Repeats"/> 0, no <see cref="StateChange.RepeatedAt"/>).
    /// </summary>
    [Fact]
    public void The_grain_state_keeps_the_count_and_the_last_time_through_storage()
    {
        using var services = new ServiceCollection().AddBacktestingSerialization().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var state = new Backtesting.Grains.BacktestGrainState();
        StatusHistory.Add(state.History, BacktestState.Running, T0, null);
        StatusHistory.Add(state.History, BacktestState.Starting, T0.AddSeconds(1), Restarted);
        StatusHistory.Add(state.History, BacktestState.Running, T0.AddSeconds(2), null);
        var read = serializer.Deserialize<Backtesting.Grains.BacktestGrainState>(serializer.SerializeToArray(state));
        Assert.NotNull(read);
        Assert.Equal(state.History, read.History);
        Assert.Equal((1, T0.AddSeconds(1)), (read.History[0].Times, read.History[0].LastAt));
        Assert.Equal((2, T0, T0.AddSeconds(2)), (read.History[1].Times, read.History[1].At, read.History[1].LastAt));
        Assert.Equal(1, new StateChange(BacktestState.Created, T0, null).Times);
    }

    [Fact]
    public void The_wire_shows_the_count_and_the_last_time_not_the_stored_fields()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new StateChange(BacktestState.Running, T0, null, 2, T0.AddMinutes(1)),
            Backtesting.Engine.Configuration.JsonDefaults.Options);
        Assert.Contains("\"times\":3", json, StringComparison.Ordinal);
        Assert.Contains("\"lastAt\":\"2026-12-07T05:01:00Z\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("repeat", json, StringComparison.OrdinalIgnoreCase);
    }
}
