using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Backtesting.Grains.Interfaces;
using Orleans.Streams;

namespace Backtesting.Api.Realtime;

/// <summary>
/// One event as clients receive it: the seed's message as text, as UTF-8 bytes and parsed, each made once
/// for all subscribers (WebSockets send the same bytes to every socket; SignalR sends the element once per group).
/// </summary>
/// <param name="BacktestId">The stream's key: the backtest's id, or the optimization's.</param>
public sealed record RelayedEvent(Guid BacktestId, string Type, string Json, JsonElement Message)
{
    public ReadOnlyMemory<byte> Utf8 { get; } = Encoding.UTF8.GetBytes(Json);
}

/// <summary>
/// Relays one namespace of the cluster's event streams (a backtest's, an optimization's) to this API instance's
/// subscribers (SignalR connections, WebSockets). One explicit stream subscription per key, shared by every local
/// subscriber of it and dropped with the last one. After the client reconnects to the cluster, every live
/// subscription is made again. A subclass names the namespace and reads its event type.
/// </summary>
public abstract class StreamRelay<TEvent>(IClusterClient client, ILogger log)
{
    private readonly ConcurrentDictionary<Guid, Feed> _feeds = new();
    private readonly ILogger _log = log;

    /// <summary>The stream namespace (the key is the backtest's or the job's id).</summary>
    protected abstract string Namespace { get; }

    /// <summary>An event's type and JSON message, as clients receive it.</summary>
    protected abstract (string Type, string Json) Read(TEvent item);

    /// <summary>Number of streams with at least one local subscriber (for tests and diagnostics).</summary>
    public int ActiveFeeds => _feeds.Count(f => !f.Value.Subscribers.IsEmpty);

    /// <summary>Starts delivering the stream's events to <paramref name="subscriber"/> until the result is disposed.</summary>
    public async Task<IAsyncDisposable> SubscribeAsync(Guid key, ChannelWriter<RelayedEvent> subscriber, CancellationToken cancellationToken)
    {
        while (true)
        {
            var feed = _feeds.GetOrAdd(key, id => new Feed(this, id));
            await feed.Gate.WaitAsync(cancellationToken);
            try
            {
                if (feed.Retired)
                {
                    continue; // removed while we waited: take the new one
                }

                feed.Handle ??= await Stream(key).SubscribeAsync(feed);
                feed.Subscribers = feed.Subscribers.Add(subscriber);
            }
            finally
            {
                feed.Gate.Release();
            }

            return new Subscription(this, feed, subscriber);
        }
    }

    /// <summary>Makes every live subscription again: called when the client has reconnected to the cluster.</summary>
    public async Task ResubscribeAllAsync()
    {
        foreach (var feed in _feeds.Values)
        {
            await feed.Gate.WaitAsync();
            try
            {
                if (feed.Retired || feed.Subscribers.IsEmpty)
                {
                    continue;
                }

                // The subscription itself is durable (pub-sub keeps it in PostgreSQL under this client's identity):
                // attaching the observer to it again leaves no gap. Only when that fails is a new one made.
                if (feed.Handle is not null)
                {
                    try
                    {
                        feed.Handle = await feed.Handle.ResumeAsync(feed);
                        continue;
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        RelayLog.ResumeFailed(_log, e, Namespace, feed.Id);
                    }

                    try
                    {
                        await feed.Handle.UnsubscribeAsync();
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        RelayLog.DropFailed(_log, e, Namespace, feed.Id);
                    }
                }

                feed.Handle = await Stream(feed.Id).SubscribeAsync(feed);
                RelayLog.Resubscribed(_log, Namespace, feed.Id);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                feed.Handle = null;
                RelayLog.ResubscribeFailed(_log, e, Namespace, feed.Id);
            }
            finally
            {
                feed.Gate.Release();
            }
        }
    }

    private IAsyncStream<TEvent> Stream(Guid id) =>
        client.GetStreamProvider(StreamNames.Provider).GetStream<TEvent>(StreamId.Create(Namespace, id));

    private async Task RemoveAsync(Feed feed, ChannelWriter<RelayedEvent> subscriber)
    {
        await feed.Gate.WaitAsync();
        try
        {
            feed.Subscribers = feed.Subscribers.Remove(subscriber);
            if (!feed.Subscribers.IsEmpty)
            {
                return;
            }

            feed.Retired = true;
            _feeds.TryRemove(new KeyValuePair<Guid, Feed>(feed.Id, feed));
            if (feed.Handle is { } handle)
            {
                feed.Handle = null;
                try
                {
                    await handle.UnsubscribeAsync();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    RelayLog.UnsubscribeFailed(_log, e, Namespace, feed.Id);
                }
            }
        }
        finally
        {
            feed.Gate.Release();
        }
    }

    private sealed class Feed(StreamRelay<TEvent> relay, Guid id) : IAsyncObserver<TEvent>
    {
        public Guid Id { get; } = id;
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public ImmutableArray<ChannelWriter<RelayedEvent>> Subscribers { get; set; } = [];
        public StreamSubscriptionHandle<TEvent>? Handle { get; set; }
        public bool Retired { get; set; }

        public Task OnNextAsync(TEvent item, StreamSequenceToken? token = null)
        {
            var (type, json) = relay.Read(item);
            JsonElement message;
            try
            {
                using var document = JsonDocument.Parse(json);
                message = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                RelayLog.NotJson(relay._log, e, relay.Namespace, Id);
                return Task.CompletedTask;
            }

            var relayed = new RelayedEvent(Id, type, json, message);
            foreach (var subscriber in Subscribers)
            {
                subscriber.TryWrite(relayed);
            }

            return Task.CompletedTask;
        }

        public Task OnCompletedAsync() => Task.CompletedTask;

        public Task OnErrorAsync(Exception ex)
        {
            RelayLog.StreamFailed(relay._log, ex, relay.Namespace, Id);
            return Task.CompletedTask;
        }
    }

    private sealed class Subscription(StreamRelay<TEvent> relay, Feed feed, ChannelWriter<RelayedEvent> subscriber) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await relay.RemoveAsync(feed, subscriber);
            }
        }
    }
}
