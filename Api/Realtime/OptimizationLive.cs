using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Backtesting.Api.Optimizations;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.SignalR;

namespace Backtesting.Api.Realtime;

/// <summary>Relays the cluster's optimization streams (namespace <see cref="OptimizationStreamNames.Namespace"/>, keyed by the job id).</summary>
public sealed class OptimizationEventRelay(IClusterClient client, ILogger<OptimizationEventRelay> log) : StreamRelay<OptimizationEvent>(client, log)
{
    protected override string Namespace => OptimizationStreamNames.Namespace;

    protected override (string Type, string Json) Read(OptimizationEvent item) => (item.Type, item.Json);
}

/// <summary>
/// One optimization job as a pump's source. Its snapshot is the grain's status as <c>optimization_progress</c>, then
/// every trial stored so far as <c>optimization_trials</c> batches (in trial order), then, once the job has ended,
/// <c>optimization_complete</c>. A live trial the snapshot already held is not sent again.
/// </summary>
public sealed class OptimizationLiveSource(Guid id, IClusterClient client, OptimizationEventRelay relay, PostgresOptimizationStore store) : ILiveSource
{
    /// <summary>Trials per snapshot message.</summary>
    public const int SnapshotBatch = 500;

    private readonly HashSet<int> _sent = [];

    public Task<IAsyncDisposable> SubscribeAsync(ChannelWriter<RelayedEvent> events, CancellationToken cancellationToken) =>
        relay.SubscribeAsync(id, events, cancellationToken);

    public async Task<bool> SendSnapshotAsync(Func<RelayedEvent, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var status = await client.GetGrain<IOptimizationGrain>(id).GetStatus();
        await send(Relayed(OptimizationEvents.Progress(status)), cancellationToken);
        for (var page = 1; ; page++)
        {
            var read = await store.TrialsAsync(id, new TrialQuery(Descending: false, Page: page, PageSize: SnapshotBatch, ByTrialNumber: true),
                cancellationToken);
            if (read.Items.Count > 0)
            {
                _sent.UnionWith(read.Items.Select(t => t.TrialNumber));
                await send(Relayed(OptimizationEvents.Trials(id, read.Items.Select(OptimizationHandlers.TrialView).ToList())), cancellationToken);
            }

            if (read.Items.Count < SnapshotBatch)
            {
                break;
            }
        }

        if (status.IsTerminal)
        {
            await send(Relayed(OptimizationEvents.Complete(status)), cancellationToken);
        }

        return status.IsTerminal;
    }

    public async Task<bool> SendEndIfEndedAsync(Func<RelayedEvent, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var status = await client.GetGrain<IOptimizationGrain>(id).GetStatus();
        if (!status.IsTerminal)
        {
            return false;
        }

        await send(Relayed(OptimizationEvents.Progress(status)), cancellationToken);
        await send(Relayed(OptimizationEvents.Complete(status)), cancellationToken);
        return true;
    }

    public RelayedEvent? Select(RelayedEvent message)
    {
        if (message.Type != OptimizationEventTypes.Trials || _sent.Count == 0
            || !message.Message.TryGetProperty("data", out var data) || !data.TryGetProperty("trials", out var trials)
            || trials.ValueKind != JsonValueKind.Array)
        {
            return message;
        }

        var fresh = trials.EnumerateArray()
            .Where(t => !(t.TryGetProperty("trial", out var n) && n.TryGetInt32(out var number) && _sent.Contains(number))).ToList();
        if (fresh.Count == trials.GetArrayLength())
        {
            return message;
        }

        if (fresh.Count == 0)
        {
            return null;
        }

        // Some of the batch was in the snapshot: the rest goes on, in the same message shape.
        var node = JsonNode.Parse(message.Json)!;
        node["data"]!["trials"] = new JsonArray(fresh.Select(t => JsonNode.Parse(t.GetRawText())).ToArray());
        var json = node.ToJsonString();
        using var document = JsonDocument.Parse(json);
        return new RelayedEvent(message.BacktestId, message.Type, json, document.RootElement.Clone());
    }

    public bool Ends(string type) => type == OptimizationEventTypes.Complete;

    private static RelayedEvent Relayed(OptimizationEvent e)
    {
        using var document = JsonDocument.Parse(e.Json);
        return new RelayedEvent(e.OptimizationId, e.Type, e.Json, document.RootElement.Clone());
    }
}

/// <summary>
/// The hub's optimization subscriptions (<c>SubscribeOptimization</c>): one pump per connection and job, sending the
/// snapshot and then the live events to that connection through the client method <c>message</c>.
/// </summary>
public sealed partial class OptimizationSubscriptions(IHubContext<BacktestHub> hub, IClusterClient client, OptimizationEventRelay relay,
    PostgresOptimizationStore store, ILogger<OptimizationSubscriptions> log)
{
    private readonly ConcurrentDictionary<(string Connection, Guid Id), CancellationTokenSource> _pumps = new();

    /// <summary>Starts feeding the connection; returns once the snapshot was sent (a second subscribe changes nothing).</summary>
    public async Task AddAsync(string connectionId, Guid id, CancellationToken connectionAborted)
    {
        var stop = new CancellationTokenSource();
        if (!_pumps.TryAdd((connectionId, id), stop))
        {
            return;
        }

        var snapshotSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var caller = hub.Clients.Client(connectionId);
        _ = Task.Run(async () =>
        {
            try
            {
                await SubscriptionPump.RunAsync(new OptimizationLiveSource(id, client, relay, store),
                    (message, cancellationToken) => caller.SendAsync(BacktestHub.MessageMethod, message.Message, cancellationToken), snapshotSent, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // unsubscribed, or the connection closed
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogPumpFailed(log, e, id);
            }
            finally
            {
                _pumps.TryRemove(new KeyValuePair<(string, Guid), CancellationTokenSource>((connectionId, id), stop));
            }
        }, CancellationToken.None);
        await snapshotSent.Task.WaitAsync(connectionAborted);
    }

    public void Remove(string connectionId, Guid id)
    {
        if (_pumps.TryRemove((connectionId, id), out var stop))
        {
            stop.Cancel();
        }
    }

    public void RemoveConnection(string connectionId)
    {
        foreach (var key in _pumps.Keys.Where(k => k.Connection == connectionId).ToList())
        {
            Remove(key.Connection, key.Id);
        }
    }
}
