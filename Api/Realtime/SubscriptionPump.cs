using System.Threading.Channels;
using Backtesting.Api.Backtests;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Realtime;

/// <summary>What a <see cref="SubscriptionPump"/> follows: one backtest, or one optimization job.</summary>
public interface ILiveSource
{
    /// <summary>Starts delivering the live events to <paramref name="events"/> until the result is disposed.</summary>
    Task<IAsyncDisposable> SubscribeAsync(ChannelWriter<RelayedEvent> events, CancellationToken cancellationToken);

    /// <summary>Sends the current state (read from the authority, after the subscription) and says whether it has ended.</summary>
    Task<bool> SendSnapshotAsync(Func<RelayedEvent, CancellationToken, Task> send, CancellationToken cancellationToken);

    /// <summary>Asked after a quiet while: if it has ended, sends its final messages and says true; else sends nothing.</summary>
    Task<bool> SendEndIfEndedAsync(Func<RelayedEvent, CancellationToken, Task> send, CancellationToken cancellationToken);

    /// <summary>The live event as the subscriber gets it; null when it does not want it.</summary>
    RelayedEvent? Select(RelayedEvent message);

    /// <summary>Whether a live event of this type is the last one.</summary>
    bool Ends(string type);
}

/// <summary>
/// Feeds one subscriber one source: it subscribes to the live events first and only then reads the snapshot,
/// so nothing falls between the two; it sends the snapshot, then the live events, and ends after the completion.
/// </summary>
public static class SubscriptionPump
{
    /// <summary>How long a subscriber may hear nothing before the authority is asked whether the source ended.</summary>
    public static TimeSpan QuietCheck { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Feeds one backtest's events of <paramref name="selection"/>.</summary>
    public static Task RunAsync(Guid id, IClusterClient client, BacktestEventRelay relay, EventSelection selection,
        Func<RelayedEvent, CancellationToken, Task> send, TaskCompletionSource? snapshotSent, CancellationToken cancellationToken) =>
        RunAsync(new BacktestLiveSource(id, client, relay, selection), send, snapshotSent, cancellationToken);

    /// <param name="send">Delivers one message to the subscriber (called from one task at a time).</param>
    /// <param name="snapshotSent">Completed once the snapshot is out (or faulted when it could not be sent).</param>
    public static async Task RunAsync(ILiveSource source, Func<RelayedEvent, CancellationToken, Task> send, TaskCompletionSource? snapshotSent,
        CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<RelayedEvent>(new UnboundedChannelOptions { SingleReader = true });
        try
        {
            await using var subscription = await source.SubscribeAsync(channel.Writer, cancellationToken);
            var ended = await source.SendSnapshotAsync(send, cancellationToken);
            snapshotSent?.TrySetResult();
            if (ended)
            {
                return;
            }

            while (true)
            {
                // Streamed events are hints (a memory stream can lose them, and the completion can pass before the
                // subscription is in place): when nothing arrives for a while, ask the authority whether the source
                // ended, and if so send its final messages from the authoritative state.
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                quiet.CancelAfter(QuietCheck);
                bool more;
                try
                {
                    more = await channel.Reader.WaitToReadAsync(quiet.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    try
                    {
                        if (await source.SendEndIfEndedAsync(send, cancellationToken))
                        {
                            return;
                        }
                    }
                    catch (Exception e) when (Problems.IsClusterUnavailable(e))
                    {
                        // the cluster is away for a moment: the subscriber keeps waiting for it
                    }

                    continue;
                }

                if (!more)
                {
                    return;
                }

                while (channel.Reader.TryRead(out var message))
                {
                    if (source.Select(message) is { } selected)
                    {
                        await send(selected, cancellationToken);
                    }

                    if (source.Ends(message.Type))
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception e) when (snapshotSent is not null && !snapshotSent.Task.IsCompleted)
        {
            snapshotSent.TrySetException(e);
            throw;
        }
    }
}

/// <summary>One backtest as a pump's source: the grain's status is the authority, <see cref="Snapshot"/> its messages.</summary>
public sealed class BacktestLiveSource(Guid id, IClusterClient client, BacktestEventRelay relay, EventSelection selection) : ILiveSource
{
    public Task<IAsyncDisposable> SubscribeAsync(ChannelWriter<RelayedEvent> events, CancellationToken cancellationToken) =>
        relay.SubscribeAsync(id, events, cancellationToken);

    public async Task<bool> SendSnapshotAsync(Func<RelayedEvent, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var status = await client.GetGrain<IBacktestGrain>(id).GetStatus();
        foreach (var message in Snapshot.Messages(status, DateTime.UtcNow))
        {
            if (selection.Wants(message.Type) || message.Type == MessageTypes.Progress)
            {
                await send(message, cancellationToken);
            }
        }

        return status.IsTerminal;
    }

    public async Task<bool> SendEndIfEndedAsync(Func<RelayedEvent, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var current = await client.GetGrain<IBacktestGrain>(id).GetStatus();
        if (!current.IsTerminal)
        {
            return false;
        }

        foreach (var message in Snapshot.Messages(current, DateTime.UtcNow).Where(m => selection.Wants(m.Type)))
        {
            await send(message, cancellationToken);
        }

        return true;
    }

    public RelayedEvent? Select(RelayedEvent message) => selection.Wants(message.Type) ? message : null;

    public bool Ends(string type) => type == MessageTypes.Complete;
}
