using System.Threading.Channels;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Realtime;

/// <summary>
/// Feeds one subscriber one backtest: it subscribes to the live events first and only then reads the snapshot,
/// so nothing falls between the two; it sends the snapshot, then the live events, and ends after the completion.
/// </summary>
public static class SubscriptionPump
{
    /// <param name="send">Delivers one message to the subscriber (called from one task at a time).</param>
    /// <param name="snapshotSent">Completed once the snapshot is out (or faulted when it could not be sent).</param>
    public static async Task RunAsync(Guid id, IClusterClient client, BacktestEventRelay relay, EventSelection selection,
        Func<RelayedEvent, CancellationToken, Task> send, TaskCompletionSource? snapshotSent, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<RelayedEvent>(new UnboundedChannelOptions { SingleReader = true });
        try
        {
            await using var subscription = await relay.SubscribeAsync(id, channel.Writer, cancellationToken);
            var status = await client.GetGrain<IBacktestGrain>(id).GetStatus();
            foreach (var message in Snapshot.Messages(status, DateTime.UtcNow))
            {
                if (selection.Wants(message.Type) || message.Type == MessageTypes.Progress)
                {
                    await send(message, cancellationToken);
                }
            }

            snapshotSent?.TrySetResult();
            if (status.IsTerminal)
            {
                return;
            }

            await foreach (var message in channel.Reader.ReadAllAsync(cancellationToken))
            {
                if (selection.Wants(message.Type))
                {
                    await send(message, cancellationToken);
                }

                if (message.Type == MessageTypes.Complete)
                {
                    return;
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
