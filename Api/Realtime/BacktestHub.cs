using System.Collections.Concurrent;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Backtesting.Api.Realtime;

/// <summary>
/// SignalR hub at <c>/hubs/backtests</c>. <c>Subscribe(backtestId)</c> returns once the snapshot was sent; after it
/// the connection receives every event of that backtest (progress, trades, equity, errors, completion) through
/// the client method <c>message</c>, each one exactly the seed's message object.
/// </summary>
[Authorize]
public sealed class BacktestHub(BacktestAccess access, HubSubscriptions subscriptions) : Hub
{
    /// <summary>The client method every message is sent to.</summary>
    public const string MessageMethod = "message";

    public async Task Subscribe(string backtestId)
    {
        var id = await Accessible(backtestId);
        await subscriptions.AddAsync(Context.ConnectionId, id, Context.ConnectionAborted);
    }

    public async Task Unsubscribe(string backtestId)
    {
        if (Guid.TryParse(backtestId, out var id))
        {
            await subscriptions.RemoveAsync(Context.ConnectionId, id);
        }
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        await subscriptions.RemoveConnectionAsync(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    private async Task<Guid> Accessible(string backtestId)
    {
        if (!Guid.TryParse(backtestId, out var id) || await access.FindAsync(id, Context.User!.ApiUser(), Context.ConnectionAborted) is null)
        {
            throw new HubException($"backtest {backtestId} not found");
        }

        return id;
    }
}

/// <summary>The hub's live subscriptions: one pump per (connection, backtest), ended on unsubscribe or disconnect.</summary>
public sealed class HubSubscriptions(IHubContext<BacktestHub> hub, IClusterClient client, BacktestEventRelay relay, ILogger<HubSubscriptions> log)
{
    private readonly ConcurrentDictionary<(string Connection, Guid Backtest), CancellationTokenSource> _pumps = new();

    public async Task AddAsync(string connectionId, Guid id, CancellationToken connectionAborted)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(connectionAborted);
        if (!_pumps.TryAdd((connectionId, id), cancellation))
        {
            cancellation.Dispose();
            return; // already subscribed
        }

        var snapshotSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var caller = hub.Clients.Client(connectionId);
        _ = Task.Run(async () =>
        {
            try
            {
                await SubscriptionPump.RunAsync(id, client, relay, EventSelection.All,
                    (message, token) => caller.SendAsync(BacktestHub.MessageMethod, message.Message, token), snapshotSent, cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                // unsubscribed or disconnected
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log.LogWarning(e, "Relaying backtest {Id} to connection {Connection} failed", id, connectionId);
            }
            finally
            {
                _pumps.TryRemove(new KeyValuePair<(string, Guid), CancellationTokenSource>((connectionId, id), cancellation));
                cancellation.Dispose();
            }
        }, CancellationToken.None);
        await snapshotSent.Task;
    }

    public Task RemoveAsync(string connectionId, Guid id)
    {
        if (_pumps.TryRemove((connectionId, id), out var cancellation))
        {
            Stop(cancellation);
        }

        return Task.CompletedTask;
    }

    public Task RemoveConnectionAsync(string connectionId)
    {
        foreach (var key in _pumps.Keys.Where(k => k.Connection == connectionId).ToList())
        {
            if (_pumps.TryRemove(key, out var cancellation))
            {
                Stop(cancellation);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Ends a pump; the pump disposes its own token source when it ends.</summary>
    private static void Stop(CancellationTokenSource cancellation)
    {
        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the pump had ended already
        }
    }
}
