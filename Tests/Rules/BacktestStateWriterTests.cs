using Backtesting.Engine.Protocol;
using Backtesting.Grains;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Persistence;
using Backtesting.Storage;

namespace Backtesting.Tests.Rules;

/// <summary>The ordered writes of a backtest's state, progress and checkpoints, on recording fakes of grain storage and the store.</summary>
public sealed class BacktestStateWriterTests : IDisposable
{
    private static readonly Guid Id = Guid.NewGuid();
    private readonly BacktestGrainState _grainState = new();
    private readonly CallRecorder _state;
    private readonly CallRecorder _store;
    private readonly BacktestStateWriter _writer;
    private readonly string _folder = Directory.CreateTempSubdirectory("state-writer-").FullName;
    /// <summary>Completes the grain state's next write (null: writes complete at once).</summary>
    private TaskCompletionSource? _holdWrite;

    public BacktestStateWriterTests()
    {
        var (state, stateCalls) = CallRecorder.Of<IPersistentState<BacktestGrainState>>();
        var (store, storeCalls) = CallRecorder.Of<IBacktestStore>();
        _state = stateCalls;
        _store = storeCalls;
        _state.Answer = (method, _) => method switch
        {
            "get_State" => _grainState,
            "WriteStateAsync" when _holdWrite is { } hold => Take(ref _holdWrite, hold.Task),
            _ => null,
        };
        _writer = new BacktestStateWriter(Id, state, store);
    }

    private static Task Take(ref TaskCompletionSource? hold, Task task)
    {
        hold = null;
        return task;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private int Writes => _state.Methods.Count(m => m == "WriteStateAsync");

    private IEnumerable<string> StoredStatuses => _store.Calls.Where(c => c.Method == "UpdateStatusAsync").Select(c => (string)c.Arguments[1]!);

    [Fact]
    public async Task A_move_is_written_to_grain_state_and_the_row_and_kept_in_the_history()
    {
        await _writer.MoveTo(BacktestState.Queued, "waiting");

        Assert.Equal(BacktestState.Queued, _grainState.State);
        Assert.Equal(("waiting", BacktestState.Queued), (_grainState.History[^1].Detail, _grainState.History[^1].State));
        Assert.Equal(1, Writes);
        Assert.Equal([LifecycleWords.Queued], StoredStatuses);
    }

    [Fact]
    public async Task A_move_the_lifecycle_forbids_is_refused_and_nothing_is_written()
    {
        await Assert.ThrowsAsync<IllegalTransitionException>(() => _writer.MoveTo(BacktestState.Running, null));

        Assert.Equal(BacktestState.Created, _grainState.State);
        Assert.Equal(0, Writes);
        Assert.Empty(_store.Calls);
    }

    [Fact]
    public async Task A_move_to_a_terminal_state_stores_its_completion_time()
    {
        _grainState.CompletedAt = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        await _writer.MoveTo(BacktestState.Cancelled, "cancelled by request");

        Assert.Equal(_grainState.CompletedAt, _store.Calls.Single().Arguments[4]);
    }

    [Fact]
    public async Task The_first_progress_of_a_starting_attempt_moves_it_to_running_and_every_later_write_waits_for_that_move()
    {
        _grainState.State = BacktestState.Starting;
        _holdWrite = new TaskCompletionSource();
        var held = _holdWrite;
        _writer.ProgressReceived();
        Assert.Equal(BacktestState.Running, _grainState.State);

        var save = _writer.Save();
        Assert.False(save.IsCompleted);
        Assert.Equal(1, Writes);

        held.SetResult();
        await save;
        Assert.Equal(2, Writes);
    }

    [Fact]
    public async Task A_move_asked_while_a_progress_row_write_is_in_flight_is_written_after_it()
    {
        // The supervision tick persists progress while the supervision loop ends the run: both interleave on the grain.
        _grainState.State = BacktestState.Running;
        var rowHeld = new TaskCompletionSource<bool>();
        _store.Answer = (method, _) => method == "UpdateStatusAsync" && StoredStatuses.Count() == 1 ? rowHeld.Task : Task.FromResult(true);
        _writer.ProgressReceived();
        var progress = _writer.PersistProgressIfDue(TimeSpan.Zero);
        Assert.Equal([LifecycleWords.Running], StoredStatuses);

        var end = _writer.MoveTo(BacktestState.Completed, null);
        Assert.False(end.IsCompleted);
        Assert.Equal([LifecycleWords.Running], StoredStatuses);

        rowHeld.SetResult(true);
        await Task.WhenAll(progress, end);
        Assert.Equal([LifecycleWords.Running, LifecycleWords.Completed], StoredStatuses);
    }

    [Fact]
    public async Task Every_kind_of_write_waits_for_any_write_in_flight_and_still_runs_when_that_one_failed()
    {
        var point = 0;
        var kinds = new (string Name, Func<Task> Write)[]
        {
            ("move", () => _writer.MoveTo(_grainState.State == BacktestState.Created ? BacktestState.Queued : BacktestState.Starting, null)),
            ("store again", () => _writer.StoreAgain()),
            ("save", () => _writer.Save()),
            ("progress", () =>
            {
                _writer.ProgressReceived();
                return _writer.PersistProgressIfDue(TimeSpan.Zero);
            }),
            ("checkpoint", () =>
            {
                File.WriteAllText(Path.Combine(_folder, WorkerFiles.Checkpoint), $$"""{"processedPoints":{{++point}}}""");
                return _writer.SyncCheckpoint(_folder);
            }),
        };
        int Calls() => _state.Methods.Count(m => m == "WriteStateAsync") + _store.Calls.Count;
        foreach (var first in kinds)
        {
            foreach (var second in kinds)
            {
                _grainState.State = BacktestState.Created;
                var held = new TaskCompletionSource();
                _holdWrite = held;
                var a = first.Write();
                // The first write is in flight once its grain state write is taken (and held).
                for (var wait = 0; _holdWrite is not null && wait < 500; wait++)
                {
                    await Task.Delay(10);
                }

                Assert.Null(_holdWrite);
                var inFlight = Calls();
                var b = second.Write();
                await Task.Delay(50);
                Assert.False(b.IsCompleted, $"{second.Name} ended while {first.Name} was in flight");
                Assert.True(inFlight == Calls(), $"{second.Name} wrote while {first.Name} was in flight");

                held.SetException(new IOException("disk full"));
                await Assert.ThrowsAsync<IOException>(() => a);
                await b.WaitAsync(TimeSpan.FromSeconds(10));
                Assert.True(Calls() > inFlight, $"{second.Name} never wrote after {first.Name} failed");
            }
        }
    }

    [Fact]
    public async Task Only_the_first_progress_of_an_attempt_moves_it_to_running()
    {
        _grainState.State = BacktestState.Starting;
        _writer.ProgressReceived();
        await _writer.Settle();
        _grainState.State = BacktestState.Starting;
        _writer.ProgressReceived();
        await _writer.Settle();

        Assert.Equal([LifecycleWords.Running], StoredStatuses);
    }

    [Fact]
    public async Task A_failed_move_to_running_is_raised_once_by_the_supervision()
    {
        _grainState.State = BacktestState.Starting;
        _state.Answer = (method, _) => method switch
        {
            "get_State" => _grainState,
            "WriteStateAsync" => Task.FromException(new IOException("disk full")),
            _ => null,
        };
        _writer.ProgressReceived();
        await _writer.Settle();

        Assert.Contains("disk full", Assert.Throws<InvalidOperationException>(_writer.ThrowIfRunningNotPersisted).Message, StringComparison.Ordinal);
        _writer.ThrowIfRunningNotPersisted();
    }

    [Fact]
    public async Task Progress_is_persisted_only_when_it_changed_and_the_interval_passed()
    {
        _grainState.State = BacktestState.Running;
        await _writer.PersistProgressIfDue(TimeSpan.Zero);
        Assert.Empty(_store.Calls);

        _writer.ProgressReceived();
        await _writer.MoveTo(BacktestState.Paused, null);
        await _writer.PersistProgressIfDue(TimeSpan.Zero);
        Assert.Single(_store.Calls);

        _writer.ProgressReceived();
        await _writer.PersistProgressIfDue(TimeSpan.FromHours(1));
        Assert.Single(_store.Calls);

        await _writer.PersistProgressIfDue(TimeSpan.Zero);
        await _writer.PersistProgressIfDue(TimeSpan.Zero);
        Assert.Equal([LifecycleWords.Paused, LifecycleWords.Paused], StoredStatuses);
    }

    [Fact]
    public async Task A_checkpoint_is_stored_in_postgres_and_grain_state_once_per_change()
    {
        await _writer.SyncCheckpoint(_folder);
        Assert.Empty(_store.Calls);

        await File.WriteAllTextAsync(Path.Combine(_folder, WorkerFiles.Checkpoint), """{"processedPoints":10}""");
        await _writer.SyncCheckpoint(_folder);
        await _writer.SyncCheckpoint(_folder);

        Assert.Equal(["SaveCheckpointAsync"], _store.Methods);
        Assert.Equal("""{"processedPoints":10}""", _grainState.Checkpoint);
        Assert.Equal(1, Writes);
    }

    [Fact]
    public async Task The_checkpoint_an_attempt_started_from_is_not_stored_again()
    {
        const string json = """{"processedPoints":10}""";
        await File.WriteAllTextAsync(Path.Combine(_folder, WorkerFiles.Checkpoint), json);
        _writer.CheckpointKnown(json);
        await _writer.SyncCheckpoint(_folder);

        Assert.Empty(_store.Calls);
    }
}
