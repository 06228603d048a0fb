using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// Publishes a backtest's events on its stream. Streamed events are live hints; the grain's state is the truth, and a
/// client that missed events re-reads the status (the API sends a snapshot first on every subscription). So a publish
/// that fails (the silo behind the stream's queue just died, a provider's transient error) is dropped and counted,
/// never thrown: a transient cluster fault must not end a backtest. The first failure of each run of failures is
/// reported; a publish that succeeds ends the run.
/// </summary>
public class LiveEventPublisher<TEvent>
{
    private readonly Func<TEvent, Task> _sendOne;
    private readonly Func<IReadOnlyList<TEvent>, Task> _sendBatch;
    private readonly Action<Exception, long> _reportFailure;
    private bool _failing;

    /// <param name="sendOne">Publishes one event (the stream's OnNextAsync).</param>
    /// <param name="sendBatch">Publishes events in order (the stream's OnNextBatchAsync).</param>
    /// <param name="reportFailure">Told the first failure of each run of failures, with the events dropped so far.</param>
    public LiveEventPublisher(Func<TEvent, Task> sendOne, Func<IReadOnlyList<TEvent>, Task> sendBatch,
        Action<Exception, long> reportFailure)
    {
        _sendOne = sendOne;
        _sendBatch = sendBatch;
        _reportFailure = reportFailure;
    }

    /// <summary>Events that could not be published, since the grain's activation.</summary>
    public long Dropped { get; private set; }

    public Task PublishAsync(TEvent message) => Send(() => _sendOne(message), 1);

    public Task PublishAsync(IReadOnlyList<TEvent> messages) =>
        messages.Count == 0 ? Task.CompletedTask : Send(() => _sendBatch(messages), messages.Count);

    private async Task Send(Func<Task> send, int count)
    {
        try
        {
            await send();
            _failing = false;
        }
#pragma warning disable CA1031 // Every failure of a live hint is dropped: see the summary.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Dropped += count;
            if (!_failing)
            {
                _failing = true;
                _reportFailure(e, Dropped);
            }
        }
    }
}

/// <summary>A backtest's events (an optimization job publishes its own <see cref="OptimizationEvent"/>s the same way).</summary>
public sealed class LiveEventPublisher(Func<BacktestEvent, Task> sendOne, Func<IReadOnlyList<BacktestEvent>, Task> sendBatch,
    Action<Exception, long> reportFailure) : LiveEventPublisher<BacktestEvent>(sendOne, sendBatch, reportFailure);
