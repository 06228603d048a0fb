using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;

namespace Backtesting.Grains.Persistence;

/// <summary>
/// Writes a backtest's state, progress and checkpoints to grain storage and the backtests row, and owns their order:
/// one write at a time, each after the previous one (<see cref="Exclusive"/>), whoever asks: the supervision loop's moves
/// and the supervision tick's progress interleave on the grain, and two writes in flight together reach PostgreSQL in
/// either order (a row left "running" behind a completed grain). The move to Running is the one write that does not hold
/// the caller up (it is persisted beside the run's first burst of lines); it takes its turn like every other.
/// </summary>
public sealed class BacktestStateWriter(Guid id, IPersistentState<BacktestGrainState> state, IBacktestStore store)
{
    /// <summary>The move to Running of the current attempt, persisted beside its event stream (null: not yet).</summary>
    private Task? _toRunning;
    private Exception? _toRunningFailure;
    private DateTime _lastProgressWrite;
    private bool _progressDirty;
    private string? _lastCheckpointSynced;
    /// <summary>The last write asked for, never faulted: the next one starts after it.</summary>
    private Task _tail = Task.CompletedTask;

    private BacktestGrainState S => state.State;

    /// <summary>A new attempt: its move to Running is still to come.</summary>
    public void NewAttempt()
    {
        _toRunning = null;
        _toRunningFailure = null;
    }

    /// <summary>Moves to <paramref name="next"/> if the lifecycle allows it, stored in grain state and the row, kept in the history.</summary>
    public Task MoveTo(BacktestState next, string? detail) => Exclusive(async () =>
    {
        // Checked when its turn comes: the state is the one the writes before it left.
        if (!Lifecycle.CanMove(S.State, next))
        {
            throw new IllegalTransitionException(S.State, $"move to {next}");
        }

        var now = DateTime.UtcNow;
        S.State = next;
        S.UpdatedAt = now;
        StatusHistory.Add(S.History, next, now, detail);
        // The grain's state and the backtests row are written side by side: both are done before the move is
        // acknowledged, and a failure of either fails it, as one after the other would.
        await Task.WhenAll(
            state.WriteStateAsync(),
            store.UpdateStatusAsync(id, Lifecycle.Word(next), S.Progress?.Progress.Percentage,
                S.Error?.ErrorMessage, Lifecycle.IsTerminal(next) ? S.CompletedAt ?? now : null, detail));
        _progressDirty = false;
        _lastProgressWrite = now;
    });

    /// <summary>
    /// Writes the grain state and the backtests row again as the grain holds them (no move, no history entry of its own):
    /// after a move whose writes broke off half way (the state stored and the row not, or the other way round), the
    /// grain is the truth and the row that listings read must say what it says.
    /// </summary>
    public Task StoreAgain() => Exclusive(() => Task.WhenAll(
        state.WriteStateAsync(),
        store.UpdateStatusAsync(id, Lifecycle.Word(S.State), S.Progress?.Progress.Percentage, S.Error?.ErrorMessage,
            Lifecycle.IsTerminal(S.State) ? S.CompletedAt ?? S.UpdatedAt : null, null)));

    /// <summary>Writes the grain state alone (no move), after any write in flight.</summary>
    public Task Save() => Exclusive(() => state.WriteStateAsync());

    /// <summary>
    /// A progress line arrived: the progress is due to be persisted, and the first one of an attempt that is Starting
    /// starts the move to Running. That move is persisted beside the stream, not in front of it: a run's first lines
    /// come in a burst, and two round trips there held every one of them back. It never throws; its failure is raised
    /// by <see cref="ThrowIfRunningNotPersisted"/>.
    /// </summary>
    public void ProgressReceived()
    {
        _progressDirty = true;
        if (S.State == BacktestState.Starting && _toRunning is null)
        {
            _toRunning = PersistRunning();
        }
    }

    private async Task PersistRunning()
    {
        try
        {
            await MoveTo(BacktestState.Running, null);
        }
        catch (Exception e)
        {
            _toRunningFailure = e;
        }
    }

    /// <summary>Raises a failure of the move to Running, once.</summary>
    public void ThrowIfRunningNotPersisted()
    {
        if (_toRunningFailure is { } failure)
        {
            _toRunningFailure = null;
            throw new InvalidOperationException("persisting the move to Running failed: " + failure.Message, failure);
        }
    }

    /// <summary>Waits for every write asked for so far (the move to Running among them) to end, whatever its outcome.</summary>
    public Task Settle() => _tail;

    /// <summary>
    /// Runs <paramref name="write"/> once every write asked for before it has ended (succeeded or failed), and makes the
    /// next one wait for it: the one place that orders this backtest's writes. A write that finds nothing in flight starts
    /// at once, in the caller's turn (its state changes are seen on return, before its first await).
    /// </summary>
    private Task Exclusive(Func<Task> write)
    {
        var mine = After(_tail, write);
        _tail = Quietly(mine);
        return mine;

        static async Task After(Task previous, Func<Task> write)
        {
            await previous;
            await write();
        }

        static async Task Quietly(Task task)
        {
            try
            {
                await task;
            }
            catch (Exception)
            {
                // Its caller sees the failure; the writes after it still take their turn.
            }
        }
    }

    /// <summary>Persists the progress when it changed and the last write is at least <paramref name="interval"/> old.</summary>
    public async Task PersistProgressIfDue(TimeSpan interval)
    {
        if (_progressDirty && DateTime.UtcNow - _lastProgressWrite >= interval)
        {
            await PersistProgress();
        }
    }

    private Task PersistProgress() => Exclusive(async () =>
    {
        _progressDirty = false;
        _lastProgressWrite = DateTime.UtcNow;
        await state.WriteStateAsync();
        await store.UpdateStatusAsync(id, Lifecycle.Word(S.State), S.Progress?.Progress.Percentage, null, null, null);
    });

    /// <summary>The checkpoint the current attempt started from (null: none), so an unchanged file is not stored again.</summary>
    public void CheckpointKnown(string? json) => _lastCheckpointSynced = json;

    /// <summary>Stores the worker's checkpoint in <paramref name="directory"/> when it changed: in PostgreSQL, then in grain state.</summary>
    public async Task SyncCheckpoint(string directory)
    {
        var path = Path.Combine(directory, WorkerFiles.Checkpoint);
        if (!File.Exists(path))
        {
            return;
        }

        string json;
        try
        {
            // The worker wrote it: a link there is refused, never followed (AttemptFolder).
            if (await AttemptFolder.ReadTextAsync(path) is not { } text)
            {
                return;
            }

            json = text;
        }
        catch (IOException)
        {
            return; // being replaced right now (or not a plain file); the next tick reads it
        }

        if (json == _lastCheckpointSynced)
        {
            return;
        }

        _lastCheckpointSynced = json;
        await Exclusive(async () =>
        {
            S.Checkpoint = json;
            await store.SaveCheckpointAsync(id, json);
            await state.WriteStateAsync();
        });
    }
}
