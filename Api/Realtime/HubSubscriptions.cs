using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Backtesting.Api.Backtests;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Microsoft.AspNetCore.SignalR;

namespace Backtesting.Api.Realtime;

/// <summary>
/// The hub's live subscriptions, one SignalR group per backtest. Each backtest with local subscribers has one feed:
/// a single task that relays the cluster's events to the group, so each event is serialized once for all its
/// subscribers (a group send) instead of once per connection. Joins, leaves and events go through that one task in
/// order, which is what keeps the contract: a joining connection first gets the current snapshot (sent to it alone),
/// and only then becomes a group member, so every later event reaches it once, after the snapshot, with no gap.
/// </summary>
public sealed partial class HubSubscriptions(IHubContext<BacktestHub> hub, IClusterClient client, BacktestEventRelay relay, ILogger<HubSubscriptions> log)
{
    private readonly IHubContext<BacktestHub> _hub = hub;
    private readonly IClusterClient _client = client;
    private readonly BacktestEventRelay _relay = relay;
    private readonly ILogger _log = log;
    private readonly ConcurrentDictionary<Guid, GroupFeed> _feeds = new();

    /// <summary>Whether this API instance relays the backtest to a SignalR group now (for tests and diagnostics).</summary>
    public bool IsRelaying(Guid backtestId) => _feeds.ContainsKey(backtestId);

    public static string GroupName(Guid backtestId) => "backtest:" + backtestId.ToString("N");

    /// <summary>Sends the snapshot to the connection and makes it a member of the backtest's group; returns once the snapshot was sent.</summary>
    public async Task AddAsync(string connectionId, Guid id, CancellationToken connectionAborted)
    {
        while (true)
        {
            var feed = _feeds.GetOrAdd(id, key => new GroupFeed(this, key));
            feed.EnsureStarted();
            var join = new Join(connectionId, connectionAborted);
            if (!feed.TryPost(join))
            {
                _feeds.TryRemove(new KeyValuePair<Guid, GroupFeed>(id, feed));
                continue; // the feed was ending: a new one takes the join
            }

            if (await join.Done.Task.WaitAsync(connectionAborted))
            {
                return;
            }
        }
    }

    public Task RemoveAsync(string connectionId, Guid id)
    {
        if (_feeds.TryGetValue(id, out var feed))
        {
            feed.TryPost(new Leave(connectionId));
        }

        return Task.CompletedTask;
    }

    public Task RemoveConnectionAsync(string connectionId)
    {
        // SignalR drops a closed connection from its groups itself; the feeds forget it so an empty one can end.
        foreach (var feed in _feeds.Values)
        {
            feed.TryPost(new Leave(connectionId));
        }

        return Task.CompletedTask;
    }

    private abstract record Command;

    private sealed record Join(string ConnectionId, CancellationToken ConnectionAborted) : Command
    {
        /// <summary>True once the snapshot was sent (and the connection joined when the backtest still runs); false
        /// when the feed ended before it could take the join, so the caller tries a new one.</summary>
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Leave(string ConnectionId) : Command;

    private sealed record Event(RelayedEvent Message) : Command;

    /// <summary>The relay's events, queued behind the joins and leaves already in line.</summary>
    private sealed class EventWriter(ChannelWriter<Command> commands) : ChannelWriter<RelayedEvent>
    {
        public override bool TryWrite(RelayedEvent item) => commands.TryWrite(new Event(item));

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => commands.WaitToWriteAsync(cancellationToken);
    }

    private sealed class GroupFeed(HubSubscriptions owner, Guid id)
    {
        private readonly Channel<Command> _commands = Channel.CreateUnbounded<Command>(new UnboundedChannelOptions { SingleReader = true });
        private readonly HashSet<string> _members = [];
        private readonly string _group = GroupName(id);
        private int _started;

        // Connections that joined on a snapshot showing this many processed bars: an older progress event still in
        // line would move them backwards, so it goes to the rest of the group only (still one serialization).
        private readonly Dictionary<string, long> _snapshotBars = [];

        public bool TryPost(Command command) => _commands.Writer.TryWrite(command);

        public void EnsureStarted()
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                _ = Task.Run(RunAsync);
            }
        }

        private IHubClients Clients => owner._hub.Clients;

        private async Task RunAsync()
        {
            var grain = owner._client.GetGrain<IBacktestGrain>(id);
            IAsyncDisposable? subscription = null;
            try
            {
                // Subscribed before any snapshot is read, so nothing falls between a snapshot and the live events.
                subscription = await owner._relay.SubscribeAsync(id, new EventWriter(_commands.Writer), CancellationToken.None);
                var ended = false;
                while (!ended)
                {
                    Command? command;
                    using (var quiet = new CancellationTokenSource(SubscriptionPump.QuietCheck))
                    {
                        try
                        {
                            command = await _commands.Reader.ReadAsync(quiet.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            command = null;
                        }
                    }

                    try
                    {
                        ended = command switch
                        {
                            null => await CheckEndedAsync(grain),
                            Join join => await JoinAsync(grain, join),
                            Leave leave => await LeaveAsync(leave.ConnectionId),
                            Event e => await RelayAsync(e.Message),
                            _ => false,
                        };
                    }
                    catch (Exception e) when (command is null && Problems.IsClusterUnavailable(e))
                    {
                        // the cluster is away for a moment: the members keep waiting for it
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        if (command is Join failed)
                        {
                            failed.Done.TrySetException(e);
                        }

                        LogRelayFailed(owner._log, e, id);
                    }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogFeedFailed(owner._log, e, id);
            }
            finally
            {
                owner._feeds.TryRemove(new KeyValuePair<Guid, GroupFeed>(id, this));
                _commands.Writer.TryComplete();
                foreach (var member in _members)
                {
                    await TryAsync(() => owner._hub.Groups.RemoveFromGroupAsync(member, _group));
                }

                // Joins that came in while this feed ended: their callers try again on a new feed.
                while (_commands.Reader.TryRead(out var left))
                {
                    if (left is Join join)
                    {
                        join.Done.TrySetResult(false);
                    }
                }

                if (subscription is not null)
                {
                    await TryAsync(() => subscription.DisposeAsync().AsTask());
                }
            }
        }

        private async Task<bool> JoinAsync(IBacktestGrain grain, Join join)
        {
            if (join.ConnectionAborted.IsCancellationRequested)
            {
                join.Done.TrySetCanceled(join.ConnectionAborted);
                return _members.Count == 0;
            }

            if (_members.Contains(join.ConnectionId))
            {
                join.Done.TrySetResult(true); // already subscribed
                return false;
            }

            var status = await grain.GetStatus();
            var caller = Clients.Client(join.ConnectionId);
            foreach (var message in Snapshot.Messages(status, DateTime.UtcNow))
            {
                await caller.SendAsync(BacktestHub.MessageMethod, message.Message, join.ConnectionAborted);
            }

            if (status.IsTerminal)
            {
                join.Done.TrySetResult(true); // the snapshot was the whole story
                return _members.Count == 0;
            }

            await owner._hub.Groups.AddToGroupAsync(join.ConnectionId, _group, join.ConnectionAborted);
            _members.Add(join.ConnectionId);
            if (status.Progress is { } progress)
            {
                _snapshotBars[join.ConnectionId] = progress.Progress.ProcessedBars;
            }

            join.Done.TrySetResult(true);
            return false;
        }

        private async Task<bool> LeaveAsync(string connectionId)
        {
            if (_members.Remove(connectionId))
            {
                _snapshotBars.Remove(connectionId);
                await owner._hub.Groups.RemoveFromGroupAsync(connectionId, _group);
            }

            return _members.Count == 0;
        }

        private async Task<bool> RelayAsync(RelayedEvent message)
        {
            if (_members.Count == 0)
            {
                return false; // a join is on its way (the feed starts before its first join arrives)
            }

            var clients = Clients.Group(_group);
            if (message.Type == MessageTypes.Progress && _snapshotBars.Count > 0 && ProcessedBars(message) is { } bars)
            {
                var ahead = _snapshotBars.Where(s => s.Value > bars).Select(s => s.Key).ToList();
                foreach (var caughtUp in _snapshotBars.Where(s => s.Value <= bars).Select(s => s.Key).ToList())
                {
                    _snapshotBars.Remove(caughtUp);
                }

                if (ahead.Count > 0)
                {
                    clients = Clients.GroupExcept(_group, ahead);
                }
            }

            await clients.SendAsync(BacktestHub.MessageMethod, message.Message);
            return message.Type == MessageTypes.Complete;
        }

        /// <summary>
        /// Streamed events are hints (a memory stream can lose them, and the completion can pass before the
        /// subscription is in place): after a quiet while, the grain says whether the backtest ended, and if so its
        /// final messages go to the group from the authoritative state.
        /// </summary>
        private async Task<bool> CheckEndedAsync(IBacktestGrain grain)
        {
            if (_members.Count == 0)
            {
                return true; // nobody joined after all
            }

            var current = await grain.GetStatus();
            if (!current.IsTerminal)
            {
                return false;
            }

            foreach (var message in Snapshot.Messages(current, DateTime.UtcNow))
            {
                await Clients.Group(_group).SendAsync(BacktestHub.MessageMethod, message.Message);
            }

            return true;
        }

        private static long? ProcessedBars(RelayedEvent message) =>
            message.Message.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            && data.TryGetProperty("progress", out var progress) && progress.ValueKind == JsonValueKind.Object
            && progress.TryGetProperty("processedBars", out var bars) && bars.TryGetInt64(out var value)
                ? value
                : null;

        private async Task TryAsync(Func<Task> action)
        {
            try
            {
                await action();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogCleanupFailed(owner._log, e, id);
            }
        }
    }
}
