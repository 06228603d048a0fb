using System.Threading.Channels;
using Backtesting.Api.Backtests;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Realtime;

/// <summary>
/// Feeds one subscriber one backtest: it subscribes to the live events first and only then reads the snapshot,
/// so nothing falls between the two; it sends the snapshot, then the live events, and ends after the completion.
/// </summary>
public static class SubscriptionPump
{
    /// <summary>How long a subscriber may hear nothing before the grain is asked whether the backtest ended.</summary>
    public static TimeSpan QuietCheck { get; set; } = TimeSpan.FromSeconds(1);

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

            var grain = client.GetGrain<IBacktestGrain>(id);
            while (true)
            {
                // Streamed events are hints (a memory stream can lose them, and the worker's completion line can pass
                // before the subscription is in place): when nothing arrives for a while, ask the grain whether the
                // backtest ended, and if so send its final messages from the authoritative state.
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                quiet.CancelAfter(QuietCheck);
                bool more;
                try
                {
                    more = await channel.Reader.WaitToReadAsync(quiet.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    BacktestStatus current;
                    try
                    {
                        current = await grain.GetStatus();
                    }
                    catch (Exception e) when (Problems.IsClusterUnavailable(e))
                    {
                        continue; // the cluster is away for a moment: the subscriber keeps waiting for it
                    }

                    if (current.IsTerminal)
                    {
                        foreach (var message in Snapshot.Messages(current, DateTime.UtcNow).Where(m => selection.Wants(m.Type)))
                        {
                            await send(message, cancellationToken);
                        }

                        return;
                    }

                    continue;
                }

                if (!more)
                {
                    return;
                }

                while (channel.Reader.TryRead(out var message))
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
        }
        catch (Exception e) when (snapshotSent is not null && !snapshotSent.Task.IsCompleted)
        {
            snapshotSent.TrySetException(e);
            throw;
        }
    }
}
